package main

import (
	"os"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/demo"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// The demo writes a team's rules as `tollgate slo generate --tenant` would,
// byte for byte, for a tenant with a default namespace and for one with a
// single namespace and none: there the SLO series carry that namespace, so
// that the tenant can read them through the gateway.
func TestDemoTeamRulesAreTheCommands(t *testing.T) {
	for name, tc := range map[string]struct {
		tenant tenancy.TenantConfig
		yaml   string
		want   string
	}{
		"default namespace": {
			tenancy.TenantConfig{Name: "payments", Groups: []string{"team-payments"}, Namespaces: []string{"team-payments-prod", "team-payments-staging"}, DefaultNamespace: "team-payments-prod"},
			"{name: payments, groups: [team-payments], namespaces: [team-payments-prod, team-payments-staging], default_namespace: team-payments-prod}",
			"namespace: team-payments-prod",
		},
		"single namespace": {
			tenancy.TenantConfig{Name: "payments", Groups: []string{"team-payments"}, Namespaces: []string{"team-payments-live"}},
			"{name: payments, groups: [team-payments], namespaces: [team-payments-live]}",
			"namespace: team-payments-live",
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s := demo.NewSLOs(dir, tenancy.Config{Label: "namespace", AdminGroups: []string{"platform-sre"}, Tenants: []tenancy.TenantConfig{tc.tenant}}, nil)
			if err := s.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			cfg := writeFile(t, dir, "tollgate.yaml", `upstreams: {prometheus: "http://127.0.0.1:9090"}
tenancy:
  label: namespace
  admin_groups: [platform-sre]
  tenants:
    - `+tc.yaml+`
auth:
  tokens: [{name: ci, sha256: "83be5447375907e352eccf262f47a288924102f4e031dc650e189322653103d4", groups: [platform-sre]}]
`)
			stdout, _, err := run(t, "", "slo", "generate", "--tenant", "payments", "--config", cfg, s.Files()["team-spec"])
			if err != nil {
				t.Fatal(err)
			}
			written, err := os.ReadFile(s.Files()["team-rules"])
			if err != nil {
				t.Fatal(err)
			}
			if string(written) != stdout {
				t.Errorf("the demo's team rules differ from the command's")
			}
			if !strings.Contains(string(written), tc.want) {
				t.Errorf("the demo's team rules do not carry %q", tc.want)
			}
		})
	}
}
