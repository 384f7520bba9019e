package proxy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/demo/synth"
	"github.com/tollgate-dev/tollgate/internal/testkit/testenv"
	"github.com/tollgate-dev/tollgate/promenforce"
)

// backend is one PromQL backend the isolation suite runs against, with
// what it serves differently.
type backend struct {
	name string
	// start backfills the synthetic cluster (two hours ending at end) with
	// the rules and starts the backend.
	start func(tb testing.TB, end time.Time, rules string) started
	// dialect is what upstreams.prometheus_dialect: auto must find.
	dialect promenforce.Dialect
	// federate: the backend serves /federate (Thanos Query does not).
	federate bool
	// alerts the e2e rules raise.
	alerts int
	// utf8: the backend reads quoted UTF-8 names (Prometheus 3's syntax),
	// and holds the UTF-8 series of utf8Series.
	utf8 bool
}

// started is a running backend.
type started struct {
	url    string
	thanos *testenv.Thanos // for Thanos only
}

// e2eBackends are the backends of the isolation suite: the Debian
// Prometheus 2.42, the real Prometheus 3 and Thanos Query over two
// Prometheus 3 "clusters".
func e2eBackends() []backend {
	return []backend{prometheus2Backend(), prometheus3Backend(), thanosBackend()}
}

func prometheus2Backend() backend {
	return backend{
		name: "prometheus2", dialect: promenforce.DialectPrometheus2, federate: true, alerts: 9,
		start: func(tb testing.TB, end time.Time, rules string) started {
			om := openMetrics(tb, synth.Default().Series(), end, "")
			return started{url: testenv.StartPrometheus(tb, testenv.PrometheusOptions{OpenMetrics: om, Rules: rules}).URL}
		},
	}
}

func prometheus3Backend() backend {
	return backend{
		name: "prometheus3", dialect: promenforce.DialectPrometheus3, federate: true, alerts: 9, utf8: true,
		start: func(tb testing.TB, end time.Time, rules string) started {
			om := openMetrics(tb, synth.Default().Series(), end, utf8Series(end))
			opts := testenv.Prometheus3(tb, testenv.PrometheusOptions{OpenMetrics: om, Rules: rules})
			return started{url: testenv.StartPrometheus(tb, opts).URL}
		},
	}
}

// thanosEU holds the namespaces tenants own, with the rules (so alerts
// exist only for them); thanosUS holds the rest of the cluster: the other
// teams, the platform namespaces and the nodes. Every total the suite
// checks (the admin's 127, the labels only nodes carry) needs both.
const thanosEU, thanosUS = "prod-eu", "prod-us"

func thanosBackend() backend {
	return backend{
		name: "thanos", dialect: promenforce.DialectThanos, alerts: 5 + 2, utf8: true,
		start: func(tb testing.TB, end time.Time, rules string) started {
			eu, us := splitSeries(synth.Default().Series(), slices.Concat(paymentsNS, checkoutNS))
			th := testenv.StartThanos(tb,
				testenv.Cluster{Name: thanosEU, Options: testenv.PrometheusOptions{OpenMetrics: openMetrics(tb, eu, end, utf8Series(end)+ledgerSeries(end, 1)), Rules: rules + ledgerRule}},
				testenv.Cluster{Name: thanosUS, Options: testenv.PrometheusOptions{OpenMetrics: openMetrics(tb, us, end, ledgerSeries(end, 10)), Rules: "groups:\n- name: e2e\n  rules:\n" + ledgerRule}},
			)
			return started{url: th.Query.URL, thanos: th}
		},
	}
}

// splitSeries separates the series of the given namespaces from the rest.
func splitSeries(series []synth.Series, namespaces []string) (in, out []synth.Series) {
	for _, s := range series {
		if slices.Contains(namespaces, s.Labels.Get("namespace")) {
			in = append(in, s)
		} else {
			out = append(out, s)
		}
	}
	return in, out
}

// utf8Series is an OpenMetrics family with a UTF-8 metric name and label
// name, in payments' namespace (value 1) and checkout's (value 4), every
// minute of the last ten, in Prometheus 3's quoted syntax.
func utf8Series(end time.Time) string {
	var b strings.Builder
	b.WriteString("# TYPE \"tollgate.demo.utf8\" gauge\n")
	for _, s := range []struct{ ns, pod, v string }{{"team-payments-prod", "pay-1", "1"}, {"team-checkout-prod", "chk-1", "4"}} {
		for t := end.Add(-10 * time.Minute); !t.After(end); t = t.Add(time.Minute) {
			fmt.Fprintf(&b, "{\"tollgate.demo.utf8\",namespace=%q,\"k8s.pod.name\"=%q} %s %d.000\n", s.ns, s.pod, s.v, t.Unix())
		}
	}
	return b.String()
}

