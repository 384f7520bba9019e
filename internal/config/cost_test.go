package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCostSection(t *testing.T) {
	// Absent: no cost engine.
	f, _, err := Parse("t.yaml", []byte(valid))
	if err != nil || f.Cost != nil {
		t.Fatalf("without cost: %v %+v", err, f.Cost)
	}
	// Empty: enabled with defaults.
	f, _, err = Parse("t.yaml", []byte(valid+"cost: {}\n"))
	if err != nil || f.Cost == nil || f.Cost.Cluster != DefaultCluster || f.Cost.Currency != "USD" || time.Duration(f.Cost.MetricsInterval) != DefaultCostMetricsInterval {
		t.Fatalf("cost: {}: %v %+v", err, f.Cost)
	}
	prices := filepath.Join(t.TempDir(), "prices.csv")
	if err := os.WriteFile(prices, []byte("provider,region,instance_type,vcpu,memory_gib,gpu,on_demand_hourly,spot_hourly\naws,eu-west-1,x.large,2,8,0,0.1,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, _, err = Parse("t.yaml", []byte(valid+"cost:\n  pricing_file: "+prices+"\n  discounts: {aws: 20}\n  shared_namespaces: [kube-system]\n  shared_overhead_monthly: 100\n"))
	if err != nil || f.Cost.Discounts["aws"] != 20 {
		t.Fatalf("full section: %v", err)
	}
}

// Every problem of the section, each at its line.
func TestCostProblemsPointAtLines(t *testing.T) {
	in := valid + `cost:
  pricing_file: /nonexistent/prices.csv
  default_prices: {cpu: -1}
  discounts: {aws: 120, ibm: 5}
  shared_namespaces: [Kube_System]
  shared_overhead_monthly: -3
  currency: dollars
  pricing: x
`
	_, ps, err := Parse("t.yaml", []byte(in))
	if err == nil {
		t.Fatal("no error")
	}
	base := strings.Count(valid, "\n")
	for _, want := range []struct {
		path string
		line int
	}{
		{"cost.pricing_file", base + 2}, {"cost.default_prices.cpu", base + 3}, {"cost.discounts.aws", base + 4}, {"cost.discounts.ibm", base + 4},
		{"cost.shared_namespaces[0]", base + 5}, {"cost.shared_overhead_monthly", base + 6}, {"cost.currency", base + 7}, {"cost.pricing", base + 8},
	} {
		found := false
		for _, p := range ps {
			if p.Path == want.path {
				found = true
				if p.Line != want.line {
					t.Errorf("%s: line %d, want %d (%s)", want.path, p.Line, want.line, p)
				}
			}
		}
		if !found {
			t.Errorf("no problem for %s in:\n%v", want.path, err)
		}
	}
}

func TestCostClustersKeys(t *testing.T) {
	f, _, err := Parse("t.yaml", []byte(valid+"cost:\n  cluster_label: k8s_cluster\n  clusters: [prod-eu, prod-us]\n  cluster_regions: {prod-eu: eu-west-1}\n"))
	if err != nil || f.Cost.ClusterLabel != "k8s_cluster" || len(f.Cost.Clusters) != 2 || f.Cost.ClusterRegions["prod-eu"] != "eu-west-1" {
		t.Fatalf("cluster keys: %v %+v", err, f.Cost)
	}
	if f, _, err = Parse("t.yaml", []byte(valid+"cost: {}\n")); err != nil || f.Cost.ClusterLabel != "cluster" {
		t.Fatalf("cost.cluster_label default: %v %+v", err, f.Cost)
	}
	_, _, err = Parse("t.yaml", []byte(valid+"cost:\n  cluster_label: k8s.cluster\n  clusters: [prod-eu, prod-eu, a/b]\n  cluster_regions: {prod-eu: \" \"}\n"))
	if err == nil {
		t.Fatal("bad cluster keys accepted")
	}
	for _, want := range []string{"cost.cluster_label", "cost.clusters[1]", "cost.clusters[2]", "cost.cluster_regions.prod-eu"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("problems %q do not name %s", err, want)
		}
	}
}
