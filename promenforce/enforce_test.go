package promenforce

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

var (
	one  = labels.MustNewMatcher(labels.MatchEqual, "namespace", "team-a")
	many = labels.MustNewMatcher(labels.MatchRegexp, "namespace", "team-a|team-b-.*")
)

type queryCase struct{ name, in, want string }

// runQueryCases confines each input to namespace team-a and compares the
// printed result.
func runQueryCases(t *testing.T, cases []queryCase) {
	t.Helper()
	e := New()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.Query(tc.in, one)
			if err != nil {
				t.Fatalf("Query(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("Query(%q)\n got %s\nwant %s", tc.in, got, tc.want)
			}
		})
	}
}

// The expected outputs below were written by hand from the PromQL printer's
// rules (matchers sorted within a selector, `by` printed before the
// argument), not copied from the code under test.
func TestQueryCoversEveryNodeType(t *testing.T) {
	cases := []queryCase{
		// VectorSelector
		{"bare metric", `up`, `up{namespace="team-a"}`},
		{"metric with matchers", `up{job="api"}`, `up{job="api",namespace="team-a"}`},
		{"name matcher only", `{__name__=~".+"}`, `{__name__=~".+",namespace="team-a"}`},
		// MatrixSelector
		{"range selector", `rate(http_requests_total[5m])`, `rate(http_requests_total{namespace="team-a"}[5m])`},
		// SubqueryExpr
		{"subquery", `max_over_time(rate(x[5m])[1h:1m])`, `max_over_time(rate(x{namespace="team-a"}[5m])[1h:1m])`},
		{"nested subquery", `min_over_time(max_over_time(x[10m:1m])[1h:5m])`, `min_over_time(max_over_time(x{namespace="team-a"}[10m:1m])[1h:5m])`},
		// offset and @
		{"offset", `up offset 5m`, `up{namespace="team-a"} offset 5m`},
		{"negative offset", `up offset -5m`, `up{namespace="team-a"} offset -5m`},
		{"at timestamp", `up @ 1700000000`, `up{namespace="team-a"} @ 1700000000.000`},
		{"at end in range", `rate(x[5m] @ end())`, `rate(x{namespace="team-a"}[5m] @ end())`},
		{"subquery with at and offset", `rate(x[5m])[1h:] @ start() offset 1h`, `rate(x{namespace="team-a"}[5m])[1h:] @ start() offset 1h`},
		// AggregateExpr, including an expression parameter
		{"aggregation", `sum by (namespace) (up)`, `sum by (namespace) (up{namespace="team-a"})`},
		{"aggregation param is an expression", `topk(scalar(sum(a)), b)`, `topk(scalar(sum(a{namespace="team-a"})), b{namespace="team-a"})`},
		{"count_values string param", `count_values("v", up)`, `count_values("v", up{namespace="team-a"})`},
		{"quantile", `quantile(0.9, x)`, `quantile(0.9, x{namespace="team-a"})`},
		{"limitk", `limitk(2, x)`, `limitk(2, x{namespace="team-a"})`},
		// BinaryExpr
		{"binary with matching", `a / on(x) group_left(y) b`, `a{namespace="team-a"} / on (x) group_left (y) b{namespace="team-a"}`},
		{"set operator", `a and b`, `a{namespace="team-a"} and b{namespace="team-a"}`},
		{"or with vector", `a or vector(0)`, `a{namespace="team-a"} or vector(0)`},
		{"bool comparison", `a > bool 1`, `a{namespace="team-a"} > bool 1`},
		{"fill modifier", `a + fill(0) b`, `a{namespace="team-a"} + fill (0) b{namespace="team-a"}`},
		// Call
		{"label_replace onto the enforced label", `label_replace(up, "namespace", "victim", "", "")`, `label_replace(up{namespace="team-a"}, "namespace", "victim", "", "")`},
		{"absent", `absent(nothing)`, `absent(nothing{namespace=~"team-a"})`},
		{"histogram_quantile", `histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))`, `histogram_quantile(0.99, sum by (le) (rate(h_bucket{namespace="team-a"}[5m])))`},
		{"timestamp of selector", `timestamp(up)`, `timestamp(up{namespace="team-a"})`},
		// ParenExpr, UnaryExpr
		{"parens", `(up)`, `(up{namespace="team-a"})`},
		{"unary minus", `-up`, `-up{namespace="team-a"}`},
		// NumberLiteral, StringLiteral: no selector, nothing to do
		{"number only", `1+1`, `1 + 1`},
		{"string", `"hello"`, `"hello"`},
		{"time", `time()`, `time()`},
		// DurationExpr (experimental duration arithmetic)
		{"offset arithmetic", `up offset (1h + 5m)`, `up{namespace="team-a"} offset (1h + 5m)`},
		{"range arithmetic", `rate(x[step() * 2])`, `rate(x{namespace="team-a"}[step() * 2])`},
		{"subquery step()", `max_over_time(x[5m:step()])`, `max_over_time(x{namespace="team-a"}[5m:step()])`},
		// Extended range selectors
		{"anchored", `rate(x[5m] anchored)`, `rate(x{namespace="team-a"}[5m] anchored)`},
		{"smoothed", `x smoothed`, `x{namespace="team-a"} smoothed`},
	}
	runQueryCases(t, cases)
}

