// Package slothsrc locates the source of the pinned Sloth module, whose
// examples and golden files the SLO tests compare against, and the real
// Sloth binary built from it.
package slothsrc

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Module is the Sloth module the generator is compatible with.
const Module = "github.com/slok/sloth"

// Dir returns the directory of the pinned Sloth module in the module
// cache, downloading it if needed. It fails the test when it cannot.
func Dir(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", Module).Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		if dl, err := exec.Command("go", "mod", "download", Module).CombinedOutput(); err != nil {
			t.Fatalf("downloading %s (needed for its golden files): %v\n%s", Module, err, dl)
		}
		out, err = exec.Command("go", "list", "-m", "-f", "{{.Dir}}", Module).Output()
		dir = strings.TrimSpace(string(out))
	}
	if err != nil || dir == "" {
		t.Fatalf("locating %s in the module cache: %v", Module, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "examples")); err != nil {
		t.Fatalf("%s has no examples: %v", dir, err)
	}
	return dir
}

// BinaryEnv names the environment variable that points the tests at a
// Sloth binary of the user's choice.
const BinaryEnv = "TOLLGATE_SLOTH"

// Version is the Sloth release the generator is compatible with, which
// `make sloth` builds.
const Version = "v0.16.0"

// Binary returns the real Sloth: $TOLLGATE_SLOTH, else the copy `make
// sloth` (and `make deps`) builds into .cache/bin of this repository. It
// fails the test when there is none, or when it is not Version.
func Binary(t testing.TB) string {
	t.Helper()
	bin := os.Getenv(BinaryEnv)
	if bin == "" {
		_, file, _, _ := runtime.Caller(0)
		bin = filepath.Join(filepath.Dir(file), "..", "..", "..", ".cache", "bin", "sloth")
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("the real Sloth is not built: run `make sloth` (it builds Sloth %s into .cache/bin/sloth), or set %s", Version, BinaryEnv)
		}
	}
	out, err := exec.Command(bin, "version").Output()
	if got := strings.TrimSpace(string(out)); err != nil || got != Version {
		t.Fatalf("%s version = %q (%v), want %s: run `make sloth`", bin, got, err, Version)
	}
	return bin
}
