// Package promserver is the demo's Prometheus: Prometheus' own TSDB, PromQL
// engine, rule manager and HTTP API, holding a synthetic cluster. It runs in
// its own program (cmd/tollgate-demo-prometheus), never inside
// bin/tollgate: Prometheus' server packages link the cloud SDKs, Consul and
// Kubernetes clients of its service discovery, which a query gateway must
// not ship.
package promserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/util/features"

	"github.com/tollgate-dev/tollgate/internal/demo/synth"
	"github.com/tollgate-dev/tollgate/internal/httpserver"
)

// Options configure the server.
type Options struct {
	// Cluster is the synthetic cluster whose metrics it holds.
	Cluster synth.Cluster
	// Dir holds the TSDB. It must exist; the caller removes it after Stop.
	Dir string
	// Listen is the HTTP API's address; port 0 picks a free one.
	Listen string
	// History is how far back the synthetic samples go at startup.
	History time.Duration
	// Step is the spacing of the samples, backfilled and live.
	Step time.Duration
	// RuleInterval is the evaluation interval of the demo rules.
	RuleInterval time.Duration
	// CoarseHistory, when longer than History, is loaded before it at
	// CoarseStep, so that the cost engine has a week to allocate for a
	// fraction of the samples.
	CoarseHistory time.Duration
	CoarseStep    time.Duration
	// Logger receives the server's progress; Prometheus' own components
	// log through it at warn and above only, unless it is enabled for
	// debug.
	Logger *slog.Logger
}

// Server is a real Prometheus with the synthetic cluster as its only
// "target". Nothing is scraped; the cluster's samples are appended directly.
type Server struct {
	opts Options

	db        *tsdb.DB
	rules     *rules.Manager
	rulesDone chan struct{}
	stopRules context.CancelFunc
	stopLive  context.CancelFunc
	live      sync.WaitGroup
	stopHTTP  context.CancelFunc
	httpDone  chan error
	url       string
	series    int
}

// New returns the server; Start brings it up.
func New(opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case opts.Dir == "":
		return nil, errors.New("the demo Prometheus needs a TSDB directory")
	case opts.Step <= 0:
		return nil, fmt.Errorf("step %s: use a positive duration", opts.Step)
	case opts.History < opts.Step:
		return nil, fmt.Errorf("history %s: use at least one step (%s)", opts.History, opts.Step)
	case opts.RuleInterval <= 0:
		return nil, fmt.Errorf("rule interval %s: use a positive duration", opts.RuleInterval)
	case opts.CoarseHistory > opts.History && opts.CoarseStep <= 0:
		return nil, fmt.Errorf("coarse step %s: use a positive duration", opts.CoarseStep)
	}
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	return &Server{opts: opts}, nil
}

// URL is the base URL of the HTTP API, once started.
func (p *Server) URL() string { return p.url }

// Series is the number of synthetic series loaded, once started.
func (p *Server) Series() int { return p.series }

// Start returns once the history is loaded, the rules have been evaluated
// once, and the API answers.
func (p *Server) Start(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			err = errors.Join(err, p.Stop())
		}
	}()
	// Prometheus' own components log routine progress at info; the demo's
	// user only wants to hear from them when something is wrong.
	internal := slog.New(quietHandler{p.opts.Logger.Handler()})
	reg := prometheus.NewRegistry()
	feats := features.NewRegistry()

	if err := p.openTSDB(internal, reg, feats); err != nil {
		return err
	}

	series := p.opts.Cluster.Series()
	p.series = len(series)
	if err := p.loadHistory(ctx, series); err != nil {
		return err
	}

	ln, err := httpserver.Listen(p.opts.Listen)
	if err != nil {
		return err
	}
	p.url = "http://" + ln.Addr().String()
	externalURL, err := url.Parse(p.url)
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("parsing the demo Prometheus' URL: %w", err)
	}

	promParser := parser.NewParser(parser.Options{})
	engine := p.newEngine(internal, reg, feats, promParser)

	if err := p.startRules(ctx, engine, promParser, externalURL, internal, reg, feats); err != nil {
		_ = ln.Close()
		return err
	}

	p.serve(ctx, ln, newAPI(apiDeps{
		engine:   engine,
		db:       p.db,
		rules:    p.rules,
		url:      externalURL,
		dir:      p.opts.Dir,
		logger:   internal,
		gatherer: reg,
		features: feats,
		parser:   promParser,
	}))

	liveCtx, stopLive := context.WithCancel(context.WithoutCancel(ctx))
	p.stopLive = stopLive
	p.live.Add(1)
	go func() {
		defer p.live.Done()
		p.appendLive(liveCtx, series)
	}()
	p.opts.Logger.Info("embedded Prometheus is serving", "url", p.url)
	return nil
}

