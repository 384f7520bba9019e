package demo

import (
	"testing"
	"time"
)

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

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		6 * time.Hour:                "6h",
		90 * time.Minute:             "1h30m",
		30 * time.Second:             "30s",
		5 * time.Minute:              "5m",
		time.Hour + 10*time.Second:   "1h0m10s",
		50 * time.Millisecond:        "50ms",
		10 * time.Minute:             "10m",
		2*time.Hour + 30*time.Second: "2h0m30s",
	} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%s) = %q, want %q", d, got, want)
		}
	}
}
