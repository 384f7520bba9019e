package rules_test

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/promenforce"
	"github.com/tollgate-dev/tollgate/slo/rules"
	"github.com/tollgate-dev/tollgate/slo/spec"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// specs returns n SLOs in specs of 10 SLOs each, cycling through the four
// SLI kinds.
func specs(b *testing.B, n int) *spec.Set {
	b.Helper()
	var sb strings.Builder
	for i := 0; i < n; i++ {
		if i%10 == 0 {
			fmt.Fprintf(&sb, "---\nversion: prometheus/v1\nservice: svc-%03d\nlabels: {team: team-%d}\nslos:\n", i/10, i%7)
		}
		fmt.Fprintf(&sb, "  - name: slo-%04d\n    objective: 99.9\n    alerting: {name: Slo%d, absent_alert: {}}\n    sli:\n", i, i)
		job := fmt.Sprintf(`job="svc-%03d"`, i/10)
		switch i % 4 {
		case 0:
			fmt.Fprintf(&sb, "      events:\n        error_query: sum(rate(http_requests_total{%s,code=~\"5..\"}[{{.window}}]))\n        total_query: sum(rate(http_requests_total{%s}[{{.window}}]))\n", job, job)
		case 1:
			fmt.Fprintf(&sb, "      raw:\n        error_ratio_query: sum(rate(errors_total{%s}[{{.window}}])) / sum(rate(requests_total{%s}[{{.window}}]))\n", job, job)
		case 2:
			fmt.Fprintf(&sb, "      latency: {metric: http_request_duration_seconds, selector: '{%s}', threshold: 0.25}\n", job)
		case 3:
			fmt.Fprintf(&sb, "      ratio: {errors: 'jobs_failed_total{%s}', total: 'jobs_total{%s}', min_events: 10}\n", job, job)
		}
	}
	docs, ps := spec.Parse("bench.yaml", []byte(sb.String()))
	if err := ps.Err(); err != nil {
		b.Fatal(err)
	}
	set := &spec.Set{Documents: docs}
	if got := len(set.SLOs()); got != n {
		b.Fatalf("%d SLOs", got)
	}
	return set
}

// BenchmarkGenerate1000SLOs is the time `tollgate slo generate` spends on
// 1,000 SLOs once they are loaded: every rule generated and the rule file
// written (7 SLI windows, the period, 7 metadata rules and 3 alerts each).
func BenchmarkGenerate1000SLOs(b *testing.B) {
	set := specs(b, 1000)
	m := tenancy.NewScope("namespace", []string{"team-a-prod", "team-a-staging"}).Matcher()
	for _, c := range []struct {
		name string
		opts rules.Options
	}{
		{"default", rules.Options{}},
		{"sloth-compat", rules.Options{SlothCompat: true}},
		{"tenant", rules.Options{Scoper: rules.NewScoper(promenforce.New(), m), Tenant: "a", Team: "a"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			g := generator(b, c.opts)
			b.ReportAllocs()
			for b.Loop() {
				files, ps := g.Generate(set)
				if err := ps.Err(); err != nil && c.opts.Tenant == "" {
					b.Fatal(err)
				}
				if err := rules.Write(io.Discard, files, rules.WriteOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLoad1000SLOs is the time to parse and validate 1,000 SLOs
// (every query parsed as PromQL).
func BenchmarkLoad1000SLOs(b *testing.B) {
	specs(b, 1) // warm up
	for b.Loop() {
		specs(b, 1000)
	}
}
