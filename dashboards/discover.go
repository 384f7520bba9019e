package dashboards

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
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
	q := url.Values{
		"match[]": {match},
		"start":   {strconv.FormatInt(end.Add(-window).Unix(), 10)},
		"end":     {strconv.FormatInt(end.Unix(), 10)},
	}
	u := strings.TrimSuffix(d.URL, "/") + "/api/v1/label/" + url.PathEscape(p.ServiceLabel) + "/values?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("discovering the services of tenant %s: %w", t.Tenant, err)
	}
	for k, vs := range d.Header {
		req.Header[k] = vs
	}
	client := d.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("discovering the services of tenant %s from %s: %w", t.Tenant, d.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("discovering the services of tenant %s: reading the answer: %w", t.Tenant, err)
	}
	var r struct {
		Status string   `json:"status"`
		Error  string   `json:"error"`
		Data   []string `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil || resp.StatusCode != http.StatusOK || r.Status != "success" {
		msg := r.Error
		if msg == "" {
			msg = strings.TrimSpace(string(body))
		}
		return nil, fmt.Errorf("discovering the services of tenant %s: %s answered %s: %s", t.Tenant, d.URL, resp.Status, msg)
	}
	slices.Sort(r.Data)
	return slices.Compact(r.Data), nil
}
