// Package testenv starts real backends (Prometheus, Alertmanager, Loki)
// for end-to-end tests: on 127.0.0.1, on free ports, in temporary directories, stopped when
// the test ends. A missing binary fails the test with the command that
// installs it; it never skips, so a green run always means the test ran.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/childproc"
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
	// OpenMetricsFiles are files already written (each ending in # EOF),
	// backfilled one after another: a benchmark's gigabyte of series is
	// streamed to disk, not held in memory, and promtool, which reads its
	// whole input once per block, reads small files faster.
	OpenMetricsFiles []string
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
	// Binary and Promtool are the programs to run; empty means the Debian
	// Prometheus 2.42 and its promtool ($TOLLGATE_PROMETHEUS,
	// $TOLLGATE_PROMTOOL, PATH). Prometheus3 sets both to Prometheus 3.
	Binary, Promtool string
	// ExternalLabels are the server's global external labels (what a
	// Thanos sidecar announces for its "cluster").
	ExternalLabels map[string]string
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
	prom := opts.Binary
	if prom == "" {
		prom = Binary(t, "TOLLGATE_PROMETHEUS", "prometheus")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if len(opts.OpenMetrics) > 0 {
		om := filepath.Join(dir, "backfill.om")
		if err := os.WriteFile(om, opts.OpenMetrics, 0o600); err != nil {
			t.Fatal(err)
		}
		backfill(t, opts, om, data)
	}
	for _, om := range opts.OpenMetricsFiles {
		backfill(t, opts, om, data)
	}
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(prometheusConfig(t, opts, dir)), 0o600); err != nil {
		t.Fatal(err)
	}

	var url string
	startServer(t, "prometheus", prom, dir, 60*time.Second, func() ([]string, string) {
		addr := FreeAddr(t)
		url = "http://" + addr
		return append([]string{
			"--config.file=" + cfgPath,
			"--storage.tsdb.path=" + data,
			"--storage.tsdb.retention.time=30d",
			"--web.listen-address=" + addr,
			"--web.enable-admin-api",
			"--log.level=warn",
		}, opts.Args...), url + "/-/ready"
	})
	return &Prometheus{URL: url, Dir: dir}
}

// backfill writes the OpenMetrics file om into TSDB blocks under data
// with promtool.
func backfill(t testing.TB, opts PrometheusOptions, om, data string) {
	t.Helper()
	tool := opts.Promtool
	if tool == "" {
		tool = Binary(t, "TOLLGATE_PROMTOOL", "promtool")
	}
	out, err := exec.Command(tool, "tsdb", "create-blocks-from", "openmetrics", om, data).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool backfill: %v\n%s", err, out)
	}
}

// prometheusConfig is the configuration file: evaluation interval, external
// labels, rule files (opts.Rules is written into dir) and Alertmanagers.
func prometheusConfig(t testing.TB, opts PrometheusOptions, dir string) string {
	t.Helper()
	interval := opts.EvaluationInterval
	if interval == 0 {
		interval = time.Second
	}
	cfg := fmt.Sprintf("global:\n  evaluation_interval: %s\n  scrape_interval: 1m\n", interval)
	if len(opts.ExternalLabels) > 0 {
		cfg += "  external_labels:\n"
		for _, k := range slices.Sorted(maps.Keys(opts.ExternalLabels)) {
			cfg += "    " + strconv.Quote(k) + ": " + strconv.Quote(opts.ExternalLabels[k]) + "\n"
		}
	}
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
	return cfg
}

// startServer starts a backend process in dir, waits until its readiness
// URL answers 200, and stops it (SIGTERM, then SIGKILL of its process group)
// when the test ends. Its output is shown only when the test failed.
//
// launch returns the arguments and readiness URL, built from ports chosen
// by the call: a port is free when chosen but may be taken (by another
// test's server, or an outgoing connection's ephemeral port) before the
// server binds it, so a server that exits with "address already in use" is
// launched again, with new ports, up to three times.
func startServer(t testing.TB, name, bin, dir string, timeout time.Duration, launch func() (args []string, readyURL string)) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		args, readyURL := launch()
		err := tryStartServer(t, name, bin, args, dir, readyURL, timeout)
		if err == nil {
			return
		}
		if !errors.Is(err, errPortTaken) || attempt == 3 {
			t.Fatal(err)
		}
		t.Logf("%s: %v; starting it again on other ports", name, err)
	}
}

// errPortTaken: a port was taken between choosing and binding it.
var errPortTaken = errors.New("a port chosen for it was taken before it bound it")

func tryStartServer(t testing.TB, name, bin string, args []string, dir, readyURL string, timeout time.Duration) error {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	// A backend never outlives a test binary that crashed (childproc's
	// Pdeathsig).
	p, err := childproc.Start(cmd, childproc.Options{Name: name})
	if err != nil {
		return fmt.Errorf("starting %s: %w", name, err)
	}
	// The cleanup waits for the exit, which childproc sees even when the
	// process died before it was ready: it never waits until the test
	// binary times out.
	t.Cleanup(func() {
		_ = p.Stop(10 * time.Second)
		if t.Failed() {
			t.Logf("%s log:\n%s", name, p.Output())
		}
	})
	if err := waitReady(readyURL, p, timeout); err != nil {
		if strings.Contains(p.Output(), "address already in use") {
			return fmt.Errorf("%s: %w", name, errPortTaken)
		}
		return fmt.Errorf("%s did not become ready: %w\n%s", name, err, p.Output())
	}
	return nil
}

// FreeAddr returns a loopback address with a port that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return "127.0.0.1:" + strconv.Itoa(freePort(t))
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	port, err := childproc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// waitReady polls url until it answers 200.
func waitReady(url string, p *childproc.Process, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last error
	probe := func(ctx context.Context) bool {
		ready, _, err := childproc.ProbeHTTP(ctx, http.DefaultClient, url)
		last = err
		return ready
	}
	switch err := p.WaitReady(ctx, 100*time.Millisecond, probe, 0, nil); {
	case errors.Is(err, childproc.ErrExited):
		return fmt.Errorf("process exited: %v", p.Err())
	case err != nil:
		return fmt.Errorf("%s not ready after %s (last error: %v)", url, timeout, last)
	}
	return nil
}
