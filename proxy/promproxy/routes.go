package promproxy

import "github.com/tollgate-dev/tollgate/proxy"

// Parameters each endpoint accepts from tenants: Prometheus's own, plus
// the Thanos ones that only narrow a query (deduplication, partial
// responses, store selection). Anything else is refused unless configured
// as extra.
func thanosParams() []string {
	return []string{"dedup", "partial_response", "max_source_resolution", "replicaLabels[]", "storeMatch[]", "engine", "analyze"}
}

func withThanos(ps ...string) []string { return append(ps, thanosParams()...) }

const labelValuesRoute = "/api/v1/label/:name/values"

// routeTable is the Prometheus API as tenants see it. A route confines
// `query` (the query endpoints), confines every `match[]` (the metadata
// endpoints), or reads no series at all; rules and alerts answers are
// filtered by filter. POST is forwarded as POST where Prometheus accepts
// it.
func routeTable(filter, write proxy.Handler) map[string]*proxy.Route {
	instant := withThanos("query", "time", "timeout", "limit", "stats", "lookback_delta")
	rng := withThanos("query", "start", "end", "step", "timeout", "stats", "lookback_delta")
	match := withThanos("match[]", "start", "end", "limit")
	rules := []string{"type", "rule_name[]", "rule_group[]", "file[]", "exclude_alerts", "match[]", "group_limit", "group_next_token", "dedup", "partial_response"}
	table := []*proxy.Route{
		{Name: "/api/v1/query", Params: instant, Post: true, Query: proxy.QueryRequired},
		{Name: "/api/v1/query_range", Params: rng, Post: true, Query: proxy.QueryRequired, Cache: proxy.CacheRange},
		{Name: "/api/v1/query_exemplars", Params: []string{"query", "start", "end"}, Post: true, Query: proxy.QueryRequired},
		{Name: "/api/v1/series", Params: match, Post: true, Match: proxy.MatchConfined, Cache: proxy.CacheMetadata},
		{Name: "/api/v1/labels", Params: match, Post: true, Match: proxy.MatchConfined, Cache: proxy.CacheMetadata},
		{Name: labelValuesRoute, Params: match, Match: proxy.MatchConfined, Cache: proxy.CacheMetadata},
		{Name: "/federate", Params: []string{"match[]"}, Match: proxy.MatchConfined},
		// The rules API's match[] filters rules by their labels; the
		// backend parses it, so it is held to the query bounds.
		{Name: "/api/v1/rules", Params: rules, Match: proxy.MatchBounded, Serve: filter},
		{Name: "/api/v1/alerts", Params: []string{"dedup", "partial_response"}, Serve: filter},
		{Name: "/api/v1/status/buildinfo"},
		// Remote write 1.0, checked series by series.
		{Name: routeWrite, Post: true, OwnsRequest: true, Serve: write},
		// Read no series, but the backend parses the query.
		{Name: "/api/v1/format_query", Params: []string{"query"}, Post: true, Query: proxy.QueryBounded},
		{Name: "/api/v1/parse_query", Params: []string{"query"}, Post: true, Query: proxy.QueryBounded},
	}
	routes := make(map[string]*proxy.Route, len(table))
	for _, rt := range table {
		routes[rt.Name] = rt
	}
	return routes
}