// Bypass classes from docs/security.md (research note (c)): each input tries
// to read outside the tenant; the rewrite must keep both the user's matcher
// and the tenant matcher, so that the intersection can only narrow.
func TestQueryBypassClasses(t *testing.T) {
	cases := []queryCase{
		// (c)1 user matcher on the enforced label must never replace ours
		{"equal victim", `up{namespace="victim"}`, `up{namespace="team-a",namespace="victim"}`},
		{"regex everything", `up{namespace=~".+"}`, `up{namespace="team-a",namespace=~".+"}`},
		{"not equal own namespace", `up{namespace!="team-a"}`, `up{namespace!="team-a",namespace="team-a"}`},
		{"negative regex", `up{namespace!~"team-a"}`, `up{namespace!~"team-a",namespace="team-a"}`},
		{"empty value", `up{namespace=""}`, `up{namespace="",namespace="team-a"}`},
		// (c)13 wildcard forms that are not '.+'
		{"character class", `up{namespace=~"[a-z].*"}`, `up{namespace="team-a",namespace=~"[a-z].*"}`},
		// (c)3 no metric name, only __name__, or selector-free
		{"name regex only", `{__name__=~"up|node_.*"}`, `{__name__=~"up|node_.*",namespace="team-a"}`},
		{"vector literal passes", `vector(1)`, `vector(1)`},
		{"or vector escape hatch", `up{namespace="victim"} or on() vector(1)`, `up{namespace="team-a",namespace="victim"} or on () vector(1)`},
		// (c)14 label names are case-sensitive: a different label is a different label
		{"other case", `up{Namespace="victim"}`, `up{Namespace="victim",namespace="team-a"}`},
		// UTF-8 quoted label name is the same label as the bare one
		{"quoted label name", `{"namespace"="victim", __name__="up"}`, `{__name__="up",namespace="team-a",namespace="victim"}`},
		// comments cannot hide a selector: the printed AST has none
		{"comment", "up # {namespace=\"victim\"}\n", `up{namespace="team-a"}`},
		// strings that look like selectors are strings
		{"selector inside a string", `label_replace(up, "x", "}{namespace=\"victim\"", "", "")`, `label_replace(up{namespace="team-a"}, "x", "}{namespace=\"victim\"", "", "")`},
		// (c)4 deep nesting in every position
		{"deep nesting", `sum(rate(a[5m])) / on() group_left() (count(b offset 1h) + scalar(c @ 1))`,
			`sum(rate(a{namespace="team-a"}[5m])) / on () group_left () (count(b{namespace="team-a"} offset 1h) + scalar(c{namespace="team-a"} @ 1.000))`},
	}
	runQueryCases(t, cases)
}

func TestQuerySeveralNamespacesUsesEscapedRegex(t *testing.T) {
	got, err := New().Query(`up{namespace="victim"}`, many)
	if err != nil {
		t.Fatal(err)
	}
	want := `up{namespace="victim",namespace=~"team-a|team-b-.*"}`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestQueryRefusesInfo(t *testing.T) {
	for _, q := range []string{
		`info(up)`,
		`info(up, {k8s_cluster_name=~".+"})`,
		`sum(info(rate(x[5m])))`,
		`up * on() group_left() info(up)`,
	} {
		_, err := New().Query(q, one)
		if !errors.Is(err, ErrRefused) {
			t.Errorf("Query(%q) = %v, want ErrRefused", q, err)
		}
		if err != nil && !strings.Contains(err.Error(), "target_info") {
			t.Errorf("Query(%q): error %q does not explain why", q, err)
		}
	}
}

func TestQueryInvalid(t *testing.T) {
	for _, q := range []string{``, `up{`, `sum(`, `up[5m`, `foo bar`, `up{namespace=~"("}`} {
		_, err := New().Query(q, one)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Query(%q) = %v, want ErrInvalid", q, err)
		}
	}
}

