package demo_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/demo"
)

// The demo's Prometheus is a program of its own. The tests build it once
// per test binary, from this checkout, so that they never run a stale copy
// from bin/; the go build cache makes later runs cheap.

var (
	binDir      string
	buildOnce   sync.Once
	builtBinary string
	buildErr    error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tollgate-demo-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "creating a directory for the demo Prometheus:", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// prometheusBinary returns the demo Prometheus, built on first use.
func prometheusBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		out := filepath.Join(binDir, demo.PrometheusBinaryName)
		// go test puts its own go first on PATH.
		cmd := exec.Command("go", "build", "-o", out, "github.com/tollgate-dev/tollgate/cmd/"+demo.PrometheusBinaryName)
		// The build's scratch space must not land in a test's TMPDIR,
		// whose emptiness some tests check.
		cmd.Env = append(os.Environ(), "TMPDIR="+binDir)
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building the demo Prometheus: %v\n%s", err, b)
			return
		}
		builtBinary = out
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBinary
}
