package proxy_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/identity"
)

// lokiMatrix runs a Loki metric query_range and returns each series'
// points, and where the answer came from.
func lokiMatrix(t *testing.T, e *lokiE2E, base string, c caller, q string, start, end time.Time, headers ...string) (map[string][][2]any, string) {
	t.Helper()
	ps := url.Values{"query": {q}, "start": {strconv.FormatInt(start.UnixNano(), 10)}, "end": {strconv.FormatInt(end.UnixNano(), 10)}, "step": {"60"}}
	resp := c.get(t, e.client, base+"/loki/api/v1/query_range?"+ps.Encode(), headers...)
	defer resp.Body.Close()
	var a struct {
		Data struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Values [][2]any          `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != 200 || a.Data.ResultType != "matrix" {
		t.Fatalf("%s %q: %d %v (%s)", c.name, q, resp.StatusCode, err, a.Data.ResultType)
	}
	out := map[string][][2]any{}
	for _, s := range a.Data.Result {
		out[fmt.Sprint(s.Metric)] = s.Values
	}
	return out, resp.Header.Get("X-Tollgate-Cache")
}

// Loki metric query_range answers served partly or wholly from the cache
// equal Loki's own, and a log query is never cached.
func TestLokiMetricQueryRangeCache(t *testing.T) {
	e := setupLokiE2E(t)
	gw := startGateway(t, fmt.Sprintf(lokiGatewayYAML, e.direct, identity.HashToken(adminToken))+"cache:\n  max_freshness: 1s\n  split_interval: 5m\n")
	q := `sum by (namespace) (count_over_time({app="api"}[2m]))`
	scoped := `sum by (namespace) (count_over_time({app="api", namespace=~"team-payments-prod|team-payments-staging"}[2m]))`
	base := e.start.Truncate(time.Minute).Add(-2 * time.Minute)
	states := map[string]int{}
	for k := range 5 {
		start := base.Add(time.Duration(min(k, 3)) * time.Minute)
		end := start.Add(8 * time.Minute)
		got, state := lokiMatrix(t, e, gw, payments, q, start, end)
		want, _ := lokiMatrix(t, e, e.direct, anonymous, scoped, start, end, "X-Scope-OrgID", "payments")
		if len(want) == 0 {
			t.Fatal("Loki's own answer is empty; the test compares nothing")
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("window %d (%s): cached answer differs from Loki's\n got %v\nwant %v", k, state, got, want)
		}
		states[state]++
	}
	if states["hit"] == 0 || states["partial"] == 0 {
		t.Errorf("cache states %v: want partial and whole hits", states)
	}
	// A log query answers streams: forwarded, never cached.
	p := e.window()
	p.Set("query", `{app="api"}`)
	code, _ := e.send(t, gw, payments, http.MethodGet, "/loki/api/v1/query_range", p)
	if code != 200 {
		t.Fatalf("log query: %d", code)
	}
}
