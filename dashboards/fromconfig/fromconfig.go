// Package fromconfig turns Tollgate's configuration file into the
// dashboard generator's input: one team per tenant with its preset and
// services (listed in dashboards.tenants, or discovered from Prometheus),
// and the shared options. The CLI and the demo both generate through it.
package fromconfig

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/tollgate-dev/tollgate/dashboards"
	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/slo/windows"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// Options returns the generator's options from a validated configuration.
func Options(cfg *config.File) (dashboards.Options, error) {
	ws, err := windows.Default().Get(time.Duration(cfg.Dashboards.SLOPeriod))
	if err != nil {
		return dashboards.Options{}, fmt.Errorf("dashboards.slo_period: %w", err)
	}
	currency := "USD"
	if cfg.Cost != nil && cfg.Cost.Currency != "" {
		currency = cfg.Cost.Currency
	}
	return dashboards.Options{
		Label:       cfg.Tenancy.Label,
		SLOWindows:  ws,
		Currency:    currency,
		Datasources: dashboards.DefaultDatasources,
		AdminTeams:  cfg.Dashboards.AdminTeams,
	}, nil
}

// Teams returns a team per tenant, in configuration order. A tenant that
// lists no services in dashboards.tenants has them discovered through
// disc; with a nil disc such a tenant is an error.
func Teams(ctx context.Context, cfg *config.File, disc *dashboards.Discoverer) ([]dashboards.Team, error) {
	tn, err := tenancy.New(cfg.Tenancy)
	if err != nil {
		return nil, err
	}
	teams := dashboards.TeamsFromTenancy(tn)
	for i := range teams {
		t := &teams[i]
		dt := cfg.Dashboards.Tenants[t.Tenant]
		if t.Preset, err = dashboards.LookupPreset(cmp.Or(dt.Preset, cfg.Dashboards.Preset)); err != nil {
			return nil, fmt.Errorf("tenant %s: %w", t.Tenant, err)
		}
		t.Preset.LogServiceLabel = cmp.Or(dt.LogServiceLabel, cfg.Dashboards.LogServiceLabel, t.Preset.LogServiceLabel)
		t.Services = dt.Services
		if len(t.Services) > 0 {
			continue
		}
		if disc == nil {
			return nil, fmt.Errorf("tenant %s lists no services in dashboards.tenants and no Prometheus is given to discover them", t.Tenant)
		}
		if t.Services, err = disc.Services(ctx, cfg.Tenancy.Label, *t); err != nil {
			return nil, fmt.Errorf("%w (or list the services in dashboards.tenants.%s.services)", err, t.Tenant)
		}
	}
	return teams, nil
}

// FileOptions returns the provisioning files' options.
func FileOptions(cfg *config.File, grafanaPath string) dashboards.FileOptions {
	return dashboards.FileOptions{
		TollgateURL: cfg.Dashboards.URL,
		GrafanaPath: grafanaPath,
		Datasources: dashboards.DefaultDatasources,
	}
}
