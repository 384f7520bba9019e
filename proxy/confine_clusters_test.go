package proxy

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/tollgate-dev/tollgate/logqlenforce"
	"github.com/tollgate-dev/tollgate/promenforce"
	"github.com/tollgate-dev/tollgate/querybounds"
	"github.com/tollgate-dev/tollgate/tenancy"
)

func clusterAccess(t *testing.T, groups ...string) tenancy.Access {
	t.Helper()
	tn, err := tenancy.New(tenancy.Config{
		Label:       "namespace",
		AdminGroups: []string{"sre"},
		Tenants: []tenancy.TenantConfig{
			{Name: "pci", Groups: []string{"pci"}, Namespaces: []string{"team-payments-prod"}, Clusters: []string{"prod-eu"}},
			{Name: "open", Groups: []string{"open"}, Namespaces: []string{"team-payments-prod"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tn.Resolve(groups)
}

func confineWith(t *testing.T, e Enforcer, a tenancy.Access, rt *Route, ps url.Values) url.Values {
	t.Helper()
	s := &Settings{Enforcer: e, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	c := &Call{Request: httptest.NewRequest("GET", "/", nil), Access: a, Route: rt, Params: ps}
	if err := confine(s, c); err != nil {
		t.Fatalf("confine: %+v", *err)
	}
	return c.Params
}

// selectorsCarry fails unless every selector of a PromQL expression carries
// both the tenant's namespace matcher and its cluster matcher.
func selectorsCarry(t *testing.T, q string, want ...*labels.Matcher) {
	t.Helper()
	expr, err := promenforce.New().Parse(q)
	if err != nil {
		t.Fatalf("parsing %s: %v", q, err)
	}
	n := 0
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		if vs, ok := node.(*parser.VectorSelector); ok {
			n++
			for _, m := range want {
				if !tenancy.HasMatcher(vs.LabelMatchers, m) {
					t.Errorf("selector %s of %s lacks %s", vs, q, m)
				}
			}
		}
		return nil
	})
	if n == 0 {
		t.Errorf("%s has no selector", q)
	}
}

func TestConfineClustersPromQL(t *testing.T) {
	a := clusterAccess(t, "pci")
	ns := labels.MustNewMatcher(labels.MatchEqual, "namespace", "team-payments-prod")
	cl := labels.MustNewMatcher(labels.MatchEqual, "cluster", "prod-eu")
	queries := []string{
		`up`,
		`up{cluster="prod-us"}`,
		`up{"cluster"="prod-us"}`,
		`{"up", "cluster"="prod-us"}`,
		`up{cluster=~"prod-us|prod-eu"}`,
		`up{cluster=~".*"}`,
		`up{cluster!="prod-eu"}`,
		`up{cluster=""}`,
		`sum by (cluster) (rate(http_requests_total{cluster="prod-us"}[5m])) / on() group_left count(up{namespace="victim"})`,
	}
	for _, q := range queries {
		ps := confineWith(t, promenforce.New(), a, &Route{Query: QueryRequired}, url.Values{"query": {q}})
		selectorsCarry(t, ps.Get("query"), ns, cl)
	}
	// A selector's own cluster matcher can only narrow the tenant's: the
	// enforced selector ANDs both, so {cluster="prod-us"} selects nothing.
	ps := confineWith(t, promenforce.New(), a, &Route{Match: MatchConfined}, url.Values{"match[]": {`up{"cluster"="prod-us"}`, `{__name__=~".+"}`}})
	for _, sel := range ps["match[]"] {
		selectorsCarry(t, sel, ns, cl)
	}
	ps = confineWith(t, promenforce.New(), a, &Route{Match: MatchConfined, Query: QueryOptional}, url.Values{})
	selectorsCarry(t, ps.Get("query"), ns, cl)
	selectorsCarry(t, ps["match[]"][0], ns, cl)
	if got, want := ps.Get("query"), `{cluster="prod-eu",namespace="team-payments-prod"}`; got != want {
		t.Errorf("match-all = %s, want %s", got, want)
	}
}

// A tenant that is not confined, and an admin, get no cluster matcher.
func TestConfineClustersOnlyConfined(t *testing.T) {
	ps := confineWith(t, promenforce.New(), clusterAccess(t, "open"), &Route{Query: QueryRequired}, url.Values{"query": {`up{cluster="prod-us"}`}})
	if got, want := ps.Get("query"), `up{cluster="prod-us",namespace="team-payments-prod"}`; got != want {
		t.Errorf("unconfined: %s, want %s", got, want)
	}
	if len(tenantMatchers(&Call{Access: clusterAccess(t, "sre", "pci")})) != 1 {
		t.Error("an admin got a cluster matcher")
	}
}

func TestConfineClustersLogQL(t *testing.T) {
	a := clusterAccess(t, "pci")
	e := logqlenforce.New(querybounds.Limits{})
	cases := map[string]string{
		`{app="api"}`: `{app="api", namespace="team-payments-prod", cluster="prod-eu"}`,
		`sum(count_over_time({cluster="prod-us"} |= "x" [5m]))`: `sum(count_over_time({cluster="prod-us", namespace="team-payments-prod", cluster="prod-eu"} |= "x" [5m]))`,
	}
	for q, want := range cases {
		ps := confineWith(t, e, a, &Route{Query: QueryRequired}, url.Values{"query": {q}})
		if got := ps.Get("query"); got != want {
			t.Errorf("%s:\n got %s\nwant %s", q, got, want)
		}
	}
	ps := confineWith(t, e, a, &Route{Match: MatchConfined}, url.Values{})
	if got, want := ps["match[]"][0], `{namespace="team-payments-prod", cluster="prod-eu"}`; got != want {
		t.Errorf("match-all = %s, want %s", got, want)
	}
}
