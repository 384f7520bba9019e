// Package demo runs Tollgate on one machine with nothing else installed: an
// embedded Prometheus holding a synthetic cluster, and the gateway in front
// of it, with examples of what each team sees.
//
// The demo is a list of components started in order and stopped in reverse.
// Each one contributes a section to the banner: its addresses and the curl
// commands worth trying. A new backend (Loki, say) is one more file with a
// Component, constructed in New, listed before the gateway and handed to it
// through GatewayOptions.Upstreams.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/synth"
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
	// Logger receives progress and the gateway's access log.
	Logger *slog.Logger
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
	gateway    *Gateway
	components []Component
	started    []Component
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

	prom := NewPrometheus(PrometheusOptions{
		Cluster:      synth.Default(),
		History:      opts.History,
		Step:         opts.Step,
		RuleInterval: opts.RuleInterval,
		Logger:       opts.Logger.With("component", "prometheus"),
	})
	gw := NewGateway(GatewayOptions{
		Listen:    opts.Listen,
		Upstreams: func() config.Upstreams { return config.Upstreams{Prometheus: prom.URL()} },
		Logger:    opts.Logger.With("component", "gateway"),
	})
	return &Demo{
		logger:     opts.Logger,
		prometheus: prom,
		gateway:    gw,
		// Upstreams first: the gateway needs their URLs.
		components: []Component{prom, gw},
	}, nil
}

// Gateway is the demo's Tollgate.
func (d *Demo) Gateway() *Gateway { return d.gateway }

// Prometheus is the demo's embedded Prometheus.
func (d *Demo) Prometheus() *Prometheus { return d.prometheus }

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
	out := make([]Section, 0, len(d.components))
	for _, c := range d.components {
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