// newEngine is the PromQL engine, with the features a Prometheus 3 server
// enables by default.
func (p *Server) newEngine(logger *slog.Logger, reg prometheus.Registerer, feats features.Collector, promParser parser.Parser) *promql.Engine {
	return promql.NewEngine(promql.EngineOpts{
		Logger:     logger,
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
}

// openTSDB opens the TSDB in Dir, tuned for data that is regenerated on
// every start.
func (p *Server) openTSDB(logger *slog.Logger, reg prometheus.Registerer, feats features.Collector) error {
	opts := tsdb.DefaultOptions()
	// The data is regenerated on every start, so a WAL would only cost time.
	opts.WALSegmentSize = -1
	opts.FeatureRegistry = feats
	db, err := tsdb.Open(p.opts.Dir, logger, reg, opts, nil)
	if err != nil {
		return fmt.Errorf("opening the TSDB in %s: %w", p.opts.Dir, err)
	}
	// A few hours of a few hundred series fit in the head; compacting them
	// into blocks would only spend the CPU the demo's startup needs.
	db.DisableCompactions()
	p.db = db
	return nil
}

// serve runs the HTTP API on ln until Stop. It keeps the values of ctx
// (trace IDs, loggers) but not its cancellation.
func (p *Server) serve(ctx context.Context, ln net.Listener, h http.Handler) {
	httpCtx, stopHTTP := context.WithCancel(context.WithoutCancel(ctx))
	p.stopHTTP, p.httpDone = stopHTTP, make(chan error, 1)
	go func() {
		p.httpDone <- httpserver.Serve(httpCtx, ln, h, httpserver.Options{Logger: p.opts.Logger})
	}()
}

// loadHistory appends the synthetic history: the coarse part first, as the
// head takes samples in time order.
func (p *Server) loadHistory(ctx context.Context, series []synth.Series) error {
	start := time.Now()
	end := start.Truncate(p.opts.Step)
	win := synth.Window{Start: end.Add(-p.opts.History), End: end, Step: p.opts.Step}
	if p.opts.CoarseHistory > p.opts.History {
		coarse := synth.Window{Start: end.Add(-p.opts.CoarseHistory).Truncate(p.opts.CoarseStep), End: win.Start.Add(-time.Millisecond), Step: p.opts.CoarseStep}
		if err := synth.Append(ctx, p.db, series, coarse); err != nil {
			return fmt.Errorf("loading the coarse synthetic history: %w", err)
		}
	}
	if err := synth.Append(ctx, p.db, series, win); err != nil {
		return fmt.Errorf("loading the synthetic history: %w", err)
	}
	p.opts.Logger.Info("loaded synthetic history", "series", len(series), "from", win.Start.Format(time.RFC3339),
		"step", p.opts.Step, "coarse_from", end.Add(-p.opts.CoarseHistory).Format(time.RFC3339), "coarse_step", p.opts.CoarseStep,
		"took", time.Since(start).Round(time.Millisecond))
	return nil
}

// startRules loads the demo rules, evaluates them once and starts the
// manager, so that /api/v1/rules and /api/v1/alerts have content as soon as
// the demo prints its banner instead of one interval later.
func (p *Server) startRules(ctx context.Context, engine *promql.Engine, promParser parser.Parser, externalURL *url.URL, logger *slog.Logger, reg prometheus.Registerer, feats features.Collector) error {
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
		AppendableV2:    p.db,
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
func (p *Server) appendLive(ctx context.Context, series []synth.Series) {
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

// Stop undoes whatever Start got to, so that a failed start leaves no
// goroutine behind and the TSDB closed.
func (p *Server) Stop() error {
	var errs []error
	if p.stopHTTP != nil {
		p.stopHTTP()
		if err := <-p.httpDone; err != nil {
			errs = append(errs, fmt.Errorf("stopping the demo Prometheus' API: %w", err))
		}
		p.stopHTTP = nil
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
	return errors.Join(errs...)
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
