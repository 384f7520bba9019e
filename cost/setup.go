package cost

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/tollgate-dev/tollgate/cost/pricing"
	"github.com/tollgate-dev/tollgate/cost/source"
	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// FromConfig builds the engine for the cost section of a configuration,
// reading from the Prometheus upstream as an admin (the engine confines
// its answers itself, per caller).
func FromConfig(c *config.Cost, up config.Upstreams, tn *tenancy.Tenancy, transport http.RoundTripper, logger *slog.Logger) (*Engine, error) {
	u, err := url.Parse(up.Prometheus)
	if err != nil {
		return nil, fmt.Errorf("upstreams.prometheus: %w", err)
	}
	cat, err := Catalogue(c)
	if err != nil {
		return nil, err
	}
	src := source.New(source.Options{URL: u, Transport: transport, OrgID: up.PrometheusOrgID, Cluster: c.Cluster, ClusterLabel: c.ClusterLabel, Prices: cat, Logger: logger})
	return New(Options{Source: src, Tenancy: tn, SharedNamespaces: c.SharedNamespaces, OverheadMonthly: c.SharedOverheadMonthly,
		Currency: c.Currency, MaxQuerySteps: c.MaxQuerySteps, MaxConcurrentPerTenant: c.MaxConcurrentPerTenant,
		Clusters: c.Clusters, ClusterRegions: c.ClusterRegions, Logger: logger}), nil
}

// Catalogue builds the price catalogue of a cost section.
func Catalogue(c *config.Cost) (*pricing.Catalogue, error) {
	var rows []pricing.Row
	if c.PricingFile != "" {
		var err error
		if rows, err = pricing.LoadFile(c.PricingFile); err != nil {
			return nil, fmt.Errorf("cost.pricing_file: %w", err)
		}
	}
	d := c.DefaultPrices
	return pricing.New(pricing.Options{Overrides: rows, Discounts: c.Discounts,
		Defaults: pricing.Defaults{CPU: d.CPU, SpotCPU: d.SpotCPU, RAM: d.RAM, SpotRAM: d.SpotRAM, GPU: d.GPU}}), nil
}
