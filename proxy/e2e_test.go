package proxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/gateway"
	"github.com/tollgate-dev/tollgate/identity"
	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/demo/synth"
	"github.com/tollgate-dev/tollgate/internal/httpserver"
	"github.com/tollgate-dev/tollgate/internal/testkit/testenv"
)

// The synthetic cluster gives each namespace a power-of-two marker, so a sum
// names exactly the namespaces it read.
var (
	paymentsNS  = []string{"team-payments-prod", "team-payments-staging"} // markers 1 + 2
	checkoutNS  = []string{"team-checkout-prod"}                          // marker 4
	allMarkers  = 127.0                                                   // seven namespaces
	adminToken  = "e2e-admin-token"
	paymentsBot = "e2e-payments-bot-token"
)

const e2eRules = `groups:
- name: e2e
  rules:
  - record: namespace:http_requests:rate5m
    expr: sum by (namespace) (rate(http_requests_total[5m]))
  - record: checkout:static
    expr: vector(1)
    labels: {namespace: team-checkout-prod}
  - alert: NamespaceMarker
    expr: tollgate_demo_namespace_marker > 0
  - alert: PaymentsOnly
    expr: vector(1)
    labels: {namespace: team-payments-prod}
  - alert: CheckoutOnly
    expr: vector(1)
    labels: {namespace: team-checkout-prod}
`

type e2e struct {
	backend  backend
	be       started
	gateway  string // Tollgate's URL
	direct   string // the backend's URL
	evalTime string // instant queries are evaluated at the end of the data
	// clients by caller; the "forged" client connects from 127.0.0.2, which
	// is loopback but not a trusted address.
	trusted, forged *http.Client
}

type caller struct {
	name    string
	headers []string
	forged  bool
}

