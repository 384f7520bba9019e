// Package testenv starts real backends (Prometheus, Alertmanager, Loki)
// for end-to-end tests: on 127.0.0.1, on free ports, in temporary directories, stopped when
// the test ends. A missing binary fails the test with the command that
// installs it; it never skips, so a green run always means the test ran.
package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Prometheus is a running Prometheus server.
type Prometheus struct {
	URL string
	Dir string
}

// PrometheusOptions configure StartPrometheus.
type PrometheusOptions struct {
	// OpenMetrics, if set, is backfilled with promtool into the TSDB before
	// the server starts.
	OpenMetrics []byte
	// Rules is the content of a rule file (Prometheus rule-file YAML).
	Rules string
	// RuleFiles are paths of more rule files to load.
	RuleFiles []string
	// Alertmanagers are host:port addresses of Alertmanagers to send
	// alerts to.
	Alertmanagers []string
	// EvaluationInterval of the rules (default 1s, so alerts appear fast).
	EvaluationInterval time.Duration
	// Args are extra command-line flags.
	Args []string
}

// Binary finds a program by environment variable, then on PATH. It fails
// the test with the install command when the program is missing.
func Binary(t testing.TB, envVar, name string) string {
	t.Helper()
	if p := os.Getenv(envVar); p != "" {
		return p
	}
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: run `make deps` (or set %s to its path)", name, envVar)
	}
	return p
}

// StartPrometheus backfills data, starts Prometheus and waits until it is
// ready. It is stopped when the test ends.
func StartPrometheus(t testing.TB, opts PrometheusOptions) *Prometheus {
	t.Helper()
	prom := Binary(t, "TOLLGATE_PROMETHEUS", "prometheus")
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if len(opts.OpenMetrics) > 0 {
		tool := Binary(t, "TOLLGATE_PROMTOOL", "promtool")
		om := filepath.Join(dir, "backfill.om")
		if err := os.WriteFile(om, opts.OpenMetrics, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(tool, "tsdb", "create-blocks-from", "openmetrics", om, data).CombinedOutput()
		if err != nil {
			t.Fatalf("promtool backfill: %v\n%s", err, out)
		}
	}
	interval := opts.EvaluationInterval
	if interval == 0 {
		interval = time.Second
	}
	cfg := fmt.Sprintf("global:\n  evaluation_interval: %s\n  scrape_interval: 1m\n", interval)
	ruleFiles := slices.Clone(opts.RuleFiles)
	if opts.Rules != "" {
		if err := os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(opts.Rules), 0o600); err != nil {
			t.Fatal(err)
		}
		ruleFiles = append(ruleFiles, "rules.yml")
	}
	if len(ruleFiles) > 0 {
		cfg += "rule_files:\n"
		for _, f := range ruleFiles {
			cfg += "  - " + strconv.Quote(f) + "\n"
		}
	}
	if len(opts.Alertmanagers) > 0 {
		cfg += "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets:\n"
		for _, a := range opts.Alertmanagers {
			cfg += "            - " + strconv.Quote(a) + "\n"
		}
	}
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	addr := FreeAddr(t)
	args := append([]string{
		"--config.file=" + cfgPath,
		"--storage.tsdb.path=" + data,
		"--storage.tsdb.retention.time=30d",
		"--web.listen-address=" + addr,
		"--web.enable-admin-api",
		"--log.level=warn",
	}, opts.Args...)
	url := "http://" + addr
	startServer(t, "prometheus", prom, args, dir, url+"/-/ready", 60*time.Second)
	return &Prometheus{URL: url, Dir: dir}
}

// startServer starts a backend process in dir, waits until readyURL answers
// 200, and stops it (SIGTERM, then SIGKILL of its process group) when the
// test ends. Its output is shown only when the test failed.
func startServer(t testing.TB, name, bin string, args []string, dir, readyURL string, timeout time.Duration) {
	t.Helper()
	logs := &syncBuffer{}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logs, logs
	// Pdeathsig: a backend never outlives a test binary that crashed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	// exited is closed, not sent on, so that both the readiness wait and
	// the cleanup see it: a process that died before it was ready must not
	// leave the cleanup waiting until the test binary times out.
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", name, logs.String())
		}
	})
	if err := waitReady(readyURL, exited, &waitErr, timeout); err != nil {
		t.Fatalf("%s did not become ready: %v\n%s", name, err, logs.String())
	}
}

// syncBuffer collects a process's output, which exec copies in its own
// goroutines while the test may read it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// FreeAddr returns a loopback address with a port that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return "127.0.0.1:" + strconv.Itoa(freePort(t))
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitReady polls url until it answers 200. waitErr is read only once
// exited is closed.
func waitReady(url string, exited <-chan struct{}, waitErr *error, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("process exited: %v", *waitErr)
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %s (last error: %v)", url, timeout, err)
		case <-tick.C:
		}
	}
}
