package proxy_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/testkit/testenv"
)

// replicasYAML is the one configuration both replicas run: the results
// cache in one Redis (%[2]s), one audit file (%[3]q, a volume both could
// mount), and a tenant with a small request rate to show that limits are
// not shared. %[1]q is Prometheus's URL.
const replicasYAML = `
upstreams: {prometheus: %[1]q}
tenancy:
  label: namespace
  admin_groups: [platform-sre]
  tenants:
    - {name: payments, groups: [team-payments], namespaces: [team-payments-prod, team-payments-staging]}
    - {name: checkout, groups: [team-checkout], namespaces: ["team-checkout-*"]}
    - name: search
      groups: [team-search]
      namespaces: [team-search-prod]
      limits: {requests_per_second: 0.001, burst: 2}
auth:
  trusted_headers: {user: X-Forwarded-User, groups: X-Forwarded-Groups, trusted_cidrs: [127.0.0.1/32]}
cache:
  backend: redis
  redis: {address: %[2]q}
  split_interval: 7m
  max_freshness: 3m
  metadata_ttl: 1h
audit:
  file: %[3]q
  flush_interval: 20ms
`

// roundRobin sends each request to the next replica in turn, as a
// Kubernetes Service spreads connections over pods, and counts what each
// one served.
type roundRobin struct {
	replicas []string
	served   []int
	n        int
}

// next is the replica that serves the next request, and its index.
func (r *roundRobin) next() (int, string) {
	i := r.n % len(r.replicas)
	r.n++
	r.served[i]++
	return i, r.replicas[i]
}

// tenantScope is the matcher Tollgate adds to each tenant's selectors,
// written out by hand for asking the backend directly.
var tenantScope = map[string]string{
	"payments": `namespace=~"team-payments-prod|team-payments-staging"`,
	"checkout": `namespace=~"team-checkout-.*"`,
}

// Two Tollgate replicas from one configuration share one Redis behind a
// round-robin client. Whichever replica serves, every answer equals the
// backend's own for the enforced request; what one replica stored, the
// other answers from; and each tenant's entries stay its own. Limits and
// audit records are per replica, and the test shows that too.
func TestReplicasShareTheRedisCache(t *testing.T) {
	redis := testenv.StartRedis(t, testenv.RedisOptions{})
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	first, direct, end := startStack(t, "", replicasYAML, redis.Addr, auditFile)
	second := startGateway(t, fmt.Sprintf(replicasYAML, direct, redis.Addr, auditFile))
	rr := &roundRobin{replicas: []string{first, second}, served: make([]int, 2)}

	t.Run("query_range", func(t *testing.T) { replicasRange(t, rr, direct, end) })
	t.Run("metadata", func(t *testing.T) { replicasMetadata(t, rr, direct, end) })
	sent := replicasLimits(t, rr)
	replicasAudit(t, rr, auditFile, sent)
}

// replicasRange moves each tenant's dashboard window by a step per
// refresh, each refresh served by the other replica.
func replicasRange(t *testing.T, rr *roundRobin, direct string, end time.Time) {
	queries := []struct{ tenant, direct string }{
		{`sum(tollgate_demo_namespace_marker)`, `sum(tollgate_demo_namespace_marker{%s})`},
		{`sum by (namespace) (rate(http_requests_total[5m]))`, `sum by (namespace) (rate(http_requests_total{%s}[5m]))`},
	}
	marker := map[string]string{"payments": "3", "checkout": "4"}
	for _, c := range []caller{payments, checkout} {
		for _, q := range queries {
			var states []string
			for k := range 6 {
				// Five refreshes a minute apart, then the last again.
				start := end.Add(-110*time.Minute + time.Duration(min(k, 4))*time.Minute)
				stop := start.Add(time.Hour)
				i, base := rr.next()
				got := queryRange(t, base, c, q.tenant, start, stop, "60")
				want := queryRange(t, direct, anonymous, fmt.Sprintf(q.direct, tenantScope[c.name]), start, stop, "60")
				if !reflect.DeepEqual(got.series, want.series) || len(want.series) == 0 {
					t.Fatalf("%s %q refresh %d on replica %d (%s): answer differs from the backend's\n got %v\nwant %v", c.name, q.tenant, k, i, got.cache, got.series, want.series)
				}
				if strings.HasPrefix(q.tenant, "sum(tollgate_demo_namespace_marker") && onlyValue(t, got) != marker[c.name] {
					t.Fatalf("%s on replica %d read markers %s, not its own %s", c.name, i, onlyValue(t, got), marker[c.name])
				}
				states = append(states, fmt.Sprintf("%d:%s", i, got.cache))
			}
			// The first refresh found nothing (checkout's included: the same
			// query of payments, stored before, is not its entry); each
			// later one was served by the other replica than the one that
			// stored the refresh before it, mostly from the shared cache.
			want := []string{"0:miss", "1:partial", "0:partial", "1:partial", "0:partial", "1:hit"}
			if !reflect.DeepEqual(states, want) {
				t.Errorf("%s %q: replica:cache %v, want %v", c.name, q.tenant, states, want)
			}
		}
	}
}

// metadataAnswer is a metadata answer's data, in a stable order, and its
// X-Tollgate-Cache.
type metadataAnswer struct {
	data  []string
	cache string
}

