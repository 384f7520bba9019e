package promserver

import "testing"

func TestReleaseVersion(t *testing.T) {
	for module, want := range map[string]string{
		"v0.312.1-0.20260612131846-2ad3a8717015": "3.12.1-0.20260612131846-2ad3a8717015",
		"v0.305.0":                               "3.5.0",
		"v0.53.1":                                "0.53.1",
		"(devel)":                                "(devel)",
	} {
		if got := releaseVersion(module); got != want {
			t.Errorf("releaseVersion(%q) = %q, want %q", module, got, want)
		}
	}
}
