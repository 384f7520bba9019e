package demo

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-dev/tollgate/gateway"
	"github.com/tollgate-dev/tollgate/identity"
	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/httpserver"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// Identity headers of the demo, as an auth proxy in front of Tollgate would
// set them.
const (
	userHeader   = "X-Forwarded-User"
	groupsHeader = "X-Forwarded-Groups"
	adminGroup   = "platform-sre"
)

// GatewayOptions configure the demo's Tollgate.
type GatewayOptions struct {
	// Listen is the gateway's address; port 0 picks a free one.
	Listen string
	// Upstreams returns the backends' URLs. It is called by Start, once the
	// components the gateway sits in front of have started.
	Upstreams func() config.Upstreams
	// Tenancy is the tenants section of the configuration (demoTenancy).
	Tenancy tenancy.Config
	Logger  *slog.Logger
}

// Gateway is Tollgate itself, built from a configuration like the one in the
// README, with a bearer token generated for this run.
type Gateway struct {
	opts   GatewayOptions
	cfg    *config.File
	token  string
	addr   string
	server *background
}

// NewGateway returns the component; Start brings it up.
func NewGateway(opts GatewayOptions) *Gateway {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Gateway{opts: opts}
}

// Name implements Component.
func (g *Gateway) Name() string { return "gateway" }

// Addr is the address the gateway listens on, once started.
func (g *Gateway) Addr() string { return g.addr }

