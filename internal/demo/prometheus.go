package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/util/features"

	"github.com/tollgate-dev/tollgate/internal/httpserver"
	"github.com/tollgate-dev/tollgate/internal/synth"
)

// PrometheusOptions configure the embedded Prometheus.
type PrometheusOptions struct {
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
	Logger        *slog.Logger
}

// Defaults of the coarse history.
const (
	DefaultCoarseHistory = 7 * 24 * time.Hour
	DefaultCoarseStep    = 5 * time.Minute
)

// Prometheus is a real Prometheus in-process: its TSDB, PromQL engine, rule
// manager and HTTP API, with the synthetic cluster as its only "target".
// Nothing is scraped; the cluster's samples are appended directly.
type Prometheus struct {
	opts PrometheusOptions

	dir       string
	db        *tsdb.DB
	rules     *rules.Manager
	rulesDone chan struct{}
	stopRules context.CancelFunc
	stopLive  context.CancelFunc
	live      sync.WaitGroup
	server    *background
	url       string
	series    int
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
	return &Prometheus{opts: opts}
}

// Name implements Component.
func (p *Prometheus) Name() string { return "prometheus" }

// URL is the base URL of the HTTP API, once started.
func (p *Prometheus) URL() string { return p.url }

// Start implements Component. It returns once the history is loaded, the
// rules have been evaluated once, and the API answers.
func (p *Prometheus) Start(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			err = errors.Join(err, p.Stop())
		}
	}()
	log := p.opts.Logger
	// Prometheus' own components log routine progress at info; the demo's
	// user only wants to hear from them when something is wrong.
	internal := slog.New(quietHandler{log.Handler()})
	reg := prometheus.NewRegistry()
	feats := features.NewRegistry()

	p.dir, err = os.MkdirTemp("", "tollgate-demo-tsdb-")
	if err != nil {
		return fmt.Errorf("creating the TSDB directory: %w", err)
	}
	opts := tsdb.DefaultOptions()
	// The data is regenerated on every start, so a WAL would only cost time.
	opts.WALSegmentSize = -1
	opts.FeatureRegistry = feats
	p.db, err = tsdb.Open(p.dir, internal, reg, opts, nil)
	if err != nil {
		return fmt.Errorf("opening the TSDB in %s: %w", p.dir, err)
	}
	// A few hours of a few hundred series fit in the head; compacting them
	// into blocks would only spend the CPU the demo's startup needs.
	p.db.DisableCompactions()

	series := p.opts.Cluster.Series()
	p.series = len(series)
	start := time.Now()
	end := start.Truncate(p.opts.Step)
	win := synth.Window{Start: end.Add(-p.opts.History), End: end, Step: p.opts.Step}
	if p.opts.CoarseHistory > p.opts.History {
		// Older samples first: the head takes them in time order.
		coarse := synth.Window{Start: end.Add(-p.opts.CoarseHistory).Truncate(p.opts.CoarseStep), End: win.Start.Add(-time.Millisecond), Step: p.opts.CoarseStep}
		if err := synth.Append(ctx, p.db, series, coarse); err != nil {
			return fmt.Errorf("loading the coarse synthetic history: %w", err)
		}
	}
	if err := synth.Append(ctx, p.db, series, win); err != nil {
		return fmt.Errorf("loading the synthetic history: %w", err)
	}
	log.Info("loaded synthetic history", "series", len(series), "from", win.Start.Format(time.RFC3339),
		"step", p.opts.Step, "coarse_from", end.Add(-p.opts.CoarseHistory).Format(time.RFC3339), "coarse_step", p.opts.CoarseStep,
		"took", time.Since(start).Round(time.Millisecond))

	ln, err := httpserver.Listen("127.0.0.1:0")
	if err != nil {
		return err
	}
	p.url = "http://" + ln.Addr().String()
	externalURL, err := url.Parse(p.url)
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("parsing the embedded Prometheus URL: %w", err)
	}

	promParser := parser.NewParser(parser.Options{})
	engine := promql.NewEngine(promql.EngineOpts{
		Logger:     internal,
		Reg:        reg,
		MaxSamples: 50_000_000,
		Timeout:    2 * time.Minute,
		// Prometheus uses the global evaluation interval here.
		NoStepSubqueryIntervalFn: func(int64) int64 { return p.opts.RuleInterval.Milliseconds() },
		EnableAtModifier:         true,
		EnableNegativeOffset:     true,
		FeatureRegistry:          feats,
		Parser:                   promParser,
	})

	if err := p.startRules(ctx, engine, promParser, externalURL, internal, reg, feats); err != nil {
		_ = ln.Close()
		return err
	}

	api := newPrometheusAPI(apiDeps{
		engine:   engine,
		db:       p.db,
		rules:    p.rules,
		url:      externalURL,
		dir:      p.dir,
		logger:   internal,
		gatherer: reg,
		features: feats,
		parser:   promParser,
	})
	p.server = serveInBackground(ctx, ln, api, log, nil)

	liveCtx, stopLive := context.WithCancel(context.WithoutCancel(ctx))
	p.stopLive = stopLive
	p.live.Add(1)
	go func() {
		defer p.live.Done()
		p.appendLive(liveCtx, series)
	}()
	log.Info("embedded Prometheus is serving", "url", p.url)
	return nil
}

