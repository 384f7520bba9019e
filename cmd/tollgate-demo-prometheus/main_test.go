package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunRefusesBadArguments(t *testing.T) {
	dir := t.TempDir()
	badCluster := filepath.Join(dir, "cluster.json")
	if err := os.WriteFile(badCluster, []byte(`{"Name":"empty"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "--data-dir is required"},
		{[]string{"--data-dir", dir, "extra"}, `unexpected arguments ["extra"]`},
		{[]string{"--data-dir", dir, "--log-level", "loud"}, `--log-level "loud"`},
		{[]string{"--data-dir", dir, "--cluster", filepath.Join(dir, "missing.json")}, "reading the synthetic cluster"},
		{[]string{"--data-dir", dir, "--cluster", badCluster}, "has no namespaces"},
		{[]string{"--data-dir", dir, "--step", "0s"}, "step 0s"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(t.Context(), c.args, strings.NewReader(""), &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one saying %q", c.args, err, c.want)
		}
		if stdout.Len() > 0 {
			t.Errorf("%q: announced %q although it did not start", c.args, stdout.String())
		}
	}
}
