package testenv

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// HelmBinary finds the real Helm the chart tests run: $TOLLGATE_HELM, then
// the copy `make deps` (or `make helm`) builds into .cache/bin of the
// repository from the pinned module in tools/helm.
func HelmBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("TOLLGATE_HELM"); p != "" {
		return p
	}
	_, file, _, ok := runtime.Caller(0)
	if ok {
		p := filepath.Join(filepath.Dir(file), "..", "..", "..", ".cache", "bin", "helm")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("Helm is not built: run `make helm` (it builds Helm v3.22.0 into .cache/bin/helm), or set TOLLGATE_HELM")
	return ""
}
