package promenforce

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/tollgate-dev/tollgate/querybounds"
)

// holt_winters is Prometheus 2's name of double_exponential_smoothing: a
// Prometheus 2 backend serves it, a Prometheus 3 one (and Thanos and Mimir,
// which parse with Prometheus 3) does not know it.
func TestDialectFunctionTable(t *testing.T) {
	const hw = `holt_winters(x[10m], 0.5, 0.5)`
	const des = `double_exponential_smoothing(x[10m], 0.5, 0.5)`

	p2 := NewForDialect(querybounds.Limits{}, DialectPrometheus2)
	got, err := p2.Query(hw, one)
	if err != nil {
		t.Fatalf("prometheus2: %v", err)
	}
	if want := `holt_winters(x{namespace="team-a"}[10m], 0.5, 0.5)`; got != want {
		t.Errorf("prometheus2: got %s, want %s", got, want)
	}
	// The rest of the table is the parser's own.
	if _, err := p2.Query(des, one); err != nil {
		t.Errorf("prometheus2 refuses double_exponential_smoothing: %v", err)
	}

	for _, d := range []Dialect{DialectPrometheus3, DialectThanos, DialectMimir} {
		e := NewForDialect(querybounds.Limits{}, d)
		_, err := e.Query(hw, one)
		if !errors.Is(err, ErrInvalid) || e.Refused(err) {
			t.Fatalf("%s: holt_winters gives %v, want an invalid-query error (400)", d, err)
		}
		for _, part := range []string{`unknown function with name "holt_winters"`, "double_exponential_smoothing", "speaks " + string(d), "upstreams.prometheus_dialect"} {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("%s: error %q does not say %q", d, err, part)
			}
		}
		if _, err := e.Query(des, one); err != nil {
			t.Errorf("%s: double_exponential_smoothing: %v", d, err)
		}
	}
	if _, ok := parser.Functions["holt_winters"]; ok {
		t.Error("building a prometheus2 enforcer changed the parser package's function table")
	}
	if _, err := New().Query(hw, one); err == nil {
		t.Error("New() accepts holt_winters; its dialect must stay prometheus3 after a prometheus2 enforcer exists")
	}
}

func TestParseDialect(t *testing.T) {
	for _, s := range []string{"prometheus2", "prometheus3", "thanos", "mimir"} {
		if d, err := ParseDialect(s); err != nil || string(d) != s {
			t.Errorf("ParseDialect(%q) = %q, %v", s, d, err)
		}
	}
	for _, s := range []string{"", "auto", "Prometheus3", "victoriametrics"} {
		if _, err := ParseDialect(s); err == nil {
			t.Errorf("ParseDialect(%q) accepted", s)
		}
	}
}
