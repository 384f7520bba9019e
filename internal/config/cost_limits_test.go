package config

import (
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/problem"
)

// The cost section's bounds: defaults when left out, refused when
// negative, a warning when too low for the chargeback page's month view.
func TestCostBounds(t *testing.T) {
	f, _, err := Parse("t.yaml", []byte(valid+"cost: {}\n"))
	if err != nil || f.Cost.MaxQuerySteps != 10_000 || f.Cost.MaxConcurrentPerTenant != 2 {
		t.Fatalf("defaults: %v %+v", err, f.Cost)
	}
	f, _, err = Parse("t.yaml", []byte(valid+"cost: {max_query_steps: 20000, max_concurrent_per_tenant: 5}\n"))
	if err != nil || f.Cost.MaxQuerySteps != 20_000 || f.Cost.MaxConcurrentPerTenant != 5 {
		t.Fatalf("set: %v %+v", err, f.Cost)
	}
	base := strings.Count(valid, "\n")
	_, ps, err := Parse("t.yaml", []byte(valid+"cost:\n  max_query_steps: -1\n  max_concurrent_per_tenant: -2\n"))
	if err == nil {
		t.Fatal("negative bounds accepted")
	}
	for path, line := range map[string]int{"cost.max_query_steps": base + 2, "cost.max_concurrent_per_tenant": base + 3} {
		found := false
		for _, p := range ps {
			if p.Path == path && p.Line == line && p.Severity == problem.SeverityError {
				found = true
			}
		}
		if !found {
			t.Errorf("no error for %s at line %d in %v", path, line, ps)
		}
	}
	_, ps, err = Parse("t.yaml", []byte(valid+"cost: {max_query_steps: 100}\n"))
	if err != nil || len(ps) != 1 || ps[0].Path != "cost.max_query_steps" || ps[0].Severity != problem.SeverityWarning || !strings.Contains(ps[0].Fix, "744") {
		t.Errorf("a bound below a month at 1h: %v %v", err, ps)
	}
}