func (b backend) thanos() bool { return b.dialect == promenforce.DialectThanos }

// queryError runs an instant query that must be refused and returns the
// status and error.
func (e *e2e) queryError(t *testing.T, base string, c caller, m, q string) (int, apiResponse) {
	t.Helper()
	code, body := e.send(t, base, c, m, "/api/v1/query", url.Values{"query": {q}, "time": {e.evalTime}})
	var r apiResponse
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("%s %q: %d %s is not a Prometheus API answer", m, q, code, body)
	}
	return code, r
}

// dialectMatrix: holt_winters is served where the backend has it
// (Prometheus 2) and refused with a 400 that says why where it does not.
// The dialect comes from the backend's buildinfo (auto), or from
// configuration, which wins.
func dialectMatrix(t *testing.T, e *e2e) {
	if e.backend.dialect == promenforce.DialectPrometheus3 {
		checkPrometheus3Version(t, e)
	}
	const hw = `sum(holt_winters(tollgate_demo_namespace_marker[10m], 0.5, 0.5))`
	for _, m := range methods {
		if e.backend.dialect == promenforce.DialectPrometheus2 {
			// The markers are constant, so the smoothed value is the marker.
			if got := e.instant(t, payments, m, hw); got[""] != 3 {
				t.Errorf("%s: holt_winters on Prometheus 2 = %v, want 3", m, got)
			}
			continue
		}
		code, r := e.queryError(t, e.gateway, payments, m, hw)
		if code != 400 || r.ErrorType != "bad_data" || !strings.Contains(r.Error, "double_exponential_smoothing") || !strings.Contains(r.Error, string(e.backend.dialect)) {
			t.Errorf("%s: holt_winters on %s: %d %+v, want 400 bad_data naming double_exponential_smoothing and the dialect", m, e.backend.name, code, r)
		}
	}
	// Configured against the backend's version: Tollgate follows the
	// configuration, and the backend has the last word.
	if e.backend.dialect == promenforce.DialectPrometheus2 {
		gw := gatewayFor(t, e.direct, ", prometheus_dialect: prometheus3")
		if code, r := e.queryError(t, gw, payments, http.MethodGet, hw); code != 400 || !strings.Contains(r.Error, "speaks prometheus3") {
			t.Errorf("prometheus3 configured over Prometheus 2: %d %+v, want Tollgate's 400", code, r)
		}
		return
	}
	gw := gatewayFor(t, e.direct, ", prometheus_dialect: prometheus2")
	code, r := e.queryError(t, gw, payments, http.MethodGet, hw)
	wantCode, _ := e.queryError(t, e.direct, anonymous, http.MethodGet, hw)
	if code != wantCode || code == 200 || strings.Contains(r.Error, "speaks") {
		t.Errorf("prometheus2 configured over %s: %d %+v, want the backend's own refusal (%d)", e.backend.name, code, r, wantCode)
	}
}

