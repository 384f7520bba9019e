package demo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/dashboards/lint"
	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/demo/synth"
)

// TestDashboardsComponent: the demo writes every team's dashboards and the
// provisioning files into its output folder, the data sources pointing at
// the gateway, the dashboards passing lint, and says where in its banner.
func TestDashboardsComponent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	gw := &Gateway{addr: "127.0.0.1:19091", cfg: demoConfig("127.0.0.1:0", config.Upstreams{Prometheus: "http://127.0.0.1:9090"}, demoTenancy(), strings.Repeat("a", 64))}
	gw.cfg.ApplyDefaults()
	comps := outputComponents(dir, gw, synth.Default(), nil)
	if len(comps) != 1 {
		t.Fatalf("%d output components", len(comps))
	}
	d := comps[0]
	if err := d.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	for _, team := range []string{"payments", "checkout", "search"} {
		for _, kind := range []string{"red", "slo", "cost"} {
			p := filepath.Join(dir, "teams", team, kind+".json")
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, pr := range lint.Lint(p, data) {
				t.Error(pr)
			}
		}
	}
	red, _ := os.ReadFile(filepath.Join(dir, "teams", "payments", "red.json"))
	if !strings.Contains(string(red), `"title": "ledger"`) {
		t.Error("payments' RED dashboard has no row for its service ledger")
	}
	ds, err := os.ReadFile(filepath.Join(dir, "provisioning", "datasources", "tollgate.yaml"))
	if err != nil || !strings.Contains(string(ds), "url: http://127.0.0.1:19091") {
		t.Errorf("data sources do not point at the gateway: %v\n%s", err, ds)
	}
	providers, _ := os.ReadFile(filepath.Join(dir, "provisioning", "dashboards", "tollgate.yaml"))
	if !strings.Contains(string(providers), "path: "+filepath.Join(dir, "teams", "checkout")) {
		t.Errorf("providers do not point at the written files:\n%s", providers)
	}
	banner := strings.Join(d.Section().Lines, "\n")
	for _, want := range []string{"Written to " + dir + ": 10 dashboards", "payments, checkout, search", "tollgate dashboards lint " + dir} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	if outputComponents("", gw, synth.Default(), nil) != nil {
		t.Error("without an output folder the demo still writes files")
	}
}
