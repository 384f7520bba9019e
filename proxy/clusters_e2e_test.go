package proxy_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/identity"
)

// The namespace team-ledger exists in both Thanos clusters: its marker is
// 1 in prod-eu and 10 in prod-us, so a sum names the clusters it read.
// Each cluster's Prometheus raises LedgerMarker for it.
const ledgerRule = `  - alert: LedgerMarker
    expr: tollgate_e2e_ledger_marker > 0
`

func ledgerSeries(end time.Time, v int) string {
	var b strings.Builder
	b.WriteString("# TYPE tollgate_e2e_ledger_marker gauge\n")
	for t := end.Add(-10 * time.Minute); !t.After(end); t = t.Add(time.Minute) {
		fmt.Fprintf(&b, "tollgate_e2e_ledger_marker{namespace=\"team-ledger\",pod=\"ledger-1\"} %d %d.000\n", v, t.Unix())
	}
	return b.String()
}

// clusterGateway confines two tenants owning the same namespace name to
// one cluster each; %[1]q is Thanos Query, %[2]q the admin token's hash.
const clusterGateway = `
upstreams: {prometheus: %[1]q}
tenancy:
  label: namespace
  admin_groups: [platform-sre]
  tenants:
    - {name: ledger-eu, groups: [ledger-eu], namespaces: [team-ledger], clusters: [prod-eu]}
    - {name: ledger-us, groups: [ledger-us], namespaces: [team-ledger], clusters: [prod-us]}
auth:
  trusted_headers: {user: X-Forwarded-User, groups: X-Forwarded-Groups, trusted_cidrs: [127.0.0.1/32]}
  tokens:
    - {name: ci, sha256: %[2]q, groups: [platform-sre]}
`

var (
	ledgerEU   = caller{name: "ledger-eu", headers: []string{"X-Forwarded-User", "erin", "X-Forwarded-Groups", "ledger-eu"}}
	ledgerUS   = caller{name: "ledger-us", headers: []string{"X-Forwarded-User", "uma", "X-Forwarded-Groups", "ledger-us"}}
	ledgerBoth = caller{name: "ledger-both", headers: []string{"X-Forwarded-User", "bea", "X-Forwarded-Groups", "ledger-eu,ledger-us"}}
)

// clusterTenancy: over the real Thanos Query, two tenants owning
// team-ledger in different clusters each read only their cluster's, on
// every endpoint; the admin reads both; an identity in both is refused.
func clusterTenancy(t *testing.T, e *e2e) {
	gw := startGateway(t, fmt.Sprintf(clusterGateway, e.direct, identity.HashToken(adminToken)))
	ce := *e
	ce.gateway = gw
	for _, tc := range []struct {
		c       caller
		cluster string
		sum     float64
	}{{ledgerEU, thanosEU, 1}, {ledgerUS, thanosUS, 10}} {
		for _, m := range methods {
			ledgerReads(t, &ce, tc.c, m, tc.cluster, tc.sum)
		}
	}
	if got := ce.instant(t, admin, http.MethodGet, `sum(tollgate_e2e_ledger_marker)`); got[""] != 11 {
		t.Errorf("admin: sum %v, want 11 (both clusters)", got)
	}
	var cls []string
	_ = json.Unmarshal(ce.ok(t, admin, http.MethodGet, "/api/v1/label/cluster/values", nil), &cls)
	if !slices.Equal(cls, []string{thanosEU, thanosUS}) {
		t.Errorf("admin: clusters %v, want both", cls)
	}
	code, body := ce.do(t, ledgerBoth, http.MethodGet, "/api/v1/query", url.Values{"query": {"vector(1)"}})
	if code != 403 || !strings.Contains(string(body), `"errorType":"forbidden"`) || !strings.Contains(string(body), "ledger-eu (clusters prod-eu), ledger-us (clusters prod-us)") {
		t.Errorf("identity in both tenants: %d %s, want 403 naming both tenants' clusters", code, body)
	}
}

