package codestyle_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/codestyle"
)

// TestModule holds the whole module to the rules: each finding is named
// with its file and line.
func TestModule(t *testing.T) {
	root := moduleRoot(t)
	findings, err := codestyle.Check(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		t.Error(f)
	}
}

// TestFindsBreaches runs the check over a fixture with one of each breach
// and as many look-alikes that are allowed, so that TestModule cannot pass
// by finding nothing.
func TestFindsBreaches(t *testing.T) {
	findings, err := codestyle.Check(filepath.Join("testdata", "breaches"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range findings {
		got = append(got, f.String())
	}
	// In Check's order: by file, then line.
	want := []string{
		"a.go:9: exported package-level variable Buckets is a slice that any importer can change: make it a function, or unexported with an accessor",
		"a.go:12: exported package-level variable Params is a slice that any importer can change: make it a function, or unexported with an accessor",
		"a.go:15: exported package-level variable Weights is a map that any importer can change: make it a function, or unexported with an accessor",
		"a.go:17: exported package-level variable Names is a slice that any importer can change: make it a function, or unexported with an accessor",
		"a.go:17: exported package-level variable Made is a map that any importer can change: make it a function, or unexported with an accessor",
		"a.go:22: exported package-level variable Aggregate is a slice that any importer can change: make it a function, or unexported with an accessor",
		"a.go:25: exported package-level variable Chained is a map that any importer can change: make it a function, or unexported with an accessor",
		"long.go:5: function long is 101 lines, over 100: split it at its phases (help texts become constants)",
		"long.go:210: function T.method is 102 lines, over 100: split it at its phases (help texts become constants)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n%q\nwant:\n%q", got, want)
	}
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