func TestSelector(t *testing.T) {
	cases := []struct{ in, want string }{
		{`up`, `{__name__="up",namespace="team-a"}`},
		{`{job="api"}`, `{job="api",namespace="team-a"}`},
		{`{namespace="victim"}`, `{namespace="team-a",namespace="victim"}`},
		{`{namespace=~".*"}`, `{namespace="team-a",namespace=~".*"}`},
		{`{__name__=~".+"}`, `{__name__=~".+",namespace="team-a"}`},
		// Prometheus refuses an empty selector; confined, it means "all of mine".
		{`{}`, `{namespace="team-a"}`},
	}
	e := New()
	for _, tc := range cases {
		got, err := e.Selector(tc.in, one)
		if err != nil {
			t.Fatalf("Selector(%q): %v", tc.in, err)
		}
		if got != tc.want {
			t.Errorf("Selector(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{`rate(x[5m])`, `up{`, `1`, `up offset 5m`} {
		if _, err := e.Selector(bad, one); !errors.Is(err, ErrInvalid) {
			t.Errorf("Selector(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestMatchAll(t *testing.T) {
	if got, want := MatchAll(many), `{namespace=~"team-a|team-b-.*"}`; got != want {
		t.Errorf("MatchAll = %s, want %s", got, want)
	}
}

// The rewrite must not write through shared matcher slices: enforcing one
// expression twice, or two tenants one after the other on freshly parsed
// copies, must not accumulate matchers.
func TestQueryDoesNotShareState(t *testing.T) {
	e := New()
	a, _ := e.Query(`a + a`, one)
	b, _ := e.Query(`a + a`, many)
	if a != `a{namespace="team-a"} + a{namespace="team-a"}` {
		t.Errorf("first: %s", a)
	}
	if b != `a{namespace=~"team-a|team-b-.*"} + a{namespace=~"team-a|team-b-.*"}` {
		t.Errorf("second: %s", b)
	}
}

// absent() builds its answer's labels from its selector's equality
// matchers and drops a label matched twice. Through Tollgate the labels
// must be those the same query gives on the tenant's own data: the tenant
// matcher is added as a regex (no label), or not at all where the user's
// own equality matcher already lies inside the tenant's namespaces.
func TestAbsentKeepsItsLabels(t *testing.T) {
	runQueryCases(t, []queryCase{
		{"own namespace kept", `absent({namespace="team-a", app="gone"})`, `absent({app="gone",namespace="team-a"})`},
		{"no namespace gained", `absent({app="gone"})`, `absent({app="gone",namespace=~"team-a"})`},
		{"over time", `absent_over_time(up{namespace="team-a"}[5m])`, `absent_over_time(up{namespace="team-a"}[5m])`},
		{"over time, no namespace", `absent_over_time(up[5m])`, `absent_over_time(up{namespace=~"team-a"}[5m])`},
		{"another namespace stays confined", `absent({namespace="victim"})`, `absent({namespace="victim",namespace=~"team-a"})`},
		{"an empty value is no confinement", `absent({namespace="", app="x"})`, `absent({app="x",namespace="",namespace=~"team-a"})`},
		{"a regex of the user's is no confinement", `absent({namespace=~"team-a|victim"})`, `absent({namespace=~"team-a",namespace=~"team-a|victim"})`},
		{"not a direct selector", `absent(sum(up))`, `absent(sum(up{namespace="team-a"}))`},
	})
	got, err := New().Query(`absent({namespace="team-b-1", app="gone"})`, many)
	if err != nil || got != `absent({app="gone",namespace="team-b-1"})` {
		t.Fatalf("several namespaces, one of them written: %q %v", got, err)
	}
	got, err = New().Query(`absent({app="gone"})`, many)
	if err != nil || !strings.Contains(got, `namespace=~"team-a|team-b-.*"`) {
		t.Fatalf("several namespaces: %q %v", got, err)
	}
}
