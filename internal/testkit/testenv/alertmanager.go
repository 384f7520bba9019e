package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Alertmanager is a running Alertmanager.
type Alertmanager struct {
	// URL is its base URL; Addr its host:port, as Prometheus is told.
	URL  string
	Addr string
	Dir  string
}

// AlertmanagerOptions configure StartAlertmanager.
type AlertmanagerOptions struct {
	// Config is the content of alertmanager.yml.
	Config string
	// Args are extra command-line flags.
	Args []string
}

// AlertmanagerBinary finds Alertmanager: $TOLLGATE_ALERTMANAGER, then
// Debian's prometheus-alertmanager, then alertmanager on PATH. A missing
// one fails the test with the command that installs it.
func AlertmanagerBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("TOLLGATE_ALERTMANAGER"); p != "" {
		return p
	}
	for _, name := range []string{"prometheus-alertmanager", "alertmanager"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatalf("Alertmanager is not installed: run `make deps` (Debian package prometheus-alertmanager), or set TOLLGATE_ALERTMANAGER")
	return ""
}

// StartAlertmanager starts a single Alertmanager (clustering off) and waits
// until it is ready. It is stopped when the test ends.
func StartAlertmanager(t testing.TB, opts AlertmanagerOptions) *Alertmanager {
	t.Helper()
	bin := AlertmanagerBinary(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfgPath, []byte(opts.Config), 0o600); err != nil {
		t.Fatal(err)
	}
	var addr, url string
	startServer(t, "alertmanager", bin, dir, 60*time.Second, func() ([]string, string) {
		addr = FreeAddr(t)
		url = "http://" + addr
		return append([]string{
			"--config.file=" + cfgPath,
			"--storage.path=" + filepath.Join(dir, "data"),
			"--web.listen-address=" + addr,
			// An empty address turns the gossip cluster off: one instance, no
			// port 9094 shared between parallel tests.
			"--cluster.listen-address=",
			"--log.level=warn",
		}, opts.Args...), url + "/-/ready"
	})
	return &Alertmanager{URL: url, Addr: addr, Dir: dir}
}