// URL is the gateway's base URL, once started, with an unspecified listen
// host (0.0.0.0, ::) replaced by the loopback address curl can reach.
func (g *Gateway) URL() string {
	host, port, err := net.SplitHostPort(g.addr)
	if err != nil {
		return "http://" + g.addr
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// Token is the admin bearer token generated for this run.
func (g *Gateway) Token() string { return g.token }

// Start implements Component.
func (g *Gateway) Start(ctx context.Context) error {
	token, sum, err := identity.NewToken()
	if err != nil {
		return fmt.Errorf("generating the demo admin token: %w", err)
	}
	cfg := demoConfig(g.opts.Listen, g.opts.Upstreams(), g.opts.Tenancy, sum)
	// This configuration never was YAML, so it gets the checks config.Parse
	// applies after decoding. A problem here is a bug in the demo.
	cfg.ApplyDefaults()
	if err := cfg.Validate().Err(); err != nil {
		return fmt.Errorf("demo configuration: %w", err)
	}
	srv, err := gateway.FromConfig(cfg, nil, g.opts.Logger, prometheus.NewRegistry())
	if err != nil {
		return fmt.Errorf("building the gateway: %w", err)
	}
	ln, err := httpserver.Listen(cfg.Listen)
	if err != nil {
		return err
	}
	g.cfg, g.token, g.addr = cfg, token, ln.Addr().String()
	g.server = serveInBackground(ctx, ln, srv, httpserver.Options{
		Logger: g.opts.Logger, BeforeShutdown: func() { srv.SetReady(false) },
		IdleTimeout: time.Duration(cfg.Proxy.IdleTimeout), FastHTTP1: cfg.Proxy.FastHTTP1(),
	})
	g.opts.Logger.Info("Tollgate is serving", "listen", g.addr, "prometheus", cfg.Upstreams.Prometheus, "loki", cfg.Upstreams.Loki, "tenants", len(cfg.Tenancy.Tenants))
	return nil
}

// Stop implements Component.
func (g *Gateway) Stop() error {
	if g.server == nil {
		return nil
	}
	err := g.server.stop()
	g.server = nil
	if err != nil {
		return fmt.Errorf("stopping the gateway: %w", err)
	}
	return nil
}

// platformOrg is the Loki org ID of the platform namespaces (kube-system,
// monitoring), which belong to no tenant: only admins read it.
const platformOrg = "platform"

// demoTenancy is the tenancy a platform team would write for the synthetic
// cluster: three teams, one of them granted its namespaces by a glob, each
// with its own Loki org, and an admin group for the platform team and its CI.
// The org IDs are spelled out although they equal the default (the tenant
// name) because the demo's Loki is seeded with them.
func demoTenancy() tenancy.Config {
	return tenancy.Config{
		Label:       "namespace",
		AdminGroups: []string{adminGroup},
		Tenants: []tenancy.TenantConfig{
			{Name: "payments", Groups: []string{"team-payments"}, Namespaces: []string{"team-payments-prod", "team-payments-staging"}, CostCenter: "CC-4521",
				LokiOrgID: "payments", DefaultNamespace: "team-payments-prod"},
			{Name: "checkout", Groups: []string{"team-checkout"}, Namespaces: []string{"team-checkout-*"}, CostCenter: "CC-4522", LokiOrgID: "checkout"},
			{Name: "search", Groups: []string{"team-search"}, Namespaces: []string{"team-search-prod", "team-search-staging"}, CostCenter: "CC-7310", LokiOrgID: "search"},
		},
		// Without this, admins would query the tenants' orgs only and miss
		// the platform namespaces, which they see in Prometheus.
		AdminLokiOrgIDs: []string{"payments", "checkout", "search", platformOrg},
	}
}

// demoConfig is the whole configuration: the tenancy, identity headers
// trusted from loopback as if set by an auth proxy, and the admin token.
func demoConfig(listen string, up config.Upstreams, tc tenancy.Config, tokenSHA256 string) *config.File {
	return &config.File{
		Listen:    listen,
		Upstreams: up,
		Tenancy:   tc,
		Auth: identity.Config{
			TrustedHeaders: &identity.TrustedHeadersConfig{
				User:         userHeader,
				Groups:       groupsHeader,
				TrustedCIDRs: []string{"127.0.0.0/8", "::1/128"},
			},
			Tokens: []identity.TokenConfig{{Name: "ci", SHA256: tokenSHA256, Groups: []string{adminGroup}}},
		},
		Cost: demoCost(),
	}
}

// identityHeaders are the headers an auth proxy would set for a user.
func identityHeaders(user, group string) []string {
	return []string{userHeader + ": " + user, groupsHeader + ": " + group}
}

// Section implements Component.
func (g *Gateway) Section() Section {
	base := g.URL()
	as := identityHeaders
	admin := []string{"Authorization: Bearer " + g.token}
	byNamespace := []Param{{"query", "sum by (namespace) (tollgate_demo_namespace_marker)"}}
	return Section{
		Title: "Tollgate (the gateway; point Grafana's Prometheus data source here)",
		Lines: []string{
			"URL:      " + base,
			"Tenants:  payments (team-payments-prod, team-payments-staging), checkout (team-checkout-*), search (team-search-prod, team-search-staging); admins: " + adminGroup,
			"Identity: " + userHeader + " and " + groupsHeader + " headers, trusted from 127.0.0.0/8 and ::1 as if set by an auth proxy",
			"Token:    " + g.token + " (user ci, group " + adminGroup + ", valid until the demo stops)",
			"Each namespace's tollgate_demo_namespace_marker is a distinct power of two, so a sum shows exactly which namespaces it includes.",
		},
		Examples: []Example{
			{
				ID:      "payments-by-namespace",
				Title:   "alice (team-payments) sees only her two namespaces: markers 1 and 2",
				URL:     base + "/api/v1/query",
				Headers: as("alice", "team-payments"),
				Params:  byNamespace,
				Status:  http.StatusOK,
			},
			{
				ID:      "payments-sum",
				Title:   "Her sum over everything is 1+2 = 3: any other namespace would change the number",
				URL:     base + "/api/v1/query",
				Headers: as("alice", "team-payments"),
				Params:  []Param{{"query", "sum(tollgate_demo_namespace_marker)"}},
				Status:  http.StatusOK,
			},
			{
				ID:      "checkout-by-namespace",
				Title:   "bob (team-checkout) gets team-checkout-prod (marker 4) through the glob team-checkout-*",
				URL:     base + "/api/v1/query",
				Headers: as("bob", "team-checkout"),
				Params:  byNamespace,
				Status:  http.StatusOK,
			},
			{
				ID:      "admin-by-namespace",
				Title:   "The ci token is in " + adminGroup + ": every namespace, query unrewritten (markers 1 to 64)",
				URL:     base + "/api/v1/query",
				Headers: admin,
				Params:  byNamespace,
				Status:  http.StatusOK,
			},
			{
				ID:      "payments-cross-tenant",
				Title:   "alice naming checkout's namespace gets an empty result, not checkout's data",
				URL:     base + "/api/v1/query",
				Headers: as("alice", "team-payments"),
				Params:  []Param{{"query", `tollgate_demo_namespace_marker{namespace="team-checkout-prod"}`}},
				Status:  http.StatusOK,
			},
			{
				ID:      "payments-label-values",
				Title:   "Metadata is confined too: the namespaces alice can list",
				URL:     base + "/api/v1/label/namespace/values",
				Headers: as("alice", "team-payments"),
				Status:  http.StatusOK,
			},
			{
				ID:      "payments-rules",
				Title:   "Rules: payments' recording rules, and HighErrorRate reduced to payments' alerts",
				URL:     base + "/api/v1/rules",
				Headers: as("alice", "team-payments"),
				Status:  http.StatusOK,
			},
			{
				ID:      "payments-alerts",
				Title:   "Alerts: HighErrorRate fires in all 7 namespaces; alice sees her 2",
				URL:     base + "/api/v1/alerts",
				Headers: as("alice", "team-payments"),
				Status:  http.StatusOK,
			},
			{
				ID:     "no-identity",
				Title:  "No identity at all: 401",
				URL:    base + "/api/v1/query",
				Params: byNamespace,
				Status: http.StatusUnauthorized,
			},
			{
				ID:      "no-tenant",
				Title:   "mallory's group marketing belongs to no tenant: 403",
				URL:     base + "/api/v1/query",
				Headers: as("mallory", "marketing"),
				Params:  byNamespace,
				Status:  http.StatusForbidden,
			},
		},
	}
}
