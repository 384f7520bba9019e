package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/internal/childproc"
	"github.com/tollgate-dev/tollgate/internal/demo/synth"
)

// PrometheusOptions configure the demo's Prometheus.
type PrometheusOptions struct {
	// Binary is the demo Prometheus server to run (FindPrometheus):
	// cmd/tollgate-demo-prometheus, which `make demo` builds next to
	// bin/tollgate.
	Binary string
	// Cluster is the synthetic cluster whose metrics it holds.
	Cluster synth.Cluster
	// History is how far back the synthetic samples go at startup.
	History time.Duration
	// Step is the spacing of the samples, backfilled and live.
	Step time.Duration
	// RuleInterval is the evaluation interval of the demo rules.
	RuleInterval time.Duration
	// CoarseHistory, when longer than History, is loaded before it at
	// CoarseStep (default a week at 5m), so that the cost engine has a
	// week to allocate for a fraction of the samples.
	CoarseHistory time.Duration
	CoarseStep    time.Duration
	// ReadyTimeout bounds the wait for the server to load its history and
	// answer; StopTimeout the wait for it to exit after SIGTERM, before it
	// is killed.
	ReadyTimeout time.Duration
	StopTimeout  time.Duration
	Logger       *slog.Logger
}

// Defaults for PrometheusOptions left zero.
const (
	DefaultCoarseHistory          = 7 * 24 * time.Hour
	DefaultCoarseStep             = 5 * time.Minute
	DefaultPrometheusReadyTimeout = 2 * time.Minute
	DefaultPrometheusStopTimeout  = 10 * time.Second
)

// Prometheus is the demo's upstream: Prometheus' own TSDB, PromQL engine,
// rule manager and HTTP API holding the synthetic cluster, run as a child
// process (cmd/tollgate-demo-prometheus). It is not linked into
// bin/tollgate, whose image would otherwise ship the cloud SDKs and
// service-discovery clients of Prometheus' server packages.
type Prometheus struct {
	opts PrometheusOptions

	dir    string
	proc   *childproc.Process
	stdin  io.WriteCloser
	url    string
	series int
}

// NewPrometheus returns the component; Start brings it up.
func NewPrometheus(opts PrometheusOptions) *Prometheus {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.CoarseHistory == 0 {
		opts.CoarseHistory = DefaultCoarseHistory
	}
	if opts.CoarseStep == 0 {
		opts.CoarseStep = DefaultCoarseStep
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = DefaultPrometheusReadyTimeout
	}
	if opts.StopTimeout == 0 {
		opts.StopTimeout = DefaultPrometheusStopTimeout
	}
	return &Prometheus{opts: opts}
}

// Name implements Component.
func (p *Prometheus) Name() string { return "prometheus" }

// URL is the base URL of the HTTP API, once started.
func (p *Prometheus) URL() string { return p.url }

// Start implements Component. It returns once the server has loaded the
// history, evaluated the rules once, and answers.
func (p *Prometheus) Start(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			err = errors.Join(err, p.Stop())
		}
	}()
	if p.opts.Binary == "" {
		return ErrPrometheusNotFound
	}
	p.dir, err = os.MkdirTemp("", "tollgate-demo-tsdb-")
	if err != nil {
		return fmt.Errorf("creating the demo Prometheus' directory: %w", err)
	}
	clusterFile := filepath.Join(p.dir, "cluster.json")
	b, err := json.Marshal(p.opts.Cluster)
	if err != nil {
		return fmt.Errorf("encoding the synthetic cluster: %w", err)
	}
	if err := os.WriteFile(clusterFile, b, 0o600); err != nil {
		return fmt.Errorf("writing the synthetic cluster for the demo Prometheus: %w", err)
	}
	ready := &readyLine{found: make(chan string, 1)}
	cmd := exec.Command(p.opts.Binary, p.args(ctx, clusterFile)...)
	cmd.Stdout = ready
	// The server exits when its stdin closes: on systems without
	// Pdeathsig, that is what keeps it from outliving a killed demo.
	p.stdin, err = cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("starting the demo Prometheus: %w", err)
	}
	p.proc, err = childproc.Start(cmd, childproc.Options{Name: "the demo Prometheus", Line: relayLog(p.opts.Logger), Keep: childOutput})
	if err != nil {
		return fmt.Errorf("starting the demo Prometheus (%s): %w", cmd.Path, err)
	}
	hello, err := p.waitReady(ctx, ready.found)
	if err != nil {
		return err
	}
	p.url, p.series = hello.URL, hello.Series
	go p.proc.Watch(p.opts.Logger, "the demo Prometheus exited unexpectedly; metrics are unavailable until the demo is restarted")
	return nil
}

