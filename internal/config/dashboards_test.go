package config

import (
	"strings"
	"testing"
	"time"
)

func TestDashboardsDefaults(t *testing.T) {
	f, _, err := Parse("t.yaml", []byte(strings.Replace(valid, "listen: 127.0.0.1:9091", "listen: :9091", 1)))
	if err != nil {
		t.Fatal(err)
	}
	d := f.Dashboards
	if d.URL != "http://127.0.0.1:9091" || d.Preset != "prometheus-http" || time.Duration(d.SLOPeriod) != 30*24*time.Hour ||
		len(d.AdminTeams) != 1 || d.AdminTeams[0] != "platform-sre" {
		t.Errorf("defaults: %+v", d)
	}
}

// Every problem of the dashboards: section is reported at its line.
func TestDashboardsProblems(t *testing.T) {
	bad := valid + `dashboards:
  url: ftp://grafana
  preset: prom
  slo_period: 7d
  admin_teams: [""]
  log_service_label: app.kubernetes.io/name
  tenants:
    payments:
      preset: linkerd
      services: [api, "bad name", api]
      log_service_label: 1app
    checkout:
      services: [web]
`
	_, ps, err := Parse("t.yaml", []byte(bad))
	if err == nil {
		t.Fatal("no error")
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		`t.yaml:22:3: dashboards.url: "ftp://grafana" has scheme "ftp"`,
		`t.yaml:23:3: dashboards.preset: unknown preset "prom" (fix: use one of istio, otel, prometheus-http)`,
		`t.yaml:24:3: dashboards.slo_period: 7d is not an SLO period with known alert windows (fix: use 28d or 30d`,
		`t.yaml:25:17: dashboards.admin_teams[0]: is empty`,
		`t.yaml:26:3: dashboards.log_service_label: "app.kubernetes.io/name" is not a label name`,
		`t.yaml:29:7: dashboards.tenants.payments.preset: unknown preset "linkerd"`,
		`t.yaml:30:23: dashboards.tenants.payments.services[1]: "bad name" is not a service name`,
		`t.yaml:30:35: dashboards.tenants.payments.services[2]: service "api" is listed twice`,
		`t.yaml:31:7: dashboards.tenants.payments.log_service_label: "1app" is not a label name`,
		`t.yaml:32:5: dashboards.tenants.checkout: "checkout" is not a tenant of tenancy.tenants (fix: use one of payments)`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in:\n%s", want, all)
		}
	}
	if _, _, err := Parse("t.yaml", []byte(valid+"dashboards: {slo_period: 30 days}\n")); err == nil || !strings.Contains(err.Error(), `"30 days" is not a period`) {
		t.Errorf("unparsable period: %v", err)
	}
}
