// Package demo runs Tollgate on one machine: Prometheus' own TSDB, engine,
// rules and API holding a synthetic cluster (a child process,
// cmd/tollgate-demo-prometheus, so that none of Prometheus' server code
// reaches bin/tollgate), a real Loki (a child process, when its binary is
// built) holding the cluster's logs, and the gateway in front of both, with
// examples of what each team sees.
//
// The demo is a list of components started in order and stopped in reverse.
// Each one contributes a section to the banner: its addresses and the curl
// commands worth trying. A new backend is one more file with a Component
// (loki.go is one), constructed in New, started before the gateway and
// handed to it through GatewayOptions.Upstreams.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/demo/synth"
)

// Component is one part of the demo.
type Component interface {
	// Name identifies the component in logs and errors.
	Name() string
	// Start brings the component up and returns once it serves. ctx bounds
	// the startup only: a component runs until Stop.
	Start(ctx context.Context) error
	// Stop shuts the component down and releases everything it holds. It
	// also cleans up after a Start that failed halfway.
	Stop() error
	// Section is the component's part of the banner, valid after Start.
	Section() Section
}

// Options configure the demo.
type Options struct {
	// Listen is the gateway's address; port 0 picks a free one.
	Listen string
	// History is how much synthetic history is loaded at startup.
	History time.Duration
	// Step is the resolution of the synthetic samples.
	Step time.Duration
	// RuleInterval is how often the demo's rules are evaluated.
	RuleInterval time.Duration
	// PrometheusBinary is the demo Prometheus to run (see
	// FindPrometheus); the demo cannot start without it.
	PrometheusBinary string
	// LokiBinary is the Loki server to run (see FindLoki). Empty runs the
	// demo without logs, saying so in the banner.
	LokiBinary string
	// AlertmanagerBinary is the Alertmanager to run (see
	// FindAlertmanager). Empty runs the demo without alerts.
	AlertmanagerBinary string
	// LogInterval is how often each service writes a live log line.
	LogInterval time.Duration
	// Logger receives progress and the gateway's access log.
	Logger *slog.Logger
	// OutputDir, if set, receives the files the demo generates (each
	// team's Grafana dashboards and their provisioning; the SLO rules and
	// the Alertmanager configuration, under slo/), which stay after the
	// demo stops.
	OutputDir string
}

// Defaults for Options left zero.
const (
	DefaultListen       = config.DefaultListen
	DefaultHistory      = 6 * time.Hour
	DefaultStep         = 30 * time.Second
	DefaultRuleInterval = 15 * time.Second
)

// Demo is the assembled demo.
type Demo struct {
	logger     *slog.Logger
	prometheus *Prometheus
	loki       *Loki
	am         *Alertmanager
	gateway    *Gateway
	chargeback *Chargeback
	components []Component
	// banner is the components in the banner's order, which differs from
	// the start order: the logs' examples go through the gateway, so they
	// come after the section that introduces it.
	banner  []Component
	started []Component
}

