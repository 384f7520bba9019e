package dashboards

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/tollgate-dev/tollgate/promapi"
)

// Discoverer lists a team's services from Prometheus: the values of the
// preset's service label on series of its request metric in the team's
// namespaces. It asks whichever Prometheus API it is given (Prometheus
// itself, or Tollgate with an admin token); the team's matcher is in the
// request either way.
type Discoverer struct {
	// URL is the Prometheus API's base URL.
	URL string
	// Header is added to every request (Authorization, X-Scope-OrgID).
	Header http.Header
	Client *http.Client
	// Window is how far back a service counts as present (default 24h).
	Window time.Duration
	Now    func() time.Time
}

// Services returns the team's services, sorted.
func (d *Discoverer) Services(ctx context.Context, label string, t Team) ([]string, error) {
	p := t.Preset
	match := p.selector(p.Requests, re(label, scopeRegexp(label, t.Namespaces)))
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	window := d.Window
	if window <= 0 {
		window = 24 * time.Hour
	}
	end := now()
	u, err := url.Parse(d.URL)
	if err != nil {
		return nil, fmt.Errorf("discovering the services of tenant %s: %w", t.Tenant, err)
	}
	api := promapi.New(promapi.Options{URL: u, Client: d.Client, Header: d.Header})
	values, err := api.LabelValues(ctx, p.ServiceLabel, []string{match}, end.Add(-window), end)
	if err != nil {
		return nil, fmt.Errorf("discovering the services of tenant %s from %s: %w", t.Tenant, d.URL, err)
	}
	slices.Sort(values)
	return slices.Compact(values), nil
}