// get sends a GET of rawURL with the caller's headers and more (name,
// value pairs) through client; the test ends on a transport error.
func (c caller) get(t *testing.T, client *http.Client, rawURL string, more ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	hs := append(append([]string(nil), c.headers...), more...)
	for i := 0; i+1 < len(hs); i += 2 {
		req.Header.Set(hs[i], hs[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

var (
	payments   = caller{name: "payments", headers: []string{"X-Forwarded-User", "alice", "X-Forwarded-Groups", "team-payments"}}
	paymentsCI = caller{name: "payments-token", headers: []string{"Authorization", "Bearer " + paymentsBot}}
	checkout   = caller{name: "checkout", headers: []string{"X-Forwarded-User", "bob", "X-Forwarded-Groups", "team-checkout, interns"}}
	admin      = caller{name: "admin", headers: []string{"Authorization", "Bearer " + adminToken}}
	anonymous  = caller{name: "anonymous"}
	nobody     = caller{name: "no-tenant", headers: []string{"X-Forwarded-User", "carol", "X-Forwarded-Groups", "interns"}}
	forged     = caller{name: "forged", forged: true, headers: []string{"X-Forwarded-User", "mallory", "X-Forwarded-Groups", "platform-sre,team-payments"}}
)

// startStack backfills two hours of the synthetic cluster, ending now, into
// a real Prometheus 2.42 with the given rules, and starts Tollgate in front
// of it with the configuration gatewayYAML (a format string whose %[1]q is
// the Prometheus URL). It returns both URLs and the end of the data.
func startStack(tb testing.TB, rules, gatewayYAML string, args ...any) (gateway, direct string, end time.Time) {
	tb.Helper()
	return startStackFor(tb, 2*time.Hour, rules, gatewayYAML, args...)
}

// startStackFor is startStack with span of data before now.
func startStackFor(tb testing.TB, span time.Duration, rules, gatewayYAML string, args ...any) (gateway, direct string, end time.Time) {
	tb.Helper()
	prom, end := startPrometheusFor(tb, span, rules)
	return startGateway(tb, fmt.Sprintf(gatewayYAML, append([]any{prom}, args...)...)), prom, end
}

// startPrometheusFor is startStackFor's Prometheus alone.
func startPrometheusFor(tb testing.TB, span time.Duration, rules string) (prom string, end time.Time) {
	tb.Helper()
	end = time.Now().Truncate(time.Minute)
	om := openMetricsOver(tb, synth.Default().Series(), synth.Window{Start: end.Add(-span), End: end, Step: 30 * time.Second}, "")
	return testenv.StartPrometheus(tb, testenv.PrometheusOptions{OpenMetrics: om, Rules: rules}).URL, end
}

// paymentsOnly is the tenancy and authentication of the tests that need
// one tenant: payments, identified by trusted headers from loopback.
const paymentsOnly = `tenancy:
  label: namespace
  tenants:
    - {name: payments, groups: [team-payments], namespaces: [team-payments-prod, team-payments-staging]}
auth:
  trusted_headers: {user: X-Forwarded-User, groups: X-Forwarded-Groups, trusted_cidrs: [127.0.0.1/32]}
`

// e2eWindow is the two hours of synthetic data that end at end.
func e2eWindow(end time.Time) synth.Window {
	return synth.Window{Start: end.Add(-2 * time.Hour), End: end, Step: 30 * time.Second}
}

// openMetrics renders series over the window, followed by more
// OpenMetrics families (text without "# EOF").
func openMetrics(tb testing.TB, series []synth.Series, end time.Time, more string) []byte {
	tb.Helper()
	return openMetricsOver(tb, series, e2eWindow(end), more)
}

// openMetricsOver is openMetrics over any window.
func openMetricsOver(tb testing.TB, series []synth.Series, w synth.Window, more string) []byte {
	tb.Helper()
	var om bytes.Buffer
	if err := synth.WriteOpenMetrics(&om, series, w); err != nil {
		tb.Fatal(err)
	}
	return append(bytes.TrimSuffix(om.Bytes(), []byte("# EOF\n")), more+"# EOF\n"...)
}

// startGateway serves Tollgate with the given configuration on a loopback
// port until the test ends, and returns its URL.
func startGateway(tb testing.TB, yaml string) string {
	tb.Helper()
	cfg, _, err := config.Parse("test.yaml", []byte(yaml))
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := gateway.FromConfig(cfg, nil, nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return serveGateway(tb, srv, cfg)
}

// serveGateway serves h on a loopback port as `tollgate serve` does (the
// server proxy.http_server names, keep-alives, timeouts, draining) until
// the test ends, and returns its URL.
func serveGateway(tb testing.TB, h http.Handler, cfg *config.File) string {
	tb.Helper()
	ln, err := httpserver.Listen("127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- httpserver.Serve(ctx, httpserver.LimitListener(ln, 1024), h, httpserver.Options{
			IdleTimeout: time.Duration(cfg.Proxy.IdleTimeout), FastHTTP1: cfg.Proxy.FastHTTP1(),
		})
	}()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("stopping the gateway: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// e2eGateway is the isolation suite's configuration; %[1]q is the
// backend's URL.
const e2eGateway = "upstreams: {prometheus: %[1]q}\n" + suiteTenancy + `  tokens:
    - {name: ci, sha256: %[2]q, groups: [platform-sre]}
    - {name: payments-bot, sha256: %[3]q, groups: [team-payments]}
`

// suiteTenancy is the isolation suite's tenants (payments, checkout and
// platform-sre's admins) and trusted headers from loopback, ending in the
// auth mapping so that more auth keys may follow.
const suiteTenancy = `tenancy:
  label: namespace
  admin_groups: [platform-sre]
  tenants:
    - {name: payments, groups: [team-payments], namespaces: [team-payments-prod, team-payments-staging]}
    - {name: checkout, groups: [team-checkout], namespaces: ["team-checkout-*"]}
auth:
  trusted_headers: {user: X-Forwarded-User, groups: X-Forwarded-Groups, trusted_cidrs: [127.0.0.1/32]}
`

// gatewayFor starts another Tollgate with the suite's configuration in
// front of url; upstreams holds more keys of the upstreams mapping (e.g.
// ", prometheus_dialect: prometheus2").
func gatewayFor(tb testing.TB, url, upstreams string) string {
	tb.Helper()
	yaml := strings.Replace(e2eGateway, "upstreams: {prometheus: %[1]q}", "upstreams: {prometheus: %[1]q"+upstreams+"}", 1)
	return startGateway(tb, fmt.Sprintf(yaml, url, identity.HashToken(adminToken), identity.HashToken(paymentsBot)))
}

func setupE2E(t *testing.T, b backend) *e2e {
	t.Helper()
	end := time.Now().Truncate(time.Minute)
	be := b.start(t, end, e2eRules)
	gateway, direct := gatewayFor(t, be.url, ""), be.url

	forgedDialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	env := &e2e{
		backend: b, be: be,
		gateway: gateway, direct: direct,
		evalTime: strconv.FormatInt(end.Unix(), 10),
		trusted:  &http.Client{Timeout: 30 * time.Second},
		forged:   &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: forgedDialer.DialContext}},
	}
	env.waitForAlerts(t, b.alerts)
	return env
}

// do sends a request to the gateway as c, as GET (parameters in the URL) or
// POST (parameters in a form body).
func (e *e2e) do(t *testing.T, c caller, method, path string, params url.Values) (int, []byte) {
	t.Helper()
	return e.send(t, e.gateway, c, method, path, params)
}

func (e *e2e) send(t *testing.T, base string, c caller, method, path string, params url.Values) (int, []byte) {
	t.Helper()
	u := base + path
	var body io.Reader
	if method == http.MethodGet && len(params) > 0 {
		u += "?" + params.Encode()
	} else if method == http.MethodPost {
		body = strings.NewReader(params.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(c.headers); i += 2 {
		req.Header.Set(c.headers[i], c.headers[i+1])
	}
	client := e.trusted
	if c.forged {
		client = e.forged
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s as %s: %v", method, path, c.name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

type apiResponse struct {
	Status    string          `json:"status"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Data      json.RawMessage `json:"data"`
}

func (e *e2e) ok(t *testing.T, c caller, method, path string, params url.Values) json.RawMessage {
	t.Helper()
	code, body := e.do(t, c, method, path, params)
	var r apiResponse
	if err := json.Unmarshal(body, &r); err != nil || code != 200 || r.Status != "success" {
		t.Fatalf("%s %s %v as %s: %d %s", method, path, params, c.name, code, body)
	}
	return r.Data
}

// instant runs an instant query and returns its result by namespace (or ""
// for series without one).
func (e *e2e) instant(t *testing.T, c caller, method, q string) map[string]float64 {
	t.Helper()
	data := e.ok(t, c, method, "/api/v1/query", url.Values{"query": {q}, "time": {e.evalTime}})
	var v struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, r := range v.Result {
		f, _ := strconv.ParseFloat(r.Value[1].(string), 64)
		out[r.Metric["namespace"]] += f
	}
	return out
}

func (e *e2e) waitForAlerts(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		code, body := e.send(t, e.direct, anonymous, http.MethodGet, "/api/v1/alerts", nil)
		var r struct {
			Data struct {
				Alerts []any `json:"alerts"`
			} `json:"data"`
		}
		if code == 200 && json.Unmarshal(body, &r) == nil && len(r.Data.Alerts) >= want {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the e2e rules did not produce their %d alerts within 30s", want)
}

var methods = []string{http.MethodGet, http.MethodPost}

// TestE2E is the isolation suite, against each backend: Prometheus 2.42,
// Prometheus 3 and Thanos Query over two clusters. The backends start in
// parallel; each runs every check below, and what only some serve (UTF-8
// names, Thanos' parameters and partial answers) after.
func TestE2E(t *testing.T) {
	for _, b := range e2eBackends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e := setupE2E(t, b)
			isolationSuite(t, e)
			t.Run("dialect", func(t *testing.T) { dialectMatrix(t, e) })
			if b.utf8 {
				t.Run("utf-8 names", func(t *testing.T) { utf8Suite(t, e) })
			}
			if b.thanos() {
				t.Run("thanos parameters", func(t *testing.T) { thanosParamMatrix(t, e) })
				t.Run("partial response", func(t *testing.T) { partialResponse(t, e) })
				t.Run("cluster tenancy", func(t *testing.T) { clusterTenancy(t, e) })
			}
		})
	}
}

func isolationSuite(t *testing.T, e *e2e) {

	t.Run("identity", func(t *testing.T) {
		for _, tc := range []struct {
			c      caller
			status int
		}{{anonymous, 401}, {forged, 401}, {nobody, 403}, {payments, 200}, {paymentsCI, 200}, {admin, 200}} {
			for _, m := range methods {
				code, body := e.do(t, tc.c, m, "/api/v1/query", url.Values{"query": {"vector(1)"}})
				if code != tc.status {
					t.Errorf("%s %s: status %d, want %d: %s", tc.c.name, m, code, tc.status, body)
				}
			}
		}
	})

	t.Run("query sums see only the tenant", func(t *testing.T) {
		for _, m := range methods {
			for _, tc := range []struct {
				c    caller
				want float64
			}{{payments, 3}, {paymentsCI, 3}, {checkout, 4}, {admin, allMarkers}} {
				got := e.instant(t, tc.c, m, `sum(tollgate_demo_namespace_marker)`)
				if got[""] != tc.want {
					t.Errorf("%s %s: sum = %v, want %v", tc.c.name, m, got[""], tc.want)
				}
			}
		}
	})

	t.Run("bypass attempts read nothing outside the tenant", func(t *testing.T) {
		for _, m := range methods {
			for _, q := range []string{
				`sum(tollgate_demo_namespace_marker{namespace=~".+"})`,
				`sum(tollgate_demo_namespace_marker{namespace!="team-payments-prod"}) + sum(tollgate_demo_namespace_marker{namespace="team-payments-prod"})`,
				`sum({__name__="tollgate_demo_namespace_marker"})`,
				`sum({__name__=~"tollgate_demo_namespace_.*", namespace=~"team-.*|kube-system|monitoring"})`,
				`sum(max_over_time(tollgate_demo_namespace_marker[10m:1m]))`,
				`sum(tollgate_demo_namespace_marker offset 5m)`,
				`sum(last_over_time(tollgate_demo_namespace_marker[10m] @ ` + e.evalTime + `))`,
				`sum(tollgate_demo_namespace_marker) * on() group_left() count(count by (namespace) (tollgate_demo_namespace_marker)) / 2`,
				`sum(label_replace(tollgate_demo_namespace_marker, "copy", "$1", "namespace", "(.*)"))`,
				`sum(tollgate_demo_namespace_marker or on() vector(0))`,
				`topk(scalar(count(tollgate_demo_namespace_marker)) * 10, tollgate_demo_namespace_marker) * 0 + on(namespace) tollgate_demo_namespace_marker`,
			} {
				got := e.instant(t, payments, m, q)
				total := 0.0
				for ns, v := range got {
					if ns != "" && !slices.Contains(paymentsNS, ns) {
						t.Errorf("%s %q: result for foreign namespace %s", m, q, ns)
					}
					total += v
				}
				if total != 3 {
					t.Errorf("%s %q: total %v, want 3 (payments' markers)", m, q, total)
				}
			}
			if got := e.instant(t, payments, m, `tollgate_demo_namespace_marker{namespace="team-checkout-prod"}`); len(got) != 0 {
				t.Errorf("%s: explicit foreign namespace returned %v", m, got)
			}
			if got := e.instant(t, payments, m, `count(count by (namespace) ({__name__=~".+"}))`); got[""] != 2 {
				t.Errorf("%s: payments sees %v namespaces, want 2", m, got[""])
			}
		}
	})

	t.Run("aggregations equal the admin's view of the same namespaces", func(t *testing.T) {
		tenant := e.instant(t, payments, http.MethodPost, `sum(rate(http_requests_total[5m])) + sum(histogram_quantile(0.99, sum by (le, namespace) (rate(http_request_duration_seconds_bucket[5m]))))`)
		direct := e.instant(t, admin, http.MethodPost, `sum(rate(http_requests_total{namespace=~"team-payments-prod|team-payments-staging"}[5m])) + sum(histogram_quantile(0.99, sum by (le, namespace) (rate(http_request_duration_seconds_bucket{namespace=~"team-payments-prod|team-payments-staging"}[5m]))))`)
		if tenant[""] == 0 || tenant[""] != direct[""] {
			t.Errorf("tenant aggregate %v != admin's restricted aggregate %v", tenant[""], direct[""])
		}
	})

	t.Run("absent keeps the labels the tenant's own data would give", func(t *testing.T) {
		metric := func(c caller, q string) string {
			data := e.ok(t, c, http.MethodGet, "/api/v1/query", url.Values{"query": {q}, "time": {e.evalTime}})
			var v struct {
				Result []struct {
					Metric map[string]string `json:"metric"`
				} `json:"result"`
			}
			if err := json.Unmarshal(data, &v); err != nil || len(v.Result) != 1 {
				t.Fatalf("%s: %s", q, data)
			}
			return fmt.Sprint(v.Result[0].Metric)
		}
		for _, tc := range []struct {
			c caller
			q string
		}{
			{checkout, `absent(tollgate_demo_namespace_marker{namespace="team-checkout-prod", app="gone"})`},
			{checkout, `absent(tollgate_demo_namespace_marker{app="gone"})`},
			{checkout, `absent_over_time(tollgate_demo_namespace_marker{app="gone"}[5m])`},
			{payments, `absent_over_time(tollgate_demo_namespace_marker{namespace="team-payments-prod", app="gone"}[5m])`},
			{payments, `absent(tollgate_demo_namespace_marker{app="gone"})`},
		} {
			// The series are absent from every namespace, so the admin's
			// answer on the whole cluster is the tenant's own-data answer.
			if got, want := metric(tc.c, tc.q), metric(admin, tc.q); got != want {
				t.Errorf("%s: %s: labels %s, want %s", tc.c.name, tc.q, got, want)
			}
		}
	})

	t.Run("query_range", func(t *testing.T) {
		end, _ := strconv.ParseInt(e.evalTime, 10, 64)
		for _, m := range methods {
			data := e.ok(t, checkout, m, "/api/v1/query_range", url.Values{
				"query": {`sum(tollgate_demo_namespace_marker{namespace=~".*"})`},
				"start": {strconv.FormatInt(end-3600, 10)}, "end": {e.evalTime}, "step": {"60"},
			})
			var v struct {
				Result []struct {
					Values [][2]any `json:"values"`
				} `json:"result"`
			}
			if err := json.Unmarshal(data, &v); err != nil || len(v.Result) != 1 || len(v.Result[0].Values) != 61 {
				t.Fatalf("%s: unexpected matrix %s", m, data)
			}
			for _, p := range v.Result[0].Values {
				if p[1] != "4" {
					t.Fatalf("%s: point %v, want 4 everywhere", m, p)
				}
			}
		}
	})

	t.Run("query_exemplars", func(t *testing.T) {
		for _, m := range methods {
			e.ok(t, payments, m, "/api/v1/query_exemplars", url.Values{"query": {"http_requests_total"}, "start": {"0"}, "end": {e.evalTime}})
		}
	})

	t.Run("series", func(t *testing.T) {
		for _, m := range methods {
			for _, params := range []url.Values{
				{"match[]": {"tollgate_demo_namespace_marker"}},
				{"match[]": {`{namespace="team-checkout-prod"}`, `{__name__=~"kube_.*"}`}},
				{}, // Prometheus requires match[]; Tollgate adds the tenant's
			} {
				var series []map[string]string
				if err := json.Unmarshal(e.ok(t, payments, m, "/api/v1/series", params), &series); err != nil {
					t.Fatal(err)
				}
				if len(params) > 0 && len(series) == 0 && params["match[]"][0] == "tollgate_demo_namespace_marker" {
					t.Errorf("%s %v: no series", m, params)
				}
				for _, s := range series {
					if !slices.Contains(paymentsNS, s["namespace"]) {
						t.Errorf("%s %v: foreign series %v", m, params, s)
					}
				}
			}
		}
	})

	t.Run("labels", func(t *testing.T) {
		for _, m := range methods {
			var tenantLabels, adminLabels []string
			_ = json.Unmarshal(e.ok(t, payments, m, "/api/v1/labels", nil), &tenantLabels)
			_ = json.Unmarshal(e.ok(t, admin, m, "/api/v1/labels", nil), &adminLabels)
			// Node labels exist only on series without a namespace.
			if slices.Contains(tenantLabels, "label_karpenter_sh_capacity_type") || !slices.Contains(adminLabels, "label_karpenter_sh_capacity_type") {
				t.Errorf("%s: tenant labels %v / admin labels %v", m, tenantLabels, adminLabels)
			}
			if !slices.Contains(tenantLabels, "namespace") || !slices.Contains(tenantLabels, "service") {
				t.Errorf("%s: tenant labels incomplete: %v", m, tenantLabels)
			}
		}
	})

	t.Run("label values", func(t *testing.T) {
		for _, m := range methods {
			var got []string
			_ = json.Unmarshal(e.ok(t, payments, m, "/api/v1/label/namespace/values", nil), &got)
			if !slices.Equal(got, paymentsNS) {
				t.Errorf("%s: namespaces %v, want %v", m, got, paymentsNS)
			}
			got = nil
			_ = json.Unmarshal(e.ok(t, payments, m, "/api/v1/label/namespace/values", url.Values{"match[]": {`{namespace="team-checkout-prod"}`}}), &got)
			if len(got) != 0 {
				t.Errorf("%s: foreign match[] returned %v", m, got)
			}
			got = nil
			_ = json.Unmarshal(e.ok(t, checkout, m, "/api/v1/label/service/values", nil), &got)
			if !slices.Equal(got, []string{"cart", "checkout-web"}) {
				t.Errorf("%s: checkout services %v", m, got)
			}
		}
	})

	t.Run("federate", func(t *testing.T) {
		for _, m := range methods {
			params := url.Values{"match[]": {`{__name__=~"tollgate_demo_.*"}`}}
			code, body := e.do(t, payments, m, "/federate", params)
			if !e.backend.federate {
				// Thanos Query has no /federate: the tenant gets the
				// backend's own refusal, and no series.
				wantCode, _ := e.send(t, e.direct, anonymous, http.MethodGet, "/federate", params)
				if code != wantCode || code == 200 || bytes.Contains(body, []byte("tollgate_demo_")) {
					t.Errorf("%s: %d %s, direct gives %d", m, code, body, wantCode)
				}
				continue
			}
			if code != 200 {
				t.Fatalf("%s: %d %s", m, code, body)
			}
			var seen []string
			for _, line := range strings.Split(string(body), "\n") {
				if strings.HasPrefix(line, "tollgate_demo_namespace_marker{") {
					seen = append(seen, line)
					if !strings.Contains(line, `namespace="team-payments-`) {
						t.Errorf("%s: foreign series %s", m, line)
					}
				}
			}
			if len(seen) != 2 {
				t.Errorf("%s: %d marker series federated, want 2:\n%s", m, len(seen), body)
			}
		}
	})

	t.Run("rules", func(t *testing.T) {
		for _, m := range methods {
			var d struct {
				Groups []struct {
					Rules []struct {
						Name   string `json:"name"`
						Alerts []struct {
							Labels map[string]string `json:"labels"`
						} `json:"alerts"`
					} `json:"rules"`
				} `json:"groups"`
			}
			if err := json.Unmarshal(e.ok(t, payments, m, "/api/v1/rules", nil), &d); err != nil {
				t.Fatal(err)
			}
			var names, alertNS []string
			for _, g := range d.Groups {
				for _, r := range g.Rules {
					names = append(names, r.Name)
					for _, a := range r.Alerts {
						alertNS = append(alertNS, a.Labels["namespace"])
					}
				}
			}
			sort.Strings(alertNS)
			if strings.Join(names, ",") != "NamespaceMarker,PaymentsOnly" {
				t.Errorf("%s: rules %v, want NamespaceMarker,PaymentsOnly", m, names)
			}
			if strings.Join(alertNS, ",") != "team-payments-prod,team-payments-prod,team-payments-staging" {
				t.Errorf("%s: alerts in %v", m, alertNS)
			}
		}
	})

	t.Run("alerts", func(t *testing.T) {
		for _, m := range methods {
			var d struct {
				Alerts []struct {
					Labels map[string]string `json:"labels"`
				} `json:"alerts"`
			}
			_ = json.Unmarshal(e.ok(t, checkout, m, "/api/v1/alerts", nil), &d)
			var got []string
			for _, a := range d.Alerts {
				got = append(got, a.Labels["alertname"]+"/"+a.Labels["namespace"])
			}
			sort.Strings(got)
			if strings.Join(got, " ") != "CheckoutOnly/team-checkout-prod NamespaceMarker/team-checkout-prod" {
				t.Errorf("%s: alerts %v", m, got)
			}
		}
	})

	t.Run("endpoints without data pass through", func(t *testing.T) {
		for _, p := range []string{"/api/v1/status/buildinfo", "/api/v1/format_query", "/api/v1/parse_query"} {
			params := url.Values{}
			if p != "/api/v1/status/buildinfo" {
				params.Set("query", "sum(up)")
			}
			wantCode, wantBody := e.send(t, e.direct, anonymous, http.MethodGet, p, params)
			for _, m := range methods {
				code, body := e.do(t, payments, m, p, params)
				if code != wantCode || (code == 200 && !bytes.Equal(body, wantBody)) {
					t.Errorf("%s %s: %d %s, direct gives %d %s", m, p, code, body, wantCode, wantBody)
				}
			}
		}
	})

	t.Run("everything else is refused for tenants and forwarded for admins", func(t *testing.T) {
		for _, p := range []string{"/api/v1/metadata", "/api/v1/targets", "/api/v1/status/tsdb", "/api/v1/status/config", "/api/v1/admin/tsdb/snapshot", "/api/v1/nonexistent",
			// Thanos Query's own: its stores and their external labels,
			// query plans, its flags.
			"/api/v1/stores", "/api/v1/query_explain", "/api/v1/query_range_explain", "/api/v1/status/flags", "/api/v1/status/runtimeinfo"} {
			for _, m := range methods {
				code, body := e.do(t, payments, m, p, nil)
				var r apiResponse
				if code != 403 || json.Unmarshal(body, &r) != nil || r.ErrorType != "forbidden" {
					t.Errorf("payments %s %s: %d %s, want 403 forbidden", m, p, code, body)
				}
			}
			// Admins get whatever the upstream answers.
			m := http.MethodGet
			if strings.Contains(p, "/admin/") || strings.HasSuffix(p, "/write") {
				m = http.MethodPost
			}
			wantCode, _ := e.send(t, e.direct, anonymous, m, p, nil)
			if code, body := e.do(t, admin, m, p, nil); code != wantCode {
				t.Errorf("admin %s %s: %d %s, direct gives %d", m, p, code, body, wantCode)
			}
		}
	})

	t.Run("forged identity reads nothing anywhere", func(t *testing.T) {
		for _, p := range []string{"/api/v1/query?query=up", "/api/v1/series?match[]=up", "/api/v1/labels", "/api/v1/label/namespace/values", "/federate?match[]=up", "/api/v1/rules", "/api/v1/alerts", "/api/v1/status/buildinfo"} {
			u, _ := url.Parse(p)
			for _, m := range methods {
				code, body := e.do(t, forged, m, u.Path, u.Query())
				if code != 401 || bytes.Contains(body, []byte("team-")) {
					t.Errorf("forged %s %s: %d %s", m, p, code, body)
				}
			}
		}
	})
}
