package yamlcheck_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/yamlcheck"
)

// A directory in a CI checkout: specs at two depths, a .git folder and an
// editor's dotfile holding YAML, and files of other types.
func TestFilesSkipsDotEntriesAndOtherTypes(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"b.yaml", "a/c.yml", "a/readme.md", ".git/config.yaml", ".draft.yaml", "a/.hidden/x.yaml"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x: 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := yamlcheck.Files(dir, "SLO specs")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "a/c.yml"), filepath.Join(dir, "b.yaml")}
	if !slices.Equal(got, want) {
		t.Errorf("Files = %v, want %v", got, want)
	}
	// A file named on the command line is read whatever its name.
	one := filepath.Join(dir, "a/readme.md")
	if got, err := yamlcheck.Files(one, "SLO specs"); err != nil || !slices.Equal(got, []string{one}) {
		t.Errorf("Files(file) = %v, %v", got, err)
	}
	if _, err := yamlcheck.Files(filepath.Join(dir, "missing"), "SLO specs"); err == nil || !strings.HasPrefix(err.Error(), "SLO specs: ") {
		t.Errorf("a missing path: %v, want an error naming what was read", err)
	}
}
