package demo_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/demo"
)

// fakeRepo lays out a checkout with go.mod and bin/, and returns its root.
func fakeRepo(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"internal/demo", "bin", ".cache/bin"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(root, "go.mod"), "module example.com/x\n", 0o644)
	return root
}

func writeFile(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestFindLoki(t *testing.T) {
	root := fakeRepo(t)
	built := filepath.Join(root, ".cache", "bin", "loki")
	writeFile(t, built, "#!/bin/sh\n", 0o755)
	elsewhere := t.TempDir()
	mine := filepath.Join(elsewhere, "my-loki")
	writeFile(t, mine, "#!/bin/sh\n", 0o755)

	for _, c := range []struct {
		name   string
		lookup demo.LokiLookup
		want   string
	}{
		{"from a subdirectory of the checkout", demo.LokiLookup{Workdir: filepath.Join(root, "internal", "demo")}, built},
		{"from the root of the checkout", demo.LokiLookup{Workdir: root}, built},
		{"bin/tollgate run from elsewhere", demo.LokiLookup{Workdir: elsewhere, Executable: filepath.Join(root, "bin", "tollgate")}, built},
		{"TOLLGATE_LOKI first", demo.LokiLookup{Getenv: env(map[string]string{demo.LokiEnv: mine}), Workdir: root}, mine},
		{"empty TOLLGATE_LOKI is unset", demo.LokiLookup{Getenv: env(map[string]string{demo.LokiEnv: ""}), Workdir: root}, built},
	} {
		got, err := demo.FindLoki(c.lookup)
		if err != nil || got != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.name, got, err, c.want)
		}
	}
}

func TestFindLokiNotFound(t *testing.T) {
	root := fakeRepo(t)
	for name, l := range map[string]demo.LokiLookup{
		"nothing to look in": {},
		"not built":          {Workdir: root, Executable: filepath.Join(root, "bin", "tollgate")},
		"outside a module":   {Workdir: t.TempDir()},
	} {
		if got, err := demo.FindLoki(l); !errors.Is(err, demo.ErrLokiNotFound) {
			t.Errorf("%s: got %q, %v; want ErrLokiNotFound", name, got, err)
		}
	}
	// A file that cannot be run is not a Loki.
	writeFile(t, filepath.Join(root, ".cache", "bin", "loki"), "", 0o644)
	if got, err := demo.FindLoki(demo.LokiLookup{Workdir: root}); !errors.Is(err, demo.ErrLokiNotFound) {
		t.Errorf("non-executable .cache/bin/loki: got %q, %v; want ErrLokiNotFound", got, err)
	}
	if !strings.Contains(demo.ErrLokiNotFound.Error(), "make loki") {
		t.Errorf("ErrLokiNotFound does not say how to build Loki: %v", demo.ErrLokiNotFound)
	}
}

// A TOLLGATE_LOKI that names nothing runnable is an error, not a reason to
// quietly run another Loki or none.
func TestFindLokiBadEnv(t *testing.T) {
	root := fakeRepo(t)
	writeFile(t, filepath.Join(root, ".cache", "bin", "loki"), "#!/bin/sh\n", 0o755)
	for _, p := range []string{filepath.Join(root, "missing"), root} {
		_, err := demo.FindLoki(demo.LokiLookup{Getenv: env(map[string]string{demo.LokiEnv: p}), Workdir: root})
		if err == nil || errors.Is(err, demo.ErrLokiNotFound) || !strings.Contains(err.Error(), demo.LokiEnv+"="+p) {
			t.Errorf("%s=%s: got %v, want an error naming it", demo.LokiEnv, p, err)
		}
	}
}
