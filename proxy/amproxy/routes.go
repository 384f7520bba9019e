package amproxy

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/tollgate-dev/tollgate/proxy"
)

// Route names, as Alertmanager's API names its paths.
const (
	routeAlerts   = "/api/v2/alerts"
	routeGroups   = "/api/v2/alerts/groups"
	routeSilences = "/api/v2/silences"
	routeSilence  = "/api/v2/silence/:id"
	routeStatus   = "/api/v2/status"
	routeAdmin    = "/api/v2/*"
)

// routeTable is Alertmanager's API v2 as tenants see it. Every route reads
// its own request (query string and JSON body), because none is a query
// language the pipeline's enforcers know.
func (h *Handler) routeTable() map[string]*proxy.Route {
	table := []*proxy.Route{
		{Name: routeAlerts, OwnsRequest: true, Serve: h.serveAlerts},
		{Name: routeGroups, OwnsRequest: true, Serve: h.serveGroups},
		{Name: routeSilences, OwnsRequest: true, Post: true, Serve: h.serveSilences},
		{Name: routeSilence, OwnsRequest: true, Serve: h.serveSilence},
		{Name: routeStatus, OwnsRequest: true, Serve: h.serveStatus},
		// Receivers, posting alerts and whatever later versions add are
		// for admins: receiver names and raw alerts are not confined.
		{Name: routeAdmin, OwnsRequest: true, Post: true, Serve: h.serveAdminOnly},
	}
	routes := make(map[string]*proxy.Route, len(table))
	for _, rt := range table {
		routes[rt.Name] = rt
	}
	return routes
}

// silenceIDRE is what a silence ID may look like in a path: a UUID, which
// Alertmanager validates itself; anything else never reaches it.
var silenceIDRE = regexp.MustCompile(`^[0-9a-fA-F-]{1,64}$`)

// lookup finds the route of a path without the prefix, and the path to
// send upstream.
func (h *Handler) lookup(p string) (*proxy.Route, string, bool) {
	if rt, ok := h.routes[p]; ok && rt.Name != routeAdmin {
		return rt, p, true
	}
	if id, ok := strings.CutPrefix(p, "/api/v2/silence/"); ok && silenceIDRE.MatchString(id) {
		return h.routes[routeSilence], p, true
	}
	if strings.HasPrefix(p, "/api/v2/") {
		return h.routes[routeAdmin], p, true
	}
	return nil, "", false
}

// refusal is the answer to a path under the prefix that is not served.
func refusal(p string) *proxy.Error {
	if p == "/api/v1" || strings.HasPrefix(p, "/api/v1/") {
		return proxy.Forbidden("%s is Alertmanager's API v1, which Tollgate does not serve: use API v2 (%s/api/v2/alerts, %s/api/v2/silences); in Grafana, set the Alertmanager data source's implementation to Prometheus", Prefix+p, Prefix, Prefix)
	}
	return proxy.Forbidden("%s is not available through Tollgate; it serves Alertmanager's API v2 under %s/api/v2", Prefix+p, Prefix)
}

// methodNotAllowed answers a method a route does not serve.
func methodNotAllowed(method string, allowed ...string) *proxy.Error {
	e := proxy.Errorf(http.StatusMethodNotAllowed, "method %s is not allowed here; use %s", method, strings.Join(allowed, " or "))
	e.Header = http.Header{"Allow": {strings.Join(allowed, ", ")}}
	return e
}