func getMetadata(t *testing.T, base string, c caller, path string, ps url.Values) metadataAnswer {
	t.Helper()
	resp := c.get(t, http.DefaultClient, base+path+"?"+ps.Encode())
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var a struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &a); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %v %s", c.name, path, resp.StatusCode, err, body)
	}
	out := metadataAnswer{cache: resp.Header.Get("X-Tollgate-Cache")}
	for _, d := range a.Data {
		out.data = append(out.data, string(d))
	}
	sort.Strings(out.data)
	return out
}

// replicasMetadata asks each tenant's labels, label values and series
// twice: the second replica answers from what the first stored.
func replicasMetadata(t *testing.T, rr *roundRobin, direct string, end time.Time) {
	rng := url.Values{"start": {fmt.Sprint(end.Add(-time.Hour).Unix())}, "end": {fmt.Sprint(end.Unix())}}
	with := func(k, v string) url.Values {
		ps := url.Values{k: {v}}
		for n, vs := range rng {
			ps[n] = vs
		}
		return ps
	}
	ownNamespaces := map[string][]string{"payments": paymentsNS, "checkout": checkoutNS}
	for _, c := range []caller{payments, checkout} {
		scope := "{" + tenantScope[c.name] + "}"
		asks := []struct{ path, match, direct string }{
			{"/api/v1/labels", "", scope},
			{"/api/v1/label/namespace/values", "", scope},
			{"/api/v1/series", "tollgate_demo_namespace_marker", "tollgate_demo_namespace_marker" + scope},
		}
		for _, a := range asks {
			want := getMetadata(t, direct, anonymous, a.path, with("match[]", a.direct))
			ps := rng
			if a.match != "" {
				ps = with("match[]", a.match)
			}
			var states []string
			for range 2 {
				i, base := rr.next()
				got := getMetadata(t, base, c, a.path, ps)
				if !reflect.DeepEqual(got.data, want.data) || len(want.data) == 0 {
					t.Fatalf("%s %s on replica %d (%s): %v, the backend's %v", c.name, a.path, i, got.cache, got.data, want.data)
				}
				if a.path == "/api/v1/label/namespace/values" {
					// Hand-written: the tenant's own namespaces.
					var ns []string
					for _, v := range got.data {
						ns = append(ns, strings.Trim(v, `"`))
					}
					if !reflect.DeepEqual(ns, ownNamespaces[c.name]) {
						t.Errorf("%s on replica %d sees namespaces %v, want %v", c.name, i, ns, ownNamespaces[c.name])
					}
				}
				states = append(states, fmt.Sprintf("%d:%s", i, got.cache))
			}
			// Each pair starts on the first replica (an even number of
			// requests came before).
			if want := []string{"0:miss", "1:hit"}; !reflect.DeepEqual(states, want) {
				t.Errorf("%s %s: replica:cache %v, want %v", c.name, a.path, states, want)
			}
		}
	}
}

// servedRequest is a request and the replica that answered it.
type servedRequest struct {
	replica, status int
	id              string
}

// replicasLimits sends a tenant with a burst of 2 and almost no refill six
// requests in turn: each replica has its own bucket, so the tenant gets
// twice its burst before both refuse.
func replicasLimits(t *testing.T, rr *roundRobin) []servedRequest {
	search := []string{"X-Forwarded-User", "sue", "X-Forwarded-Groups", "team-search"}
	var out []servedRequest
	var codes []int
	for range 6 {
		i, base := rr.next()
		code, id := auditGet(t, base, "/api/v1/query?query=sum(tollgate_demo_namespace_marker)", search...)
		out = append(out, servedRequest{replica: i, status: code, id: id})
		codes = append(codes, code)
	}
	if want := []int{200, 200, 200, 200, 429, 429}; !reflect.DeepEqual(codes, want) {
		t.Errorf("search's six requests over two replicas: %v, want %v (a burst of 2 on each replica)", codes, want)
	}
	return out
}

// replicasAudit reads the audit file both replicas append to: every
// request has exactly one record, written by the replica that served it
// (its request ID carries that replica's prefix).
func replicasAudit(t *testing.T, rr *roundRobin, path string, sent []servedRequest) {
	recs, _ := waitRecords(t, path, rr.n)
	time.Sleep(100 * time.Millisecond) // five flush intervals: any extra record would show
	recs, _ = waitRecords(t, path, rr.n)
	if len(recs) != rr.n {
		t.Fatalf("%d audit records for %d requests", len(recs), rr.n)
	}
	perPrefix := map[string]int{}
	byID := map[string][]int{}
	for _, r := range recs {
		perPrefix[r.RequestID[:strings.LastIndex(r.RequestID, "-")+1]]++
		byID[r.RequestID] = append(byID[r.RequestID], r.Status)
	}
	prefixOf := map[int]string{}
	for _, s := range sent {
		p := s.id[:strings.LastIndex(s.id, "-")+1]
		if prev, ok := prefixOf[s.replica]; ok && prev != p {
			t.Fatalf("replica %d answered with request IDs %s and %s", s.replica, prev, s.id)
		}
		prefixOf[s.replica] = p
		if got := byID[s.id]; !reflect.DeepEqual(got, []int{s.status}) {
			t.Errorf("request %s (%d on replica %d): records with statuses %v, want one", s.id, s.status, s.replica, got)
		}
	}
	if prefixOf[0] == prefixOf[1] {
		t.Fatalf("both replicas use the request ID prefix %s", prefixOf[0])
	}
	for i, p := range prefixOf {
		if perPrefix[p] != rr.served[i] {
			t.Errorf("replica %d (%s) recorded %d requests, served %d", i, p, perPrefix[p], rr.served[i])
		}
	}
}
