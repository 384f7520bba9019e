// Package slothsrc locates the source of the pinned Sloth module, whose
// examples and golden files the SLO tests compare against.
package slothsrc

import (
	"os"
	"os/exec"
	"path/filepath"
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
