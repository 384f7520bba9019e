package atomicfile_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/atomicfile"
)

func TestWriteReplacesWhole(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "rules.yml")
	if err := os.WriteFile(p, []byte("old content that is longer than the new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Write(p, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil || string(got) != "new" {
		t.Fatalf("content %q, %v", got, err)
	}
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v, %v: Prometheus and Grafana run as other users and must read it", st.Mode(), err)
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Errorf("left behind: %v", names)
	}
}

func TestWriteFailureLeavesOldFileAndNoTemporary(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "rules.yml")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A directory where the file should be: the rename fails after the
	// temporary file was written.
	target := filepath.Join(dir, "taken")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := atomicfile.Write(target, []byte("new"), 0o644)
	if err == nil || !strings.Contains(err.Error(), "writing "+target) {
		t.Fatalf("error %v, want one naming %s", err, target)
	}
	if names := dirNames(t, dir); len(names) != 2 {
		t.Errorf("a temporary file was left behind: %v", names)
	}
	if got, _ := os.ReadFile(p); string(got) != "old" {
		t.Errorf("an unrelated file changed: %q", got)
	}

	// A file where a directory should be.
	if err := atomicfile.Write(filepath.Join(p, "f"), nil, 0o644); err == nil || !strings.Contains(err.Error(), "writing "+filepath.Join(p, "f")) {
		t.Errorf("file as directory: %v", err)
	}
}

func TestWriteCreatesDirectories(t *testing.T) {
	p := filepath.Join(t.TempDir(), "rules", "team", "payments.yml")
	if err := atomicfile.Write(p, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(p); err != nil || string(got) != "x" {
		t.Errorf("content %q, %v", got, err)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}
