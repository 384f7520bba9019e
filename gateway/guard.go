package gateway

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-dev/tollgate/audit"
	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/limits"
	"github.com/tollgate-dev/tollgate/proxy"
)

// guard adds the audit trail and the per-tenant limits to the pipeline's
// options. The trail's writer runs until proxy.Server.Close.
func guard(opts *proxy.Options, cfg *config.File, transport http.RoundTripper, logger *slog.Logger, reg prometheus.Registerer) error {
	l, err := NewLimiter(cfg, reg)
	if err != nil {
		return err
	}
	opts.Limits = l
	if cfg.Audit == nil {
		return nil
	}
	trail, err := NewAudit(cfg, transport, logger, reg)
	if err != nil {
		return err
	}
	opts.Audit = trail
	return nil
}

// NewLimiter builds the limits of `limits:`, tenancy.tenants[].limits and
// tenancy.admin_limits; nil when none is set.
func NewLimiter(cfg *config.File, reg prometheus.Registerer) (*limits.Limiter, error) {
	opts := limits.Options{Global: cfg.Limits, Admins: cfg.Tenancy.AdminLimits, Registerer: reg}
	set := !cfg.Limits.Empty() || opts.Admins != nil
	for _, t := range cfg.Tenancy.Tenants {
		opts.Tenants = append(opts.Tenants, limits.Tenant{Name: t.Name, Limits: t.Limits})
		set = set || (t.Limits != nil && !t.Limits.Empty())
	}
	if !set {
		return nil, nil
	}
	return limits.New(opts)
}

// NewAudit opens the audit trail of `audit:` (nil without the section).
// The dashboards command uses it too: provisioning is audited.
func NewAudit(cfg *config.File, transport http.RoundTripper, logger *slog.Logger, reg prometheus.Registerer) (*audit.Trail, error) {
	if cfg.Audit == nil {
		return nil, nil
	}
	opts := audit.Options{Transport: transport, Logger: logger, Registerer: reg}
	if cfg.Upstreams.Loki != "" {
		u, err := url.Parse(cfg.Upstreams.Loki)
		if err != nil {
			return nil, fmt.Errorf("upstreams.loki: %w", err)
		}
		opts.Loki = u
	}
	return audit.New(*cfg.Audit, opts)
}
