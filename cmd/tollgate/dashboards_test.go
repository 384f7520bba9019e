package main

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/testkit/grafanatest"
)

var exampleConfig = filepath.Join("..", "..", "deploy", "tollgate.example.yaml")

func TestDashboardsHelp(t *testing.T) {
	for _, args := range [][]string{
		{"dashboards", "--help"}, {"dashboards", "generate", "--help"},
		{"dashboards", "provision", "--help"}, {"dashboards", "lint", "--help"},
	} {
		out, _, err := run(t, "", args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if len(out) < 400 || !strings.Contains(out, "Examples:") {
			t.Errorf("%v: help is short or has no examples:\n%s", args, out)
		}
	}
	out, _, _ := run(t, "", "dashboards", "--help")
	for _, preset := range []string{"istio", "otel", "prometheus-http"} {
		if !strings.Contains(out, preset) {
			t.Errorf("dashboards --help does not list preset %s", preset)
		}
	}
}

// TestDashboardsGenerate writes the example configuration's dashboards,
// rewrites nothing the second time, lints clean, and its data sources are
// deploy/grafana/datasources.yaml, which therefore cannot drift.
func TestDashboardsGenerate(t *testing.T) {
	dir := t.TempDir()
	out, _, err := run(t, "", "dashboards", "generate", "--config", exampleConfig, "--out", dir)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, f := range []string{"teams/payments/red.json", "teams/checkout/slo.json", "platform/overview.json", "provisioning/dashboards/tollgate.yaml"} {
		if !strings.Contains(out, filepath.Join(dir, f)) {
			t.Errorf("output does not mention %s:\n%s", f, out)
		}
	}
	if !strings.Contains(out, "7 dashboards in 3 folders: 9 files written, 0 unchanged, 0 removed") {
		t.Errorf("summary:\n%s", out)
	}
	out, _, err = run(t, "", "dashboards", "generate", "--config", exampleConfig, "--out", dir)
	if err != nil || !strings.Contains(out, "0 files written, 9 unchanged") {
		t.Errorf("second run: %v\n%s", err, out)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "provisioning", "datasources", "tollgate.yaml"))
	want, _ := os.ReadFile(filepath.Join("..", "..", "deploy", "grafana", "datasources.yaml"))
	if string(got) != string(want) {
		t.Errorf("deploy/grafana/datasources.yaml is not what the example configuration generates; regenerate it:\n  tollgate dashboards generate --config deploy/tollgate.example.yaml --out /tmp/g && cp /tmp/g/provisioning/datasources/tollgate.yaml deploy/grafana/")
	}
	out, _, err = run(t, "", "dashboards", "lint", dir)
	if err != nil || !strings.Contains(out, "7 dashboards checked, no problems") {
		t.Errorf("lint of the generated directory: %v\n%s", err, out)
	}

	// Logs links filter on the Loki label each tenant's streams carry:
	// the preset's service for payments, app as configured for checkout.
	for team, want := range map[string]string{"payments": `service=\"ledger\"`, "checkout": `app=\"cart\"`} {
		red, _ := os.ReadFile(filepath.Join(dir, "teams", team, "red.json"))
		if u, err := url.QueryUnescape(string(red)); err != nil || !strings.Contains(u, want) {
			t.Errorf("%s's RED dashboard has no Explore link filtering on %s (%v)", team, want, err)
		}
	}

	// A tenant removed from the configuration loses its files.
	cfg, _ := os.ReadFile(exampleConfig)
	trimmed := strings.Replace(string(cfg), "    checkout:\n      preset: istio\n      services: [checkout-web, cart]\n      log_service_label: app      # the Loki label naming the service, if not the preset's\n", "", 1)
	i := strings.Index(trimmed, "    - name: checkout")
	j := strings.Index(trimmed, "auth:")
	trimmed = trimmed[:i] + trimmed[j:]
	small := filepath.Join(t.TempDir(), "one-team.yaml")
	if err := os.WriteFile(small, []byte(trimmed), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err = run(t, "", "dashboards", "generate", "--config", small, "--out", dir)
	if err != nil || !strings.Contains(out, "3 removed") {
		t.Fatalf("after removing checkout: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "teams", "checkout")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("teams/checkout is still there: %v", err)
	}
}

// TestDashboardsGenerateDiscoveryFails: a tenant without services and no
// Prometheus to ask is an error that says what to do.
func TestDashboardsGenerateDiscoveryFails(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(cfg, []byte(`
upstreams: {prometheus: "http://127.0.0.1:1"}
tenancy: {label: namespace, tenants: [{name: payments, groups: [g], namespaces: [ns]}]}
auth: {tokens: [{name: ci, sha256: "83be5447375907e352eccf262f47a288924102f4e031dc650e189322653103d4", groups: [g]}]}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := run(t, "", "dashboards", "generate", "--config", cfg, "--out", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "discovering the services of tenant payments") || !strings.Contains(err.Error(), "dashboards.tenants.payments.services") {
		t.Errorf("error %v", err)
	}
}

func TestDashboardsProvision(t *testing.T) {
	g := grafanatest.New(t, "glsa_cli", "payments", "checkout", "platform-sre")
	t.Setenv("GRAFANA_TOKEN", "")
	_, _, err := run(t, "", "dashboards", "provision", "--config", exampleConfig, "--grafana-url", g.URL)
	if err == nil || !strings.Contains(err.Error(), "no Grafana token") {
		t.Fatalf("without a token: %v", err)
	}
	// A token from a Kubernetes secret often ends with a newline.
	t.Setenv("GRAFANA_TOKEN", "glsa_cli\n")
	out, _, err := run(t, "", "dashboards", "provision", "--config", exampleConfig, "--grafana-url", g.URL, "--dry-run")
	if err != nil || !strings.Contains(out, `would create folder tg_payments "payments"`) || !strings.Contains(out, "would make 13 changes; 0 of 7 dashboards unchanged") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if len(g.Writes()) != 0 {
		t.Fatal("the dry run wrote")
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("glsa_cli\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GRAFANA_TOKEN", "wrong")
	out, _, err = run(t, "", "dashboards", "provision", "--config", exampleConfig, "--grafana-url", g.URL, "--token-file", tokenFile, "--message", "ci run 7")
	if err != nil || !strings.Contains(out, "made 13 changes") {
		t.Fatalf("provision: %v\n%s", err, out)
	}
	if d, ok := g.Dashboard("tg_payments_red"); !ok || d.Messages[0] != "ci run 7" {
		t.Errorf("tg_payments_red: %+v", d)
	}
	out, _, err = run(t, "", "dashboards", "provision", "--config", exampleConfig, "--grafana-url", g.URL, "--token-file", tokenFile, "--prune")
	if err != nil || !strings.Contains(out, "made 0 changes; 7 of 7 dashboards unchanged") {
		t.Fatalf("second run: %v\n%s", err, out)
	}

	// A Grafana error names the folder and the status; exit status 1.
	t.Setenv("GRAFANA_TOKEN", "wrong")
	out, _, err = run(t, "", "dashboards", "provision", "--config", exampleConfig, "--grafana-url", g.URL)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(out, "folder tg_payments \"payments\" (its 3 dashboards skipped): GET /api/teams/search: 401 Unauthorized") {
		t.Errorf("wrong token: %v\n%s", err, out)
	}
}

func TestDashboardsLint(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"uid": "x", "schemaVersion": 39, "panels": [
	  {"id": 1, "type": "timeseries", "title": "Rate", "targets": [{"refId": "A", "datasource": {"type": "prometheus", "uid": "p"}, "expr": "rate(x[5m])"}]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, "", "dashboards", "lint", bad)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("err %v, want exit status 1\n%s", err, out)
	}
	for _, want := range []string{"[datasource-variable]", `panel "Rate" (id 1): [panel-description]`, "[panel-unit]", "target A: [panel-datasource]", "target A: [rate-interval] rate() over a fixed [5m]"} {
		if !strings.Contains(out, bad+": ") || !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, _, err := run(t, "", "dashboards", "lint", t.TempDir()); err == nil || !strings.Contains(err.Error(), "holds no .json file") {
		t.Errorf("empty directory: %v", err)
	}
}
