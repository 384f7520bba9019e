package config

import (
	"fmt"
	"strings"
	"testing"
)

// A gateway may serve Loki alone; it must serve something; the cost engine
// needs Prometheus.
func TestUpstreams(t *testing.T) {
	const tenancy = `
tenancy:
  label: namespace
  admin_groups: [platform-sre]
  tenants:
    - {name: payments, groups: [team-payments], namespaces: [team-payments-prod]}
auth:
  tokens: [{name: ci, sha256: "0000000000000000000000000000000000000000000000000000000000000000", groups: [platform-sre]}]
`
	for name, tc := range map[string]struct{ yaml, problem string }{
		"Loki only":               {"upstreams: {loki: http://loki:3100}" + tenancy, ""},
		"Prometheus only":         {"upstreams: {prometheus: http://prometheus:9090}" + tenancy, ""},
		"neither":                 {"upstreams: {}" + tenancy, "t.yaml:1:1: upstreams: names no backend"},
		"no upstreams":            {strings.TrimPrefix(tenancy, "\n"), "upstreams: names no backend"},
		"cost without Prometheus": {"upstreams: {loki: http://loki:3100}\ncost: {}" + tenancy, "cost: needs upstreams.prometheus"},
		"dialect prometheus2":     {"upstreams: {prometheus: http://prometheus:9090, prometheus_dialect: prometheus2}" + tenancy, ""},
		"dialect thanos":          {"upstreams: {prometheus: http://thanos:10902, prometheus_dialect: thanos}" + tenancy, ""},
		"unknown dialect":         {"upstreams: {prometheus: http://vm:8428, prometheus_dialect: victoriametrics}" + tenancy, `upstreams.prometheus_dialect: "victoriametrics" is not a dialect`},
	} {
		_, ps, err := Parse("t.yaml", []byte(tc.yaml))
		if tc.problem == "" {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(fmt.Sprint(ps), tc.problem) {
			t.Errorf("%s: got %v, want a problem containing %q", name, ps, tc.problem)
		}
	}
}

// Without upstreams.prometheus_dialect the dialect is detected.
func TestDialectDefault(t *testing.T) {
	f, _, err := Parse("t.yaml", []byte(`
upstreams: {prometheus: http://prometheus:9090}
tenancy:
  label: namespace
  admin_groups: [platform-sre]
  tenants:
    - {name: payments, groups: [team-payments], namespaces: [team-payments-prod]}
auth:
  tokens: [{name: ci, sha256: "0000000000000000000000000000000000000000000000000000000000000000", groups: [platform-sre]}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if f.Upstreams.PrometheusDialect != "auto" {
		t.Errorf("default dialect %q, want auto", f.Upstreams.PrometheusDialect)
	}
}