// startRules loads the demo rules, evaluates them once and starts the
// manager, so that /api/v1/rules and /api/v1/alerts have content as soon as
// the demo prints its banner instead of one interval later.
func (p *Prometheus) startRules(ctx context.Context, engine *promql.Engine, promParser parser.Parser, externalURL *url.URL, logger *slog.Logger, reg prometheus.Registerer, feats features.Collector) error {
	content, err := demoRules(p.opts.Cluster)
	if err != nil {
		return err
	}
	rulesCtx, stopRules := context.WithCancel(context.WithoutCancel(ctx))
	p.stopRules = stopRules
	p.rules = rules.NewManager(&rules.ManagerOptions{
		ExternalURL: externalURL,
		QueryFunc:   rules.EngineQueryFunc(engine, p.db),
		// There is no Alertmanager in the demo; alerts are only listed.
		NotifyFunc:      func(context.Context, string, ...*rules.Alert) {},
		Context:         rulesCtx,
		Appendable:      p.db,
		Queryable:       p.db,
		Logger:          logger,
		Registerer:      reg,
		GroupLoader:     memoryRules{name: rulesFileName, content: content, parser: promParser, logger: logger},
		FeatureRegistry: feats,
		Parser:          promParser,
	})
	p.rulesDone = make(chan struct{})
	// The manager must run before anything can stop it: Stop waits for the
	// groups, which only start once Run has been called.
	defer func() {
		go func() {
			defer close(p.rulesDone)
			p.rules.Run()
		}()
	}()
	if err := p.rules.Update(p.opts.RuleInterval, []string{rulesFileName}, labels.EmptyLabels(), externalURL.String(), nil); err != nil {
		return fmt.Errorf("loading the demo rules: %w", err)
	}
	// Until Run is called, every group's goroutine is parked, so evaluating
	// here does not race with it.
	now := time.Now()
	for _, g := range p.rules.RuleGroups() {
		rules.DefaultEvalIterationFunc(rulesCtx, g, now)
	}
	return nil
}

// appendLive keeps the synthetic cluster current, as scraping would, so that
// instant queries keep answering after the 5-minute lookback has passed.
func (p *Prometheus) appendLive(ctx context.Context, series []synth.Series) {
	tick := time.NewTicker(p.opts.Step)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case t := <-tick.C:
			win := synth.Window{Start: t, End: t, Step: p.opts.Step}
			if err := synth.Append(ctx, p.db, series, win); err != nil && ctx.Err() == nil {
				p.opts.Logger.Warn("appending live synthetic samples", "err", err)
			}
		}
	}
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

// Stop implements Component. It undoes whatever Start got to, so that a
// failed start leaves no goroutine or directory behind.
func (p *Prometheus) Stop() error {
	var errs []error
	if p.server != nil {
		if err := p.server.stop(); err != nil {
			errs = append(errs, fmt.Errorf("stopping the embedded Prometheus API: %w", err))
		}
		p.server = nil
	}
	if p.stopLive != nil {
		p.stopLive()
		p.live.Wait()
		p.stopLive = nil
	}
	if p.rules != nil {
		p.rules.Stop()
		<-p.rulesDone
		p.stopRules()
		p.rules = nil
	}
	if p.db != nil {
		if err := p.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing the TSDB: %w", err))
		}
		p.db = nil
	}
	if p.dir != "" {
		if err := os.RemoveAll(p.dir); err != nil {
			errs = append(errs, fmt.Errorf("removing the TSDB directory: %w", err))
		}
		p.dir = ""
	}
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

// quietHandler raises the level of a handler to warnings, unless debug
// logging was asked for, in which case everything goes through.
type quietHandler struct{ slog.Handler }

func (h quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	if h.Handler.Enabled(ctx, slog.LevelDebug) {
		return true
	}
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}

func (h quietHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return quietHandler{h.Handler.WithAttrs(as)}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{h.Handler.WithGroup(name)}
}
