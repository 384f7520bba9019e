package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/demo/lokiserver"
)

// Loki is a running Loki server.
type Loki struct {
	URL string
	Dir string
}

// LokiBinary finds the Loki server: $TOLLGATE_LOKI, then the copy `make
// deps` builds into .cache/bin of the repository, then PATH. (Debian's
// "loki" package is an unrelated genetics tool, so PATH comes last.)
func LokiBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("TOLLGATE_LOKI"); p != "" {
		return p
	}
	if p := RepoLoki(); p != "" {
		return p
	}
	t.Fatalf("the Loki server is not built: run `make deps` (it builds Loki v3.7.8 into .cache/bin/loki), or set TOLLGATE_LOKI")
	return ""
}

// RepoLoki returns the path of .cache/bin/loki in this repository, or "" if
// it is not there.
func RepoLoki() string { return RepoBin("loki") }

// RepoBin returns the path of .cache/bin/<name> in this repository (where
// `make deps` builds the backends that Debian does not package), or "" if
// it is not there.
func RepoBin(name string) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	p := filepath.Join(filepath.Dir(file), "..", "..", "..", ".cache", "bin", name)
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// CacheBinary finds a program that `make deps` builds: $envVar, then
// .cache/bin/<name>. It fails the test with the make target that builds it.
func CacheBinary(t testing.TB, envVar, name, target string) string {
	t.Helper()
	if p := os.Getenv(envVar); p != "" {
		return p
	}
	if p := RepoBin(name); p != "" {
		return p
	}
	t.Fatalf("%s is not built: run `make deps` (or `make %s`; it builds into .cache/bin/%s), or set %s", name, target, name, envVar)
	return ""
}

// StartLoki starts Loki and waits until it is ready. It is stopped when the
// test ends.
func StartLoki(t testing.TB) *Loki {
	t.Helper()
	bin := LokiBinary(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "loki.yaml")
	l := &Loki{Dir: dir}
	startServer(t, "loki", bin, dir, 90*time.Second, func() ([]string, string) {
		httpPort, grpcPort := freePort(t), freePort(t)
		if err := os.WriteFile(cfgPath, []byte(lokiserver.Config(dir, httpPort, grpcPort)), 0o600); err != nil {
			t.Fatal(err)
		}
		l.URL = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
		return []string{"-config.file=" + cfgPath}, l.URL + "/ready"
	})
	return l
}
