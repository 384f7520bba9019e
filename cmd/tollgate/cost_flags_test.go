package main

import (
	"os"
	"path/filepath"
	"testing"
)

// cost report checks its settings as `config check` checks the cost
// section and the Prometheus upstream, before anything is read: the first
// error, with its key and fix; warnings do not stop it; a bad flag value
// names the flag. Nothing listens on the URLs.
func TestCostReportChecksSettings(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(cfg, []byte(`
upstreams: {prometheus: "http://127.0.0.1:1", prometheus_org_id: tenant-1}
tenancy: {label: namespace, tenants: [{name: payments, groups: [g], namespaces: [ns]}]}
auth: {tokens: [{name: ci, sha256: "83be5447375907e352eccf262f47a288924102f4e031dc650e189322653103d4", groups: [g]}]}
cost: {currency: EUR}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--prometheus", "http://127.0.0.1:1", "--discount", "aws=200"},
			"cost.discounts.aws: 200 is not a percentage below 100 (fix: write the discount off on-demand prices in percent, e.g. 20)"},
		{[]string{"--prometheus", "http://127.0.0.1:1", "--discount", "aws=lots"},
			"--discount aws=lots: give a percentage, e.g. aws=20"},
		{[]string{"--prometheus", "ftp://prometheus"},
			`upstreams.prometheus: "ftp://prometheus" has scheme "ftp" (fix: use http:// or https://)`},
		{[]string{"--prometheus", "http://127.0.0.1:1", "--org-id", "a\nb"},
			"upstreams.prometheus_org_id: contains a line break (fix: give the Mimir/Cortex tenant ID on one line)"},
		{[]string{"--config", cfg, "--shared-namespaces", "Platform"},
			`cost.shared_namespaces[0]: "Platform" is not a namespace name (fix: list exact namespace names such as kube-system)`},
		{[]string{"--config", cfg, "--pricing-file", filepath.Join(t.TempDir(), "missing.csv")}, "cost.pricing_file: "},
		// A warning (an overhead without shared namespaces) lets the
		// command go on to the next check.
		{[]string{"--config", cfg, "--overhead-monthly", "100", "--window", "fortnight"}, `--window: "fortnight" is not a window`},
		{[]string{"--config", cfg, "--window", "7d", "--step", "90m", "--resolution", "1h"}, "--step: 1h30m0s must be a multiple of the resolution (1h0m0s)"},
	} {
		_, _, err := run(t, "", append([]string{"cost", "report"}, c.args...)...)
		if err == nil || len(err.Error()) < len(c.want) || err.Error()[:len(c.want)] != c.want {
			t.Errorf("%q:\n got %v\nwant %s…", c.args, err, c.want)
		}
	}
}