// args are the server's flags. Its log level follows the demo's: debug
// there lets Prometheus' own components speak too.
func (p *Prometheus) args(ctx context.Context, clusterFile string) []string {
	level := "info"
	if p.opts.Logger.Enabled(ctx, slog.LevelDebug) {
		level = "debug"
	}
	return []string{
		"--data-dir=" + filepath.Join(p.dir, "data"),
		"--listen=127.0.0.1:0",
		"--cluster=" + clusterFile,
		"--history=" + p.opts.History.String(),
		"--step=" + p.opts.Step.String(),
		"--rule-interval=" + p.opts.RuleInterval.String(),
		"--coarse-history=" + p.opts.CoarseHistory.String(),
		"--coarse-step=" + p.opts.CoarseStep.String(),
		"--log-level=" + level,
		"--log-format=json",
		"--exit-on-stdin-close",
	}
}

// hello is the line the server prints on stdout once it serves.
type hello struct {
	URL    string `json:"url"`
	Series int    `json:"series"`
}

// waitReady waits for the server's hello, its exit, or the end of
// ReadyTimeout, whichever comes first.
func (p *Prometheus) waitReady(ctx context.Context, found <-chan string) (hello, error) {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, p.opts.ReadyTimeout)
	defer cancel()
	select {
	case line := <-found:
		var h hello
		if err := json.Unmarshal([]byte(line), &h); err != nil || !strings.HasPrefix(h.URL, "http://") {
			return hello{}, fmt.Errorf("the demo Prometheus (%s) announced itself with %q, not {\"url\":\"http://...\"}; is it a tollgate-demo-prometheus of this version?", p.opts.Binary, line)
		}
		return h, nil
	case <-p.proc.Exited():
		return hello{}, fmt.Errorf("the demo Prometheus (%s) exited before it was ready (%v)%s", p.opts.Binary, p.proc.Err(), p.proc.LastOutput())
	case <-ctx.Done():
		if err := parent.Err(); err != nil {
			return hello{}, fmt.Errorf("waiting for the demo Prometheus to be ready: %w", err)
		}
		return hello{}, fmt.Errorf("the demo Prometheus is not ready after %s%s", p.opts.ReadyTimeout, p.proc.LastOutput())
	}
}

// readyLine hands the first line written to it to found and drops the rest.
type readyLine struct {
	mu    sync.Mutex
	buf   []byte
	done  bool
	found chan string
}

// maxReadyLine bounds what readyLine buffers while waiting for a newline.
const maxReadyLine = 4 << 10

func (r *readyLine) Write(b []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return len(b), nil
	}
	r.buf = append(r.buf, b...)
	if i := strings.IndexByte(string(r.buf), '\n'); i >= 0 {
		r.found <- string(r.buf[:i])
		r.done, r.buf = true, nil
	} else if len(r.buf) > maxReadyLine {
		r.found <- string(r.buf[:maxReadyLine])
		r.done, r.buf = true, nil
	}
	return len(b), nil
}

// Section implements Component.
func (p *Prometheus) Section() Section {
	return Section{
		Title: "Embedded Prometheus (the upstream; no authentication, no tenancy)",
		Lines: []string{
			"URL:     " + p.url,
			fmt.Sprintf("Data:    %d synthetic series of cluster %s, %s of history every %s (%s before it every %s), plus live samples", p.series, p.opts.Cluster.Name,
				shortDuration(p.opts.History), shortDuration(p.opts.Step), shortDuration(max(0, p.opts.CoarseHistory-p.opts.History)), shortDuration(p.opts.CoarseStep)),
			fmt.Sprintf("Rules:   per-team recording rules and the alert HighErrorRate, evaluated every %s", shortDuration(p.opts.RuleInterval)),
		},
		Examples: []Example{{
			ID:     "prometheus-direct",
			Title:  "Directly, without Tollgate, every namespace is visible: 7 markers from 1 to 64",
			URL:    p.url + "/api/v1/query",
			Params: []Param{{"query", "sum by (namespace) (tollgate_demo_namespace_marker)"}},
			Status: http.StatusOK,
		}},
	}
}

// Stop implements Component: the server gets SIGTERM (and SIGKILL if it
// has not exited after StopTimeout), then its directory is removed.
func (p *Prometheus) Stop() error {
	var errs []error
	if p.proc != nil {
		if err := p.proc.Stop(p.opts.StopTimeout); err != nil {
			errs = append(errs, err)
		}
		p.proc = nil
	}
	if p.stdin != nil {
		// Closed after the exit: an earlier close would make the server
		// stop on its own, which watch would report as unexpected.
		_ = p.stdin.Close()
		p.stdin = nil
	}
	if p.dir != "" {
		if err := os.RemoveAll(p.dir); err != nil {
			errs = append(errs, fmt.Errorf("removing the demo Prometheus' directory: %w", err))
		}
		p.dir = ""
	}
	p.url = ""
	return errors.Join(errs...)
}

// shortDuration drops the zero units Duration.String keeps: "6h", not "6h0m0s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
