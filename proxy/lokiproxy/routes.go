package lokiproxy

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/tollgate-dev/tollgate/proxy"
)

// Route names with a name in the path, and the two the handler treats
// specially.
const (
	routeLabelValues = "/loki/api/v1/label/:name/values"
	routeFieldValues = "/loki/api/v1/detected_field/:name/values"
	routeTail        = "/loki/api/v1/tail"
	routePush        = "/loki/api/v1/push"
)

// tailHeaders are the websocket handshake headers live tail needs.
var tailHeaders = []string{"Connection", "Upgrade", "Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Extensions", "Sec-Websocket-Protocol"}

// routeTable is the Loki API as tenants see it: a query confined (or,
// where optional, set to the tenant's streams when absent), every
// `match[]` confined, live tail confined before the handshake, pushes
// checked stream by stream, and format_query held to the query bounds.
func (h *Handler) routeTable() map[string]*proxy.Route {
	rng := []string{"query", "start", "end", "since", "step", "interval", "limit", "direction"}
	labels := []string{"query", "start", "end", "since"}
	volume := []string{"query", "start", "end", "since", "step", "limit", "targetLabels", "aggregateBy"}
	table := []*proxy.Route{
		{Name: "/loki/api/v1/query", Params: []string{"query", "time", "limit", "direction"}, Post: true, Query: proxy.QueryRequired},
		{Name: "/loki/api/v1/query_range", Params: rng, Post: true, Query: proxy.QueryRequired, Cache: proxy.CacheRange},
		{Name: "/loki/api/v1/labels", Params: labels, Post: true, Query: proxy.QueryOptional, Cache: proxy.CacheMetadata},
		{Name: "/loki/api/v1/label", Params: labels, Post: true, Query: proxy.QueryOptional, Cache: proxy.CacheMetadata},
		{Name: routeLabelValues, Params: labels, Post: true, Query: proxy.QueryOptional, Cache: proxy.CacheMetadata},
		{Name: "/loki/api/v1/series", Params: []string{"match[]", "start", "end", "since"}, Post: true, Match: proxy.MatchConfined, Cache: proxy.CacheMetadata},
		{Name: "/loki/api/v1/index/stats", Params: []string{"query", "start", "end", "since"}, Post: true, Query: proxy.QueryRequired},
		{Name: "/loki/api/v1/index/volume", Params: volume, Post: true, Query: proxy.QueryRequired, Prepare: h.keepVolumeGrouping},
		{Name: "/loki/api/v1/index/volume_range", Params: volume, Post: true, Query: proxy.QueryRequired, Prepare: h.keepVolumeGrouping},
		{Name: "/loki/api/v1/patterns", Params: []string{"query", "start", "end", "since", "step"}, Post: true, Query: proxy.QueryRequired},
		{Name: "/loki/api/v1/detected_labels", Params: labels, Post: true, Query: proxy.QueryOptional},
		{Name: "/loki/api/v1/detected_fields", Params: []string{"query", "start", "end", "since", "step", "limit", "line_limit", "field_limit"}, Post: true, Query: proxy.QueryOptional},
		{Name: routeFieldValues, Params: []string{"query", "start", "end", "since", "limit", "line_limit"}, Post: true, Query: proxy.QueryOptional},
		// The query is confined before the handshake and cannot change
		// afterwards: Loki reads it only from the upgrade request.
		{Name: routeTail, Params: []string{"query", "start", "limit", "delay_for"}, Query: proxy.QueryRequired, Stream: true, Headers: tailHeaders},
		{Name: routePush, Post: true, OwnsRequest: true, Serve: h.servePush},
		{Name: "/loki/api/v1/status/buildinfo"},
		{Name: "/loki/api/v1/format_query", Params: []string{"query"}, Post: true, Query: proxy.QueryBounded},
	}
	routes := make(map[string]*proxy.Route, len(table))
	for _, rt := range table {
		routes[rt.Name] = rt
	}
	return routes
}

// lookup finds the route of a path, names in paths included.
func (h *Handler) lookup(p string) (*proxy.Route, bool) {
	if rt, ok := h.routes[p]; ok {
		return rt, true
	}
	if name, ok := pathName(p, "/loki/api/v1/label/", "/values"); ok && nameRE.MatchString(name) {
		return h.routes[routeLabelValues], true
	}
	if name, ok := pathName(p, "/loki/api/v1/detected_field/", "/values"); ok && nameRE.MatchString(name) {
		return h.routes[routeFieldValues], true
	}
	return nil, false
}

var nameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_.]*$`)

func pathName(p, prefix, suffix string) (string, bool) {
	rest, ok := strings.CutPrefix(p, prefix)
	if !ok {
		return "", false
	}
	return strings.CutSuffix(rest, suffix)
}

// Loki's legacy paths. Grafana has used /loki/api/v1 since Loki 1.0; these
// are answered with an explicit 403 pointing at the replacement rather than
// confined twice.
var legacy = map[string]string{
	"/api/prom/query":  "/loki/api/v1/query_range",
	"/api/prom/label":  "/loki/api/v1/labels",
	"/api/prom/series": "/loki/api/v1/series",
	"/api/prom/tail":   "/loki/api/v1/tail",
	"/api/prom/push":   "/loki/api/v1/push",
}

// refusal is the answer to an owned path tenants may not use.
func refusal(p string) *proxy.Error {
	if repl, ok := legacy[strings.TrimSuffix(strings.TrimSuffix(p, "/values"), "/")]; ok || strings.HasPrefix(p, "/api/prom/") {
		if repl == "" {
			repl = "/loki/api/v1"
		}
		return proxy.Forbidden("%s", fmt.Sprintf("%s is Loki's legacy API and is not served by Tollgate; use %s", p, repl))
	}
	return proxy.Forbidden("%s is not available to tenants; it is not confined to namespaces", p)
}
