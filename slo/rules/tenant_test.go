package rules_test

import (
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/slo/rules"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// A tenant's SLO series carry a namespace the tenant can read them in: its
// default_namespace, else its only namespace when that is not a glob;
// otherwise none, and the generator warns. The queries are confined to the
// tenant's namespaces and the alerts carry its team either way.
func TestForTenantLabelsTheSeriesWithANamespaceTheTenantReads(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  tenancy.TenantConfig
		want string // namespace of the SLO series; "" for none, with a warning
	}{
		{"default namespace", tenancy.TenantConfig{Namespaces: []string{"pay-prod", "pay-staging"}, DefaultNamespace: "pay-staging"}, "pay-staging"},
		{"one namespace", tenancy.TenantConfig{Namespaces: []string{"pay-prod"}}, "pay-prod"},
		{"one glob", tenancy.TenantConfig{Namespaces: []string{"pay-*"}}, ""},
		{"two namespaces", tenancy.TenantConfig{Namespaces: []string{"pay-prod", "pay-staging"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Name, tc.cfg.Groups, tc.cfg.Team = "payments", []string{"team-payments"}, "payments"
			tn, err := tenancy.New(tenancy.Config{Label: "namespace", Tenants: []tenancy.TenantConfig{tc.cfg}})
			if err != nil {
				t.Fatal(err)
			}
			payments, _ := tn.Tenant("payments")
			files, ps := generate(t, rules.ForTenant(rules.Options{}, payments), eventsSpec)
			if err := ps.Err(); err != nil {
				t.Fatal(err)
			}
			s := files[0].SLOs[0]
			if got := s.Meta[0].Labels["namespace"]; got != tc.want {
				t.Errorf("series namespace %q, want %q", got, tc.want)
			}
			warned := false
			for _, w := range ps.Warnings() {
				warned = warned || strings.Contains(w.Msg, "carry no namespace label")
			}
			if warned != (tc.want == "") {
				t.Errorf("warned that the series carry no namespace: %v, want %v", warned, tc.want == "")
			}
			if m := payments.Scope.Matcher().String(); !strings.Contains(s.SLI[0].Expr, m) {
				t.Errorf("SLI not confined by %s: %s", m, s.SLI[0].Expr)
			}
			if team := s.Alerts[0].Labels["team"]; team != "payments" {
				t.Errorf("alert team %q", team)
			}
		})
	}
}