// ledgerReads checks what one confined tenant reads through each endpoint.
func ledgerReads(t *testing.T, e *e2e, c caller, m, cluster string, sum float64) {
	t.Helper()
	for q, want := range map[string]float64{
		`sum(tollgate_e2e_ledger_marker)`:                             sum,
		`sum(tollgate_e2e_ledger_marker{cluster=~".+"})`:              sum,
		`sum(tollgate_e2e_ledger_marker{cluster!="` + cluster + `"})`: 0,
		`sum({"tollgate_e2e_ledger_marker", "cluster"="prod-eu"}) + sum({"tollgate_e2e_ledger_marker", "cluster"="prod-us"})`: 0,
		`sum(label_replace(tollgate_e2e_ledger_marker, "cluster", "x", "", ""))`:                                              sum,
	} {
		if got := e.instant(t, c, m, q); got[""] != want {
			t.Errorf("%s %s %s: %v, want %v", c.name, m, q, got, want)
		}
	}
	end, _ := strconv.ParseInt(e.evalTime, 10, 64)
	var rng []struct {
		Values [][2]any `json:"values"`
	}
	_ = json.Unmarshal(mustField(t, e.ok(t, c, m, "/api/v1/query_range", url.Values{"query": {`sum(tollgate_e2e_ledger_marker)`}, "start": {strconv.FormatInt(end-300, 10)}, "end": {e.evalTime}, "step": {"60"}}), "result"), &rng)
	if len(rng) != 1 || len(rng[0].Values) == 0 {
		t.Errorf("%s %s query_range: %v", c.name, m, rng)
	}
	for _, r := range rng {
		for _, v := range r.Values {
			if v[1] != strconv.FormatFloat(sum, 'f', -1, 64) {
				t.Errorf("%s %s query_range: value %v, want %v", c.name, m, v[1], sum)
			}
		}
	}
	var series []map[string]string
	_ = json.Unmarshal(e.ok(t, c, m, "/api/v1/series", url.Values{"match[]": {`tollgate_e2e_ledger_marker`, `{cluster="prod-us", namespace="team-ledger"}`, `{"cluster"="prod-eu"}`}}), &series)
	// The ledger marker and the ALERTS series its rule writes.
	var got []string
	for _, s := range series {
		got = append(got, s["__name__"]+"/"+s["namespace"]+"/"+s["cluster"])
	}
	if want := "ALERTS/team-ledger/" + cluster + " ALERTS_FOR_STATE/team-ledger/" + cluster + " tollgate_e2e_ledger_marker/team-ledger/" + cluster; strings.Join(got, " ") != want {
		t.Errorf("%s %s series: %v, want %s", c.name, m, got, want)
	}
	for label, want := range map[string][]string{"cluster": {cluster}, "namespace": {"team-ledger"}, "pod": {"ledger-1"}} {
		var got []string
		_ = json.Unmarshal(e.ok(t, c, m, "/api/v1/label/"+label+"/values", nil), &got)
		if !slices.Equal(got, want) {
			t.Errorf("%s %s label %s values %v, want %v", c.name, m, label, got, want)
		}
	}
	var names []string
	_ = json.Unmarshal(e.ok(t, c, m, "/api/v1/labels", nil), &names)
	if !slices.Equal(names, []string{"__name__", "alertname", "alertstate", "cluster", "namespace", "pod"}) {
		t.Errorf("%s %s labels %v", c.name, m, names)
	}
	ledgerAlerts(t, e, c, m, cluster)
}

// ledgerAlerts: the rules answer, filtered by Tollgate, holds the tenant's
// cluster's LedgerMarker alert only: Thanos puts the cluster on the rule,
// and the alert is in its rule's cluster. Thanos' alerts answer carries
// no cluster at all, so a confined tenant reads none there (fail closed).
func ledgerAlerts(t *testing.T, e *e2e, c caller, m, cluster string) {
	t.Helper()
	type alert struct {
		Labels map[string]string `json:"labels"`
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Name   string            `json:"name"`
				Labels map[string]string `json:"labels"`
				Alerts []alert           `json:"alerts"`
			} `json:"rules"`
		} `json:"groups"`
	}
	_ = json.Unmarshal(e.ok(t, c, m, "/api/v1/rules", nil), &rules)
	var got []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			for _, a := range r.Alerts {
				got = append(got, r.Name+"/"+a.Labels["namespace"]+"/"+r.Labels["cluster"])
			}
		}
	}
	if want := "LedgerMarker/team-ledger/" + cluster; strings.Join(got, " ") != want {
		t.Errorf("%s %s rules' alerts %v, want %s", c.name, m, got, want)
	}
	var alerts struct {
		Alerts []alert `json:"alerts"`
	}
	_ = json.Unmarshal(e.ok(t, c, m, "/api/v1/alerts", nil), &alerts)
	got = nil
	for _, a := range alerts.Alerts {
		got = append(got, a.Labels["alertname"]+"/"+a.Labels["namespace"]+"/"+a.Labels["cluster"])
	}
	if len(got) != 0 {
		t.Errorf("%s %s alerts %v, want none: Thanos gives alerts no cluster label", c.name, m, got)
	}
}

func mustField(t *testing.T, data json.RawMessage, key string) json.RawMessage {
	t.Helper()
	var o map[string]json.RawMessage
	if err := json.Unmarshal(data, &o); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	return o[key]
}
