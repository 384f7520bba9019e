package api_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/cost/report"
	"github.com/tollgate-dev/tollgate/gateway"
	"github.com/tollgate-dev/tollgate/identity"
	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/demo/synth"
	"github.com/tollgate-dev/tollgate/internal/testkit/testenv"
)

// The end-to-end tests run the gateway with the cost engine in front of a
// real Prometheus holding eight days of the two-node fixture
// (synth.CostFixture, cost/allocation's TestTwoNodeFixture), and ask for
// the last seven: every figure is the fixture's hourly one × 168.
const weekHours = 168

const adminToken = "cost-e2e-admin"

type stack struct {
	gateway string
	end     time.Time
}

var (
	stackOnce sync.Once
	shared    *stack
	stackErr  string
)

// startStack starts one stack per test binary: Prometheus takes seconds to
// start and the data never changes.
func startStack(t *testing.T) *stack {
	t.Helper()
	stackOnce.Do(func() {
		shared, stackErr = newStack(t)
	})
	if stackErr != "" {
		t.Fatal(stackErr)
	}
	return shared
}

// stackT keeps the Prometheus process alive for the whole test binary:
// cleanups of the first test that starts it would stop it otherwise.
type stackT struct {
	testing.TB
	cleanups []func()
	dir      string
}

func (s *stackT) Cleanup(f func()) { s.cleanups = append(s.cleanups, f) }

// Failed and Logf outlive the test that started the stack: its cleanups
// run after every test, from TestMain.
func (s *stackT) Failed() bool                    { return false }
func (s *stackT) Logf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
func (s *stackT) TempDir() string {
	d, err := os.MkdirTemp(s.dir, "")
	if err != nil {
		s.Fatal(err)
	}
	return d
}

var cleanupStack func()

func TestMain(m *testing.M) {
	code := m.Run()
	if cleanupStack != nil {
		cleanupStack()
	}
	os.Exit(code)
}

func newStack(t *testing.T) (*stack, string) {
	dir, err := os.MkdirTemp("", "tollgate-cost-e2e-")
	if err != nil {
		return nil, err.Error()
	}
	st := &stackT{TB: t, dir: dir}
	cleanupStack = func() {
		for i := len(st.cleanups) - 1; i >= 0; i-- {
			st.cleanups[i]()
		}
		os.RemoveAll(dir)
	}
	end := synth.WithinOneMonth(time.Now(), 8*24*time.Hour)
	var om bytes.Buffer
	if err := synth.WriteOpenMetrics(&om, synth.CostFixture(), synth.Window{Start: end.Add(-8 * 24 * time.Hour), End: end, Step: time.Minute}); err != nil {
		return nil, err.Error()
	}
	prom := testenv.StartPrometheus(st, testenv.PrometheusOptions{OpenMetrics: om.Bytes()})
	prices := filepath.Join(dir, "prices.csv")
	if err := os.WriteFile(prices, []byte(synth.FixturePricing), 0o600); err != nil {
		return nil, err.Error()
	}
	yaml := fmt.Sprintf(`
upstreams: {prometheus: %q}
tenancy:
  label: namespace
  admin_groups: [platform-sre]
  tenants:
    - {name: payments, groups: [team-payments], namespaces: [team-payments-prod, team-payments-staging], cost_center: CC-4521}
    - {name: checkout, groups: [team-checkout], namespaces: ["team-checkout-*"]}
auth:
  trusted_headers: {user: X-Forwarded-User, groups: X-Forwarded-Groups, trusted_cidrs: [127.0.0.1/32]}
  tokens:
    - {name: ci, sha256: %q, groups: [platform-sre]}
cost:
  cluster: fixture
  pricing_file: %q
  default_prices: {cpu: 0.04, ram: 0.005}
  discounts: {aws: 25}
  shared_namespaces: [kube-system]
  shared_overhead_monthly: 73
`, prom.URL, identity.HashToken(adminToken), prices)
	cfg, _, err := config.Parse("cost-e2e.yaml", []byte(yaml))
	if err != nil {
		return nil, err.Error()
	}
	srv, err := gateway.FromConfig(cfg, nil, nil, nil)
	if err != nil {
		return nil, err.Error()
	}
	gw := httptest.NewServer(srv)
	st.Cleanup(gw.Close)
	return &stack{gateway: gw.URL, end: end}, ""
}

