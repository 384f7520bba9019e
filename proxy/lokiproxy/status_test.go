package lokiproxy

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// An invalid LogQL query is the caller's mistake, not a permission
// problem: 400 in Loki's plain-text error format, saying what is wrong,
// and nothing reaches Loki. Before Tollgate had its own parser, queries
// that Loki's parser let through without validation came back as 403
// ("refused query: empty expression", "range aggregation without a
// range").
func TestInvalidQueriesAre400(t *testing.T) {
	h, f := newTestHandler(t)
	a := testTenancy(t).Resolve([]string{"team-payments"})
	for query, why := range map[string]string{
		" ":                            "empty query",
		"# only a comment":             "empty query",
		`sum_over_time({app="a"}[5m])`: "without unwrap",
		`count_over_time({app="a"} | logfmt | unwrap x [5m])`:    "with unwrap",
		`quantile_over_time({app="a"} | unwrap x [5m])`:          "parameter required",
		`topk(0, rate({app="a"}[5m]))`:                           "greater than 0",
		`sum by (pod) (rate({app="a"}[5m])) and 1`:               "cannot be an operand",
		`rate({app="a"} | regexp "(x)" [5m])`:                    "named capture",
		`{app="a"} | pattern "<a><b>"`:                           "consecutive",
		`sort by (pod) (rate({app="a"}[5m]))`:                    "grouping",
		`label_replace(rate({app="a"}[5m]), "a", "b", "c", "(")`: "invalid regex",
		`{app="a"}[5m]`: "must be aggregated",
	} {
		for _, p := range []string{"/loki/api/v1/query", "/loki/api/v1/query_range", "/loki/api/v1/tail"} {
			r := httptest.NewRequest(http.MethodGet, p+"?"+url.Values{"query": {query}}.Encode(), nil)
			w := serve(h, r, a)
			if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), why) || w.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
				t.Errorf("%s %q: %d %q, want 400 saying %q as Loki's plain text", p, query, w.Code, w.Body, why)
			}
		}
	}
	if f.count() != 0 {
		t.Errorf("%d invalid queries reached Loki", f.count())
	}
}