// utf8Suite: quoted UTF-8 metric and label names work for tenants, and the
// tenant matcher still applies however the tenancy label is spelled:
// {"namespace"="team-checkout-prod"} is checkout's namespace, so payments
// reads nothing from it.
func utf8Suite(t *testing.T, e *e2e) {
	if got := e.instant(t, admin, http.MethodGet, `sum({"tollgate.demo.utf8"})`); got[""] != 5 {
		t.Fatalf("admin: the UTF-8 series hold %v, want 5 (payments 1 + checkout 4)", got)
	}
	for _, m := range methods {
		for q, want := range map[string]float64{
			`sum({"tollgate.demo.utf8"})`:                                                                      1,
			`sum({"tollgate.demo.utf8", "namespace"=~".+"})`:                                                   1,
			`sum({"tollgate.demo.utf8", "namespace"="team-checkout-prod"})`:                                    0,
			`sum({__name__="tollgate.demo.utf8", "namespace"!="team-payments-prod"})`:                          0,
			`sum({"__name__"=~"tollgate\\.demo\\..*"})`:                                                        1,
			`sum({"namespace"="team-checkout-prod"})`:                                                          0,
			`sum(label_replace({"tollgate.demo.utf8"}, "namespace", "team-checkout-prod", "namespace", ".*"))`: 1,
			`sum({"tollgate.demo.utf8"} or on("k8s.pod.name") {"tollgate.demo.utf8", "k8s.pod.name"="chk-1"})`: 1,
			`count(count by ("k8s.pod.name") ({"k8s.pod.name"=~".+"}))`:                                        1,
		} {
			got := e.instant(t, payments, m, q)
			total := 0.0
			for ns, v := range got {
				if ns != "" && ns != "team-payments-prod" {
					t.Errorf("%s %s: result in namespace %s", m, q, ns)
				}
				total += v
			}
			if total != want {
				t.Errorf("%s %s: %v, want %v", m, q, total, want)
			}
		}
		var series []map[string]string
		_ = json.Unmarshal(e.ok(t, payments, m, "/api/v1/series", url.Values{"match[]": {`{"tollgate.demo.utf8"}`, `{"namespace"="team-checkout-prod"}`}}), &series)
		if len(series) != 1 || series[0]["k8s.pod.name"] != "pay-1" {
			t.Errorf("%s: series %v, want payments' one UTF-8 series", m, series)
		}
	}
	// Prometheus 3 reads U__-escaped label names in this path; Thanos
	// takes them literally. Either way payments sees only its own pod.
	var pods []string
	_ = json.Unmarshal(e.ok(t, payments, http.MethodGet, "/api/v1/label/U__k8s_2e_pod_2e_name/values", nil), &pods)
	if slices.Contains(pods, "chk-1") || (!e.backend.thanos() && !slices.Equal(pods, []string{"pay-1"})) {
		t.Errorf("U__-escaped label values: %v", pods)
	}
}

// thanosParamMatrix: Thanos' own parameters against a real Thanos Query,
// for a tenant. Every accepted combination still reads only the tenant's
// series; the refused ones never reach Thanos.
func thanosParamMatrix(t *testing.T, e *e2e) {
	const q = `sum(tollgate_demo_namespace_marker)`
	// storeMatch[] selects stores by their address (__address__).
	storeEU := `{__address__="` + e.be.thanos.Sidecars[thanosEU].GRPC + `"}`
	storeUS := `{__address__="` + e.be.thanos.Sidecars[thanosUS].GRPC + `"}`
	for _, tc := range []struct {
		params []string
		want   float64 // payments' sum; -1: refused with status
		status int
	}{
		{[]string{"dedup", "true"}, 3, 200},
		{[]string{"dedup", "false"}, 3, 200},
		{[]string{"partial_response", "false"}, 3, 200},
		{[]string{"partial_response", "true"}, 3, 200},
		{[]string{"max_source_resolution", "auto"}, 3, 200},
		{[]string{"max_source_resolution", "1h"}, 3, 200},
		{[]string{"replicaLabels[]", "replica"}, 3, 200},
		{[]string{"replicaLabels[]", "cluster", "dedup", "true"}, 3, 200},
		{[]string{"engine", "thanos"}, 3, 200},
		{[]string{"engine", "prometheus"}, 3, 200},
		{[]string{"engine", "thanos", "analyze", "true"}, 3, 200},
		{[]string{"storeMatch[]", storeEU}, 3, 200},
		{[]string{"storeMatch[]", storeUS}, 0, 200},
		{[]string{"storeMatch[]", storeUS, "storeMatch[]", storeEU, "dedup", "false", "engine", "thanos"}, 3, 200},
		{[]string{"replicaLabels[]", "namespace", "dedup", "true"}, -1, 403},
		{[]string{"dedup", "sometimes"}, -1, 400},
		{[]string{"engine", "vm"}, -1, 400},
		{[]string{"max_source_resolution", "-1h"}, -1, 400},
		{[]string{"storeMatch[]", `{cluster=`}, -1, 400},
		{[]string{"shard_info", `{"shardIndex":0,"totalShards":2}`}, -1, 400},
	} {
		for _, m := range methods {
			ps := url.Values{"query": {q}, "time": {e.evalTime}}
			for i := 0; i+1 < len(tc.params); i += 2 {
				ps.Add(tc.params[i], tc.params[i+1])
			}
			code, body := e.do(t, payments, m, "/api/v1/query", ps)
			if code != tc.status {
				t.Errorf("%s %v: %d %s, want %d", m, tc.params, code, body, tc.status)
				continue
			}
			if tc.want < 0 {
				continue
			}
			var r struct {
				Data struct {
					Result []struct {
						Value [2]any `json:"value"`
					} `json:"result"`
				} `json:"data"`
			}
			if err := json.Unmarshal(body, &r); err != nil {
				t.Fatal(err)
			}
			got := 0.0
			for _, s := range r.Data.Result {
				f, _ := strconv.ParseFloat(s.Value[1].(string), 64)
				got += f
			}
			if got != tc.want {
				t.Errorf("%s %v: sum %v, want %v: %s", m, tc.params, got, tc.want, body)
			}
		}
	}
	// The series and label endpoints take them too, confined the same way.
	var ns []string
	_ = json.Unmarshal(e.ok(t, payments, http.MethodGet, "/api/v1/label/namespace/values", url.Values{"dedup": {"false"}, "storeMatch[]": {`{__address__=~".+"}`}}), &ns)
	if !slices.Equal(ns, paymentsNS) {
		t.Errorf("label values with Thanos parameters: %v, want %v", ns, paymentsNS)
	}
}

