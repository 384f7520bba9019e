// Package gateway assembles the gateway from a configuration file: the
// tenancy, the authenticators, and the APIs for the configured upstreams
// (Prometheus, Loki, the cost engine), behind proxy's pipeline. It is the
// one place that knows every product area; proxy knows none of them.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-dev/tollgate/cost"
	costapi "github.com/tollgate-dev/tollgate/cost/api"
	costmetrics "github.com/tollgate-dev/tollgate/cost/metrics"
	"github.com/tollgate-dev/tollgate/identity"
	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/promenforce"
	"github.com/tollgate-dev/tollgate/proxy"
	"github.com/tollgate-dev/tollgate/proxy/cache"
	"github.com/tollgate-dev/tollgate/proxy/promproxy"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// FromConfig builds the gateway for a loaded configuration.
func FromConfig(cfg *config.File, transport http.RoundTripper, logger *slog.Logger, reg *prometheus.Registry) (*proxy.Server, error) {
	tn, err := tenancy.New(cfg.Tenancy)
	if err != nil {
		return nil, err
	}
	auth, err := identity.NewWithOptions(cfg.Auth, identity.Options{Logger: logger})
	if err != nil {
		return nil, err
	}
	if transport == nil {
		transport = NewTransport()
	}
	var metricsReg prometheus.Registerer
	if reg != nil {
		metricsReg = reg
	}
	cs, err := newCaches(cfg.Cache, metricsReg, logger)
	if err != nil {
		return nil, err
	}
	var apis []proxy.API
	if cfg.Upstreams.Prometheus != "" {
		prom, err := prometheusAPI(cfg, transport, logger, cs.forAPI("prometheus", cache.Prometheus{}))
		if err != nil {
			return nil, err
		}
		apis = append(apis, prom)
	}
	if cfg.Upstreams.Loki != "" {
		loki, err := lokiAPI(cfg, transport, logger, cs.forAPI("loki", cache.Loki{}))
		if err != nil {
			return nil, err
		}
		apis = append(apis, loki)
	}
	if cfg.Upstreams.Alertmanager != "" {
		am, err := alertmanagerAPI(cfg, transport, logger)
		if err != nil {
			return nil, err
		}
		apis = append(apis, am)
	}
	if cfg.Cost != nil {
		c, err := costAPI(cfg, tn, transport, logger, reg)
		if err != nil {
			return nil, err
		}
		apis = append(apis, c)
	}
	if len(apis) == 0 {
		return nil, errors.New("no upstream is configured: set upstreams.prometheus, upstreams.loki, upstreams.alertmanager or several")
	}
	opts := proxy.Options{Tenancy: tn, Auth: auth, APIs: apis, Logger: logger, BodyReadTimeout: time.Duration(cfg.Proxy.BodyReadTimeout)}
	if reg != nil {
		opts.Registerer, opts.Gatherer = reg, reg
	}
	if err := guard(&opts, cfg, transport, logger, opts.Registerer); err != nil {
		return nil, err
	}
	return proxy.New(opts)
}

// NewTransport returns the upstream transport: http.DefaultTransport's
// settings, with enough idle connections per host for a gateway whose every
// request goes to the same one or two backends.
func NewTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 64
	return t
}

// maxDialectWait bounds the status/buildinfo request of dialect detection.
const maxDialectWait = 5 * time.Second

// promDialect resolves upstreams.prometheus_dialect. For auto it reads the
// backend's status/buildinfo each time the gateway is built (at start, and
// on every rebuild from configuration). A backend that cannot be read is
// taken for the newest dialect, prometheus3: the one that accepts the
// fewest retired functions, so a wrong guess refuses holt_winters rather
// than sending it to a backend without it.
func promDialect(cfg *config.File, up *url.URL, transport http.RoundTripper, logger *slog.Logger) promenforce.Dialect {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if d, err := promenforce.ParseDialect(cfg.Upstreams.PrometheusDialect); err == nil {
		return d
	}
	wait := min(maxDialectWait, time.Duration(cfg.Proxy.UpstreamTimeout))
	if wait <= 0 {
		wait = maxDialectWait
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	info, err := promproxy.DetectDialect(ctx, up, transport, cfg.Upstreams.PrometheusOrgID)
	if err != nil {
		logger.Warn("could not detect the PromQL dialect of upstreams.prometheus; assuming prometheus3 (set upstreams.prometheus_dialect to choose)", "error", err)
		return promenforce.DialectPrometheus3
	}
	logger.Info("detected the PromQL dialect of upstreams.prometheus", "dialect", info.Dialect, "version", info.Version, "application", info.Application)
	return info.Dialect
}

// costAPI is the cost engine's API for `cost:`, and its gauges registered
// with reg.
func costAPI(cfg *config.File, tn *tenancy.Tenancy, transport http.RoundTripper, logger *slog.Logger, reg *prometheus.Registry) (proxy.API, error) {
	engine, err := cost.FromConfig(cfg.Cost, cfg.Upstreams, tn, transport, logger)
	if err != nil {
		return nil, err
	}
	if reg != nil {
		if err := reg.Register(costmetrics.New(costmetrics.Options{Engine: engine, Interval: time.Duration(cfg.Cost.MetricsInterval), Logger: logger})); err != nil {
			return nil, fmt.Errorf("registering the cost metrics: %w", err)
		}
	}
	return costapi.New(costapi.Options{
		Engine:       engine,
		MaxBodyBytes: cfg.Proxy.MaxBodyBytes,
		Timeout:      time.Duration(cfg.Proxy.UpstreamTimeout),
		Logger:       logger,
	}), nil
}
