package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/audit"
	"github.com/tollgate-dev/tollgate/internal/testkit/grafanatest"
)

// TestDashboardsProvisionIsAudited: with an audit trail configured, a
// provisioning leaves a record naming what it changed, without the
// Grafana token.
func TestDashboardsProvisionIsAudited(t *testing.T) {
	g := grafanatest.New(t, "glsa_audited_token", "payments", "checkout", "platform-sre")
	example, err := os.ReadFile(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	trail := filepath.Join(dir, "audit.jsonl")
	// The example's trail, with its file here and without its Loki org
	// (no Loki runs here).
	cfg := strings.Replace(string(example), "  # file: /var/log/tollgate/audit.jsonl", "  file: "+trail+" #", 1)
	cfg = strings.Replace(cfg, "  loki_org_id: audit ", "  # loki_org_id: audit ", 1)
	cfgPath := filepath.Join(dir, "tollgate.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GRAFANA_TOKEN", "glsa_audited_token")
	if out, _, err := run(t, "", "dashboards", "provision", "--config", cfgPath, "--grafana-url", g.URL); err != nil {
		t.Fatalf("provision: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(trail)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "glsa_audited_token") {
		t.Errorf("the audit record holds the Grafana token: %s", raw)
	}
	var r audit.Record
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("audit file %q: %v", raw, err)
	}
	if r.API != "grafana" || r.Route != "dashboards provision" || r.Method != "POST" || r.Decision != "allowed" || r.Upstream != g.URL ||
		len(r.Changes) != 13 || r.Changes[0] != `create folder tg_payments "payments"` || r.User == "" {
		t.Errorf("provisioning record: %+v", r)
	}
}