// New assembles the demo. Nothing runs until Start.
func New(opts Options) (*Demo, error) {
	if opts.Listen == "" {
		opts.Listen = DefaultListen
	}
	if opts.History == 0 {
		opts.History = DefaultHistory
	}
	if opts.Step == 0 {
		opts.Step = DefaultStep
	}
	if opts.RuleInterval == 0 {
		opts.RuleInterval = DefaultRuleInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	// rate(...[5m]) in the demo rules needs two samples in five minutes.
	if opts.Step <= 0 || opts.Step > time.Minute {
		return nil, fmt.Errorf("demo step %s: use a step between 1ms and 1m", opts.Step)
	}
	if opts.History < 5*time.Minute {
		return nil, fmt.Errorf("demo history %s: use at least 5m, the range of the demo's rate() windows", opts.History)
	}
	if opts.RuleInterval <= 0 {
		return nil, fmt.Errorf("demo rule interval %s: use a positive duration", opts.RuleInterval)
	}
	if opts.LogInterval < 0 {
		return nil, fmt.Errorf("demo log interval %s: use a positive duration", opts.LogInterval)
	}

	cluster := synth.Default()
	tc := demoTenancy()
	orgs, err := namespaceOrgs(cluster, tc)
	if err != nil {
		return nil, err
	}
	prom := NewPrometheus(PrometheusOptions{
		Binary:       opts.PrometheusBinary,
		Cluster:      cluster,
		History:      opts.History,
		Step:         opts.Step,
		RuleInterval: opts.RuleInterval,
		Logger:       opts.Logger.With("component", "prometheus"),
	})
	// The gateway reads Loki's URL when it starts, Loki's banner the
	// gateway's URL once both run: each refers to the other.
	var loki *Loki
	var am *Alertmanager
	gw := NewGateway(GatewayOptions{
		Listen: opts.Listen,
		Upstreams: func() config.Upstreams {
			return config.Upstreams{Prometheus: prom.URL(), Loki: loki.URL(), Alertmanager: am.URL()}
		},
		Tenancy: tc,
		Logger:  opts.Logger.With("component", "gateway"),
	})
	loki = NewLoki(LokiOptions{
		Binary:       opts.LokiBinary,
		Cluster:      cluster,
		Orgs:         orgs,
		LiveInterval: opts.LogInterval,
		Gateway:      gw,
		Logger:       opts.Logger.With("component", "loki"),
	})
	am = NewAlertmanager(AlertmanagerOptions{Binary: opts.AlertmanagerBinary, Gateway: gw, Logger: opts.Logger.With("component", "alertmanager")})
	chargeback := NewChargeback(gw, opts.Logger.With("component", "chargeback"))
	outputs := outputComponents(opts.OutputDir, gw, cluster, opts.Logger)
	if opts.OutputDir != "" {
		outputs = append(outputs, NewSLOs(opts.OutputDir, tc, opts.Logger.With("component", "slo")))
	}
	return &Demo{
		logger:     opts.Logger,
		chargeback: chargeback,
		prometheus: prom,
		loki:       loki,
		am:         am,
		gateway:    gw,
		// Upstreams first: the gateway needs their URLs.
		components: append([]Component{prom, loki, am, gw, chargeback}, outputs...),
		banner:     append([]Component{prom, gw, loki, am, chargeback}, outputs...),
	}, nil
}

// Gateway is the demo's Tollgate.
func (d *Demo) Gateway() *Gateway { return d.gateway }

// Prometheus is the demo's Prometheus.
func (d *Demo) Prometheus() *Prometheus { return d.prometheus }

// Chargeback is the demo's chargeback sign-in proxies.
func (d *Demo) Chargeback() *Chargeback { return d.chargeback }

// Loki is the demo's Loki, enabled or not.
func (d *Demo) Loki() *Loki { return d.loki }

// Alertmanager is the demo's Alertmanager, enabled or not.
func (d *Demo) Alertmanager() *Alertmanager { return d.am }

// Start starts every component in order. If one fails, those already
// started are stopped again.
func (d *Demo) Start(ctx context.Context) error {
	began := time.Now()
	for _, c := range d.components {
		if err := c.Start(ctx); err != nil {
			err = fmt.Errorf("starting the demo's %s: %w", c.Name(), err)
			return errors.Join(err, d.Stop())
		}
		d.started = append(d.started, c)
	}
	d.logger.Info("demo started", "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// Stop stops the started components in reverse order, so that the gateway
// drains before its upstreams go away.
func (d *Demo) Stop() error {
	var errs []error
	for i := len(d.started) - 1; i >= 0; i-- {
		if err := d.started[i].Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stopping the demo's %s: %w", d.started[i].Name(), err))
		}
	}
	d.started = nil
	return errors.Join(errs...)
}

// Sections are the banner's sections, one per component.
func (d *Demo) Sections() []Section {
	out := make([]Section, 0, len(d.banner))
	for _, c := range d.banner {
		out = append(out, c.Section())
	}
	return out
}

// Run starts the demo, prints the banner to out and serves until ctx ends.
func (d *Demo) Run(ctx context.Context, out io.Writer) error {
	if err := d.Start(ctx); err != nil {
		return err
	}
	if err := WriteBanner(out, d.Sections()); err != nil {
		return errors.Join(err, d.Stop())
	}
	<-ctx.Done()
	d.logger.Info("stopping the demo")
	if err := d.Stop(); err != nil {
		return err
	}
	d.logger.Info("demo stopped; its temporary data is removed")
	return nil
}
