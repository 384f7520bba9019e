package config

import (
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/audit"
	"github.com/tollgate-dev/tollgate/limits"
)

func TestAuditAndLimitsKeys(t *testing.T) {
	f, _, err := Parse("t.yaml", []byte(valid+`audit:
  file: /var/log/tollgate/audit.jsonl
limits:
  requests_per_second: 2.5
  max_range: 7d
  max_points: 11000
`))
	if err != nil {
		t.Fatal(err)
	}
	if f.Audit == nil || f.Audit.File != "/var/log/tollgate/audit.jsonl" || f.Audit.QueueSize != audit.DefaultQueueSize ||
		f.Audit.BatchSize != audit.DefaultBatchSize || time.Duration(f.Audit.FlushInterval) != 200*time.Millisecond {
		t.Errorf("audit with defaults: %+v", f.Audit)
	}
	if want := (limits.Config{RequestsPerSecond: 2.5, MaxRange: limits.Duration(7 * 24 * time.Hour), MaxPoints: 11000}); f.Limits != want {
		t.Errorf("limits %+v, want %+v", f.Limits, want)
	}
	if f, _, _ := Parse("t.yaml", []byte(valid)); f.Audit != nil || !f.Limits.Empty() {
		t.Errorf("without the sections: audit %+v, limits %+v; want none", f.Audit, f.Limits)
	}
}

func TestAuditAndLimitsProblemsNameTheKey(t *testing.T) {
	tenantLimits := strings.Replace(valid, "      cost_center: CC-4521\n", "      cost_center: CC-4521\n      limits: {max_concurrent: -1}\n", 1)
	for _, tc := range []struct{ name, yaml, want string }{
		{"no sink", valid + "audit: {fail_closed: true}\n", "audit: names no sink"},
		{"relative file", valid + "audit: {file: audit.jsonl}\n", `audit.file: "audit.jsonl" is not an absolute path`},
		{"loki org without loki", valid + "audit: {loki_org_id: audit}\n", "audit.loki_org_id: is set but upstreams.loki is not"},
		{"bad org", strings.Replace(valid, "  prometheus: http://127.0.0.1:9090\n", "  prometheus: http://127.0.0.1:9090\n  loki: http://127.0.0.1:3100\n", 1) + "audit: {loki_org_id: \"a|b\"}\n", `audit.loki_org_id: "a|b" is not a valid Loki org ID`},
		{"negative rate", valid + "limits: {requests_per_second: -1}\n", "limits.requests_per_second: is negative"},
		{"bad range", valid + "limits: {max_range: soon}\n", `"soon" is not a duration`},
		{"tenant's", tenantLimits, "tenancy.tenants[0].limits.max_concurrent: is negative"},
		{"admins'", strings.Replace(valid, "  admin_groups: [platform-sre]\n", "  admin_groups: [platform-sre]\n  admin_limits: {max_limit: -5}\n", 1), "tenancy.admin_limits.max_limit: is negative"},
		{"unknown key", valid + "limits: {max_rps: 5}\n", "limits.max_rps: unknown key"},
	} {
		_, _, err := Parse("t.yaml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want a problem containing %q", tc.name, err, tc.want)
		}
	}
}