type caller []string

var (
	admin    = caller{"Authorization", "Bearer " + adminToken}
	payments = caller{"X-Forwarded-User", "alice", "X-Forwarded-Groups", "team-payments"}
	checkout = caller{"X-Forwarded-User", "bob", "X-Forwarded-Groups", "team-checkout"}
	nobody   = caller{"X-Forwarded-User", "carol", "X-Forwarded-Groups", "interns"}
	anon     = caller{}
)

func (s *stack) week() string {
	return s.end.Add(-weekHours*time.Hour).Format(time.RFC3339) + "," + s.end.Format(time.RFC3339)
}

func (s *stack) get(t *testing.T, c caller, path string, params url.Values) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.gateway+path+"?"+params.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(c); i += 2 {
		req.Header.Set(c[i], c[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// allocation asks for the week with extra parameters and returns the one
// set of the answer.
func (s *stack) allocation(t *testing.T, c caller, extra url.Values) map[string]report.Allocation {
	t.Helper()
	params := url.Values{"window": {s.week()}, "resolution": {"1h"}, "accumulate": {"true"}}
	for k, v := range extra {
		params[k] = v
	}
	code, body := s.get(t, c, "/allocation", params)
	if code != http.StatusOK {
		t.Fatalf("/allocation %v: %d %s", params, code, body)
	}
	var r report.Response
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	if r.Code != 200 || r.Status != "success" || len(r.Data) != 1 {
		t.Fatalf("/allocation %v: %+v", params, r)
	}
	return r.Data[0]
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1e-6, math.Abs(b)) }

// check compares the totals to the fixture's hourly figures × 168.
func check(t *testing.T, what string, got map[string]report.Allocation, perHour map[string]float64) {
	t.Helper()
	if len(got) != len(perHour) {
		names := make([]string, 0, len(got))
		for n := range got {
			names = append(names, n)
		}
		t.Errorf("%s: allocations %v, want %v", what, names, perHour)
	}
	for name, want := range perHour {
		a, ok := got[name]
		if !ok {
			t.Errorf("%s: no %q", what, name)
			continue
		}
		if !near(a.TotalCost, want*weekHours) {
			t.Errorf("%s: %s totalCost %.9f, want %.9f (%.6f/h × 168)", what, name, a.TotalCost, want*weekHours, want)
		}
	}
}

func TestWeekEqualsTheFixture(t *testing.T) {
	s := startStack(t)
	ns := url.Values{"aggregate": {"namespace"}}
	with := func(kv ...string) url.Values {
		v := url.Values{"aggregate": {"namespace"}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	_ = ns
	// The figures of TestTwoNodeFixture; overhead $73/month = $0.10/h
	// is shared only with the shared namespaces.
	check(t, "includeIdle", s.allocation(t, admin, with("includeIdle", "true")),
		map[string]float64{"team-payments-prod": .063, "team-checkout-prod": .054, "kube-system": .015, "__idle__": .060})
	check(t, "shareIdle", s.allocation(t, admin, with("shareIdle", "true")),
		map[string]float64{"team-payments-prod": .09432, "team-checkout-prod": .07632, "kube-system": .02136})
	check(t, "shareIdle idleByNode", s.allocation(t, admin, with("shareIdle", "true", "idleByNode", "true")),
		map[string]float64{"team-payments-prod": .032 + .030 + .020*8/7 + .008, "team-checkout-prod": .048 + .012 + .008*8/7 + .008, "kube-system": .022})
	pool := .02136 + .1
	check(t, "shareIdle shareNamespaces", s.allocation(t, admin, with("shareIdle", "true", "shareNamespaces", "true")),
		map[string]float64{"team-payments-prod": .09432 + pool*.09432/.17064, "team-checkout-prod": .07632 + pool*.07632/.17064})
	check(t, "even", s.allocation(t, admin, with("includeIdle", "true", "shareNamespaces", "kube-system", "shareSplit", "even")),
		map[string]float64{"team-payments-prod": .1205, "team-checkout-prod": .1115, "__idle__": .060})
	check(t, "by node", s.allocation(t, admin, url.Values{"aggregate": {"node"}, "includeIdle": {"true"}}),
		map[string]float64{"node-a": .096, "node-b": .036, "node-a/__idle__": .048, "node-b/__idle__": .012})
	// Cost centers: payments' from the tenancy, checkout's from its
	// namespace label, kube-system has none.
	check(t, "by cost center", s.allocation(t, admin, url.Values{"aggregate": {"cost_center"}}),
		map[string]float64{"CC-4521": .063, "CC-4522": .054, "__unallocated__": .015})
	// Pods of ReplicaSets are charged to the Deployment that owns them
	// (kube_replicaset_owner): pay-api is 1 core × .024 + 5 GiB × .003.
	check(t, "by deployment", s.allocation(t, admin, url.Values{"aggregate": {"deployment"}}),
		map[string]float64{"pay-api": .039, "pay-worker": .024, "checkout-web": .042, "cart": .012, "coredns": .015})
	check(t, "by controller", s.allocation(t, admin, url.Values{"aggregate": {"controller"}, "filter": {`namespace:"team-payments-prod"`}}),
		map[string]float64{"deployment:pay-api": .039, "deployment:pay-worker": .024})
	check(t, "by statefulset", s.allocation(t, admin, url.Values{"aggregate": {"statefulset"}}),
		map[string]float64{"__unallocated__": .132})

	// Field by field for payments, as OpenCost names them.
	p := s.allocation(t, admin, with("includeIdle", "true"))["team-payments-prod"]
	for _, f := range []struct {
		name      string
		got, want float64
	}{
		{"cpuCoreHours", p.CPUCoreHours, 2.25 * weekHours},
		{"cpuCores", p.CPUCores, 2.25},
		{"cpuCoreRequestAverage", p.CPUCoreRequestAverage, 1.5},
		{"cpuCoreUsageAverage", p.CPUCoreUsageAverage, 1.75},
		{"cpuCost", p.CPUCost, .044 * weekHours},
		{"cpuEfficiency", p.CPUEfficiency, 1.75 / 1.5},
		{"ramByteHours", p.RAMByteHours, 7 * (1 << 30) * weekHours},
		{"ramCost", p.RAMCost, .019 * weekHours},
		{"ramEfficiency", p.RAMEfficiency, 1},
		{"minutes", p.Minutes, weekHours * 60},
		{"totalCost", p.TotalCost, .063 * weekHours},
	} {
		if !near(f.got, f.want) {
			t.Errorf("payments %s = %v, want %v", f.name, f.got, f.want)
		}
	}
	if p.Properties.Namespace != "team-payments-prod" || p.Properties.Tenant != "payments" || p.Properties.CostCenter != "CC-4521" || p.Properties.Cluster != "fixture" {
		t.Errorf("payments properties: %+v", p.Properties)
	}
}

// Daily sets: seven, each a day of the fixture.
func TestStepMakesSets(t *testing.T) {
	s := startStack(t)
	code, body := s.get(t, admin, "/allocation/compute", url.Values{"window": {s.week()}, "resolution": {"1h"}, "step": {"1d"}, "aggregate": {"namespace"}, "includeIdle": {"true"}})
	var r report.Response
	if err := json.Unmarshal(body, &r); err != nil || code != 200 || len(r.Data) != 7 {
		t.Fatalf("%d %d sets: %s", code, len(r.Data), body)
	}
	for i, set := range r.Data {
		var sum float64
		for _, a := range set {
			sum += a.TotalCost
		}
		if !near(sum, .192*24) {
			t.Errorf("day %d: %v, want %v", i, sum, .192*24)
		}
	}
}

// Tenant scoping through every parameter: whatever payments asks, it gets
// its own namespace's figures and its share of idle and shared cost, never
// another tenant's allocation.
func TestTenantsSeeOnlyTheirAllocations(t *testing.T) {
	s := startStack(t)
	aggregates := []string{"", "namespace", "node", "pod", "container", "controller", "controllerKind", "deployment", "cluster", "tenant", "team",
		"cost_center", "label:team", "label:cost_center", "namespace,node", "cluster,node,namespace,pod,container"}
	// idleByNode and shareSplit=even are refused to tenants (TestRefusals).
	options := []url.Values{
		{}, {"includeIdle": {"true"}}, {"shareIdle": {"true"}}, {"shareIdle": {"true"}, "shareNamespaces": {"true"}},
		{"shareNamespaces": {"true"}, "includeIdle": {"true"}}, {"shareNamespaces": {"kube-system"}, "shareSplit": {"weighted"}, "shareIdle": {"true"}},
		{"filter": {`namespace:"team-checkout-prod"`}}, {"filter": {`namespace!:"team-payments-prod"`}, "includeIdle": {"true"}},
		{"filter": {`label[team]:"checkout"`}}, {"filter": {`tenant:"checkout"`}}, {"filter": {`node:"node-a"`}, "includeIdle": {"true"}},
	}
	// A day keeps the 330 requests quick; the week is checked above.
	day := s.end.Add(-24*time.Hour).Format(time.RFC3339) + "," + s.end.Format(time.RFC3339)
	for _, agg := range aggregates {
		for _, opt := range options {
			params := url.Values{"aggregate": {agg}, "window": {day}}
			for k, v := range opt {
				params[k] = v
			}
			for _, who := range []struct {
				c      caller
				own    string
				others []string
			}{
				{payments, "team-payments-prod", []string{"team-checkout-prod", "kube-system", "checkout-web", "cart", "coredns", "CC-4522", "checkout"}},
				{checkout, "team-checkout-prod", []string{"team-payments-prod", "kube-system", "pay-api", "pay-worker", "coredns", "CC-4521", "payments"}},
			} {
				got := s.allocation(t, who.c, params)
				for name, a := range got {
					text, _ := json.Marshal(a)
					for _, other := range who.others {
						if strings.Contains(name, other) || strings.Contains(string(text), `"`+other+`"`) {
							t.Errorf("%v as %s: allocation %s shows %q: %s", params, who.own, name, other, text)
						}
					}
					if a.Properties.Namespace != "" && a.Properties.Namespace != who.own {
						t.Errorf("%v: %s sees namespace %s", params, who.own, a.Properties.Namespace)
					}
				}
			}
		}
	}
	// What payments sees adds up to its own figures (and its share of
	// idle), whatever the grouping.
	for _, agg := range aggregates {
		got := s.allocation(t, payments, url.Values{"aggregate": {agg}, "shareIdle": {"true"}})
		var sum float64
		for _, a := range got {
			sum += a.TotalCost
		}
		if !near(sum, .09432*weekHours) {
			t.Errorf("aggregate %q: payments' allocations add up to %v, want %v", agg, sum, .09432*weekHours)
		}
	}
	// Its unshared idle is its share, not the cluster's.
	check(t, "payments includeIdle", s.allocation(t, payments, url.Values{"aggregate": {"namespace"}, "includeIdle": {"true"}}),
		map[string]float64{"team-payments-prod": .063, "__idle__": .03132})
	// Downloads are scoped the same way.
	for _, format := range []string{"csv", "focus"} {
		code, body := s.get(t, payments, "/allocation", url.Values{"window": {s.week()}, "aggregate": {"pod"}, "format": {format}, "shareNamespaces": {"true"}})
		if code != 200 || !strings.Contains(string(body), "pay-api") {
			t.Fatalf("%s download: %d %s", format, code, body)
		}
		for _, other := range []string{"checkout", "cart", "coredns", "CC-4522"} {
			if strings.Contains(string(body), other) {
				t.Errorf("%s download of payments mentions %q:\n%s", format, other, body)
			}
		}
	}
}

func TestRefusals(t *testing.T) {
	s := startStack(t)
	week := s.week()
	month := time.Date(s.end.Year(), s.end.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	acrossMonths := month.Add(-24*time.Hour).Format(time.RFC3339) + "," + month.Add(24*time.Hour).Format(time.RFC3339)
	for _, c := range []struct {
		who    caller
		params url.Values
		status int
		want   string
	}{
		{anon, url.Values{"window": {week}}, 401, "authentication required"},
		{admin, url.Values{"window": {acrossMonths}, "format": {"focus"}}, 400, `parameter "window": FOCUS rows each belong to one billing month`},
		{nobody, url.Values{"window": {week}}, 403, "belongs to no tenant"},
		{payments, url.Values{}, 400, `parameter "window"`},
		{payments, url.Values{"window": {"fortnight"}}, 400, `parameter "window"`},
		{payments, url.Values{"window": {week}, "aggregate": {"service"}}, 400, `parameter "aggregate"`},
		{payments, url.Values{"window": {week}, "shareSplit": {"fair"}}, 400, `parameter "shareSplit"`},
		{payments, url.Values{"window": {week}, "shareIdle": {"yes please"}}, 400, `parameter "shareIdle"`},
		{payments, url.Values{"window": {week}, "resolution": {"90s"}}, 400, `parameter "resolution"`},
		{payments, url.Values{"window": {week}, "step": {"7m"}, "resolution": {"1h"}}, 400, `parameter "step"`},
		{payments, url.Values{"window": {week}, "filter": {"namespace=team-checkout-prod"}}, 400, `parameter "filter"`},
		{payments, url.Values{"window": {week}, "format": {"pdf"}}, 400, `parameter "format"`},
		{payments, url.Values{"window": {week}, "namespace": {"team-checkout-prod"}}, 400, `parameter "namespace" is not supported`},
		// Sharing another tenant's namespace would reveal its cost.
		{payments, url.Values{"window": {week}, "shareNamespaces": {"team-checkout-prod"}}, 403, "cost.shared_namespaces"},
		// An even split and idle per node would let a tenant solve for
		// others' cost and usage (cost.TestTenantCannotDeriveOthersCost).
		{payments, url.Values{"window": {week}, "shareNamespaces": {"true"}, "shareSplit": {"even"}}, 403, "shareSplit=even is for admins"},
		{checkout, url.Values{"window": {week}, "shareIdle": {"true"}, "idleByNode": {"true"}}, 403, "idleByNode=true is for admins"},
		// 400 days at 1m would be 576,000 steps of every query.
		{admin, url.Values{"window": {"400d"}, "resolution": {"1m"}}, 400, "cost.max_query_steps (10000)"},
	} {
		code, body := s.get(t, c.who, "/allocation", c.params)
		var e struct {
			Code    int    `json:"code"`
			Status  string `json:"status"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(body, &e); err != nil || code != c.status || e.Code != c.status || e.Status != "error" || !strings.Contains(e.Message, c.want) {
			t.Errorf("%v: %d %s, want %d mentioning %q", c.params, code, body, c.status, c.want)
		}
	}
	// The same window cut into days at midnight is a valid export.
	if code, body := s.get(t, admin, "/allocation", url.Values{"window": {acrossMonths}, "format": {"focus"}, "step": {"1d"}, "resolution": {"1h"}}); code != 200 || !strings.HasPrefix(string(body), "BilledCost,") {
		t.Errorf("daily FOCUS across two months: %d %s", code, body)
	}
}

func TestFOCUSExport(t *testing.T) {
	s := startStack(t)
	code, body := s.get(t, admin, "/allocation", url.Values{"window": {s.week()}, "resolution": {"1h"}, "step": {"1d"}, "aggregate": {"namespace"}, "includeIdle": {"true"}, "format": {"focus"}})
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, c := range rows[0] {
		col[c] = i
	}
	for _, m := range []string{"BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart",
		"ChargeCategory", "ChargeClass", "ChargeDescription", "ChargePeriodEnd", "ChargePeriodStart", "ContractedCost", "EffectiveCost",
		"InvoiceIssuerName", "ListCost", "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "ServiceCategory", "ServiceName"} {
		if _, ok := col[m]; !ok {
			t.Errorf("mandatory FOCUS column %s is missing", m)
		}
	}
	for c := range col {
		if !strings.HasPrefix(c, "x_") && !strings.ContainsAny(c[:1], "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			t.Errorf("column %q is neither FOCUS nor x_-prefixed", c)
		}
	}
	var billed, list float64
	for _, r := range rows[1:] {
		var b, l float64
		fmt.Sscan(r[col["BilledCost"]], &b)
		fmt.Sscan(r[col["ListCost"]], &l)
		billed += b
		list += l
		if r[col["BillingCurrency"]] != "USD" || r[col["ChargeCategory"]] != "Usage" || r[col["ServiceCategory"]] != "Compute" {
			t.Errorf("row %v", r)
		}
	}
	// Everything billed is the nodes' cost; at list price node-a (on
	// demand, 25% off) costs 4/3 more: .144·4/3 + .048 = .24/h.
	if !near(billed, .192*weekHours) || !near(list, .24*weekHours) {
		t.Errorf("BilledCost adds up to %v (want %v), ListCost to %v (want %v)", billed, .192*weekHours, list, .24*weekHours)
	}
}
