package rules_test

import (
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/tollgate-dev/tollgate/promenforce"
	"github.com/tollgate-dev/tollgate/slo/rules"
	"github.com/tollgate-dev/tollgate/slo/spec"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// Confining a template and then filling in a window must give exactly what
// the proxy's rewriter gives for the query with that window filled in
// first: the tenant's CI gets the rules the gateway would have allowed.
func TestScopeTemplateEqualsRewriteOfEachWindow(t *testing.T) {
	e := promenforce.New()
	scopes := map[string]*labels.Matcher{
		"one namespace":  tenancy.NewScope("namespace", []string{"team-payments-prod"}).Matcher(),
		"several, globs": tenancy.NewScope("namespace", []string{"team-payments-prod", "team-payments-staging", "pay-*"}).Matcher(),
	}
	templates := []string{
		`sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))`,
		// Several windows, spaced placeholders, an offset by the window.
		`sum(rate(a_total[{{.window}}])) / sum(rate(b_total[{{ .window }}] offset {{.window}}))`,
		// A subquery over the window, and a fixed range next to it.
		`max_over_time(sum(rate(x_total[5m]))[{{.window}}:1m]) / sum(increase(y_total{job="j"}[{{.window}}]))`,
		// The user's own matcher on the tenant label stays and is ANDed.
		`sum(rate(http_requests_total{namespace="team-checkout-prod"}[{{.window}}])) or vector(0)`,
		// Binary operations with modifiers and aggregations with parameters.
		"(\n  sum by (code) (rate(h_count[{{.window}}]))\n  -\n  on (code) sum by (code) (rate(h_bucket{le=\"0.3\"}[{{.window}}]))\n)",
		`histogram_quantile(0.99, sum by (le) (rate(h_bucket[{{.window}}]))) > bool 0.3`,
		`topk(scalar(count(up)), rate(z_total[{{.window}}]))`,
	}
	for name, m := range scopes {
		s := rules.NewScoper(e, m)
		for _, tpl := range templates {
			scoped, err := s.Template(tpl)
			if err != nil {
				t.Fatalf("%s: %s: %v", name, tpl, err)
			}
			if got, want := strings.Count(scoped, "{{.window}}"), countPlaceholders(t, tpl); got != want {
				t.Errorf("%s: %s: %d placeholders after confinement, want %d: %s", name, tpl, got, want, scoped)
			}
			for _, w := range []string{"5m", "1h", "3d", "30d"} {
				direct, err := e.Query(render(t, tpl, w), m)
				if err != nil {
					t.Fatal(err)
				}
				if got := render(t, scoped, w); got != direct {
					t.Errorf("%s, window %s:\n  template then window %s\n  window then rewrite  %s", name, w, got, direct)
				}
				checkConfined(t, render(t, scoped, w), m)
			}
		}
	}
}

func countPlaceholders(t *testing.T, tpl string) int {
	t.Helper()
	const marker = "987654321s"
	return strings.Count(render(t, tpl, marker), marker)
}

func render(t *testing.T, tpl, w string) string {
	t.Helper()
	out, err := spec.Render(tpl, w)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkConfined parses a query and checks every selector carries m.
func checkConfined(t *testing.T, q string, m *labels.Matcher) {
	t.Helper()
	expr, err := promenforce.New().Parser().ParseExpr(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok && !tenancy.HasMatcher(vs.LabelMatchers, m) {
			t.Errorf("selector %s of %s is not confined", vs, q)
		}
		return nil
	})
}

func TestScopeTemplateRefuses(t *testing.T) {
	s := rules.NewScoper(promenforce.New(), tenancy.NewScope("namespace", []string{"a"}).Matcher())
	for tpl, want := range map[string]string{
		`info(rate(x_total[{{.window}}]))`:                           "info()",
		`sum(rate(x_total[{{.window}}])) offset 4041d13h47m29s613ms`: "reserves",
		`sum(rate(x_total{a="{{"{{"}}"}[{{.window}}]))`:              "not a template of itself",
		`sum(rate(x_total[{{.window}}]`:                              "parse",
	} {
		_, err := s.Template(tpl)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one mentioning %q", tpl, err, want)
		}
	}
}
