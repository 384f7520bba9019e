package demo

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/demo/synth"
	"github.com/tollgate-dev/tollgate/internal/httpserver"
)

// demoCost is the demo's cost section: the synthetic cluster priced by the
// embedded catalogue, a 15% AWS discount on on-demand nodes, the platform
// namespaces shared with $730 a month ($1/h) of overhead.
func demoCost() *config.Cost {
	return &config.Cost{
		Cluster:               synth.Default().Name,
		Discounts:             map[string]float64{"aws": 15},
		SharedNamespaces:      []string{"kube-system", "monitoring"},
		SharedOverheadMonthly: 730,
	}
}

// signInUser is a demo user whose browser gets a sign-in proxy.
type signInUser struct {
	user, group, tenant string
}

// chargebackUsers are the two teams whose chargeback pages the banner
// links to.
var chargebackUsers = []signInUser{{"alice", "team-payments", "payments"}, {"bob", "team-checkout", "checkout"}}

// Chargeback gives each demo user a browser-reachable address: a loopback
// reverse proxy that sets the user's identity headers on every request
// and forwards it to the gateway, as oauth2-proxy would after a login. A
// browser cannot set those headers itself, and the gateway trusts them
// from loopback only, so this is the demo's whole "login". It exists only
// in the demo: in production the auth proxy in front of Tollgate does it.
type Chargeback struct {
	gateway *Gateway
	logger  *slog.Logger
	servers []*background
	urls    []string
}

// NewChargeback returns the component; Start brings it up after the
// gateway.
func NewChargeback(gw *Gateway, logger *slog.Logger) *Chargeback {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Chargeback{gateway: gw, logger: logger}
}

// Name implements Component.
func (c *Chargeback) Name() string { return "chargeback sign-in proxies" }

// URLs are the users' base URLs, in chargebackUsers order, once started.
func (c *Chargeback) URLs() []string { return c.urls }

// Start implements Component.
func (c *Chargeback) Start(ctx context.Context) error {
	target, err := url.Parse(c.gateway.URL())
	if err != nil {
		return fmt.Errorf("parsing the gateway URL: %w", err)
	}
	for _, u := range chargebackUsers {
		ln, err := httpserver.Listen("127.0.0.1:0")
		if err != nil {
			return err
		}
		c.servers = append(c.servers, serveInBackground(ctx, ln, signInProxy(target, u), httpserver.Options{Logger: c.logger}))
		c.urls = append(c.urls, "http://"+ln.Addr().String())
	}
	return nil
}

// signInProxy forwards to the gateway as u. Whatever identity the browser
// sends is replaced.
func signInProxy(target *url.URL, u signInUser) http.Handler {
	return &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = target.Host
		r.Out.Header.Del("Authorization")
		r.Out.Header.Set(userHeader, u.user)
		r.Out.Header.Set(groupsHeader, u.group)
	}}
}

// Stop implements Component.
func (c *Chargeback) Stop() error {
	var errs []string
	for _, s := range c.servers {
		if err := s.stop(); err != nil {
			errs = append(errs, err.Error())
		}
	}
	c.servers, c.urls = nil, nil
	if len(errs) > 0 {
		return fmt.Errorf("stopping the sign-in proxies: %s", strings.Join(errs, "; "))
	}
	return nil
}

// Section implements Component.
func (c *Chargeback) Section() Section {
	base := c.gateway.URL()
	lines := []string{"Open in a browser; each address signs in as one user (a loopback stand-in for oauth2-proxy, demo only):"}
	for i, u := range chargebackUsers {
		if i < len(c.urls) {
			lines = append(lines, fmt.Sprintf("  %s (%s, tenant %s): %s/ui/chargeback", u.user, u.group, u.tenant, c.urls[i]))
		}
	}
	lines = append(lines,
		"Nodes: 2 on-demand m6i.2xlarge (15% AWS discount), a spot pool of 2 c6i.xlarge, a g4dn.xlarge GPU node; a week of history.",
		"kube-system and monitoring are shared over the teams with $730/month of overhead when shareNamespaces=true.",
		"The same figures: OpenCost's API at "+base+"/allocation, and tollgate_cost_* on "+base+"/metrics (admins only: use the ci token).")
	admin := []string{"Authorization: Bearer " + c.gateway.Token()}
	return Section{
		Title: "Chargeback (node spend allocated to teams, tenant-scoped)",
		Lines: lines,
		Examples: []Example{
			{
				ID:      "payments-allocation",
				Title:   "alice's week by namespace, idle and platform namespaces shared: only payments' namespaces",
				URL:     base + "/allocation",
				Headers: identityHeaders("alice", "team-payments"),
				Params:  []Param{{"window", "7d"}, {"aggregate", "namespace"}, {"accumulate", "true"}, {"shareIdle", "true"}, {"shareNamespaces", "true"}},
				Status:  http.StatusOK,
			},
			{
				ID:      "admin-cost-centers",
				Title:   "The admin's week by cost center, idle apart: every cost center, the platform's __unallocated__, and __idle__",
				URL:     base + "/allocation",
				Headers: admin,
				Params:  []Param{{"window", "7d"}, {"aggregate", "cost_center"}, {"accumulate", "true"}, {"includeIdle", "true"}},
				Status:  http.StatusOK,
			},
			{
				ID:      "payments-share-other-namespace",
				Title:   "alice cannot share checkout's namespace into her bill (it would reveal checkout's cost): 403",
				URL:     base + "/allocation",
				Headers: identityHeaders("alice", "team-payments"),
				Params:  []Param{{"window", "7d"}, {"shareNamespaces", "team-checkout-prod"}},
				Status:  http.StatusForbidden,
			},
		},
	}
}