// partialResponse: with a store down, Thanos answers partial_response=true
// with the data it has and a warning naming the failure; Tollgate passes
// the warning to the tenant (and must never cache such an answer). With
// partial_response=false the answer is an error.
func partialResponse(t *testing.T, e *e2e) {
	dead := testenv.FreeAddr(t) // nothing listens there
	q := testenv.StartThanosQuery(t, testenv.ThanosQueryOptions{
		Endpoints:       []string{e.be.thanos.Sidecars[thanosEU].GRPC},
		StrictEndpoints: []string{dead},
	})
	gw := gatewayFor(t, q.URL, ", prometheus_dialect: thanos")
	for _, m := range methods {
		code, body := e.send(t, gw, payments, m, "/api/v1/query", url.Values{"query": {`sum(tollgate_demo_namespace_marker)`}, "time": {e.evalTime}, "partial_response": {"true"}})
		var r struct {
			Status   string   `json:"status"`
			Warnings []string `json:"warnings"`
			Data     struct {
				Result []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &r); err != nil || code != 200 || len(r.Data.Result) != 1 || r.Data.Result[0].Value[1] != "3" {
			t.Fatalf("%s partial_response=true: %d %s, want payments' 3 from the live store", m, code, body)
		}
		if len(r.Warnings) == 0 || !strings.Contains(strings.Join(r.Warnings, " "), dead) {
			t.Errorf("%s partial_response=true: warnings %q, want the dead store %s named", m, r.Warnings, dead)
		}
		code, body = e.send(t, gw, payments, m, "/api/v1/query", url.Values{"query": {`sum(tollgate_demo_namespace_marker)`}, "time": {e.evalTime}, "partial_response": {"false"}})
		if code == 200 || bytes.Contains(body, []byte(`"result"`)) {
			t.Errorf("%s partial_response=false with a store down: %d %s, want an error", m, code, body)
		}
	}
}

// checkPrometheus3Version: the Prometheus 3 under test is the one whose
// parser Tollgate links (go.mod's github.com/prometheus/prometheus
// v0.3XX.Y is Prometheus 3.XX.Y), and its build is stamped with that
// version, which auto detection reads (make's PROM3_VERSION).
func checkPrometheus3Version(t *testing.T, e *e2e) {
	// Test binaries carry no module versions; go.mod is one directory up.
	gomod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*github\.com/prometheus/prometheus (v\S+)`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("go.mod does not require github.com/prometheus/prometheus")
	}
	pin := string(m[1])
	var major, minor, patch int
	if _, err := fmt.Sscanf(pin, "v%d.%d.%d", &major, &minor, &patch); err != nil || major != 0 || minor < 300 {
		t.Fatalf("unexpected Prometheus module version %q", pin)
	}
	want := fmt.Sprintf("3.%d.%d", minor-300, patch)
	var r struct {
		Data struct {
			Version string `json:"version"`
		} `json:"data"`
	}
	_, body := e.send(t, e.direct, anonymous, http.MethodGet, "/api/v1/status/buildinfo", nil)
	if err := json.Unmarshal(body, &r); err != nil || r.Data.Version != want {
		t.Errorf("Prometheus 3 under test reports version %q (%s), want %s, the pin %s: rebuild with make prometheus3 after changing PROM3_VERSION", r.Data.Version, body, want, pin)
	}
}
