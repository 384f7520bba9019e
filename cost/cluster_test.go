package cost_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/cost"
	"github.com/tollgate-dev/tollgate/cost/allocation"
	"github.com/tollgate-dev/tollgate/cost/report"
	"github.com/tollgate-dev/tollgate/cost/source"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// twoClusterLoader is a backend holding prod-eu (nodes labelled
// eu-west-1) and prod-us (no region label), each running "shop".
type twoClusterLoader struct{}

func (twoClusterLoader) Load(_ context.Context, acc *allocation.Accumulator, w source.Window, _ func(int, int)) (source.Labels, error) {
	e := acc.AddNode(allocation.Node{Name: "node-1", Cluster: "prod-eu", Region: "eu-west-1", CPUPrice: 0.01, RAMPrice: 0.005})
	u := acc.AddNode(allocation.Node{Name: "node-1", Cluster: "prod-us", CPUPrice: 0.02, RAMPrice: 0.01})
	se := acc.AddContainer(allocation.Container{Cluster: "prod-eu", Node: "node-1", Namespace: "shop", Pod: "shop-0", Container: "app"})
	su := acc.AddContainer(allocation.Container{Cluster: "prod-us", Node: "node-1", Namespace: "shop", Pod: "shop-0", Container: "app"})
	h := w.Resolution.Hours()
	for t := w.Start; t.Before(w.End); t = t.Add(w.Resolution) {
		if err := acc.AddStep(t, h, []allocation.NodeSample{{Node: e, Hours: h, CPUCores: 4, RAMBytes: 4 * allocation.GiB}, {Node: u, Hours: h, CPUCores: 4, RAMBytes: 8 * allocation.GiB}},
			[]allocation.ContainerSample{{Container: se, Hours: h, CPURequest: 1, RAMRequest: 2 * allocation.GiB}, {Container: su, Hours: h, CPURequest: 1, RAMRequest: 2 * allocation.GiB}}); err != nil {
			return source.Labels{}, err
		}
	}
	return source.Labels{}, nil
}

func twoClusterEngine(t *testing.T) (*cost.Engine, *tenancy.Tenancy) {
	t.Helper()
	tn, err := tenancy.New(tenancy.Config{Label: "namespace", AdminGroups: []string{"platform-sre"},
		Tenants: []tenancy.TenantConfig{{Name: "shop", Groups: []string{"team-shop"}, Namespaces: []string{"shop"}}}})
	if err != nil {
		t.Fatal(err)
	}
	return cost.New(cost.Options{Source: twoClusterLoader{}, Tenancy: tn, Clusters: []string{"prod-eu", "prod-us", "prod-ap"},
		ClusterRegions: map[string]string{"prod-us": "us-east-1"}}), tn
}

func clusterQuery(agg ...string) cost.Query {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	return cost.Query{Start: start, End: start.Add(2 * time.Hour), Resolution: time.Hour, Aggregate: agg, IncludeIdle: true}
}

// An expected cluster without data is a warning naming it (to admins), in
// the JSON answer and the table; the clusters with data are not named.
func TestMissingExpectedClusterWarns(t *testing.T) {
	e, tn := twoClusterEngine(t)
	res, err := e.Compute(context.Background(), clusterQuery("cluster"), tenancy.Access{Admin: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], `"prod-ap"`) || !strings.Contains(res.Warnings[0], "not zero") {
		t.Fatalf("warnings %q, want one naming prod-ap", res.Warnings)
	}
	// Both clusters with data are there, each with its own idle; prod-ap
	// is not made up as a zero.
	names := []string{}
	for _, a := range res.Sets[0].Allocations {
		names = append(names, a.Name)
	}
	if want := []string{"prod-eu", "prod-eu/__idle__", "prod-us", "prod-us/__idle__"}; !slices.Equal(names, want) {
		t.Errorf("allocations %v, want %v", names, want)
	}
	var js bytes.Buffer
	if err := report.Write(&js, "json", res); err != nil {
		t.Fatal(err)
	}
	var body struct {
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal(js.Bytes(), &body); err != nil || len(body.Warnings) != 1 || !strings.Contains(body.Warnings[0], "prod-ap") {
		t.Errorf("JSON warnings %v (%v): %s", body.Warnings, err, js.String())
	}
	var table bytes.Buffer
	if err := report.Write(&table, "table", res); err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(table.String(), "\n"); !strings.HasPrefix(first, "WARNING: ") || !strings.Contains(first, "prod-ap") {
		t.Errorf("table does not start with the warning:\n%s", table.String())
	}

	// A tenant learns that a cluster is missing, not the fleet's names.
	shop := tn.Resolve([]string{"team-shop"})
	res, err = e.Compute(context.Background(), clusterQuery("namespace"), shop, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || strings.Contains(res.Warnings[0], "prod-") {
		t.Errorf("tenant warnings %q, want one without cluster names", res.Warnings)
	}

	// Every expected cluster present: no warning.
	ok := cost.New(cost.Options{Source: twoClusterLoader{}, Clusters: []string{"prod-us", "prod-eu"}})
	if res, err := ok.Compute(context.Background(), clusterQuery("cluster"), tenancy.Access{Admin: true}, nil); err != nil || len(res.Warnings) != 0 {
		t.Errorf("all clusters present: %v %q", err, res.Warnings)
	}
}

// The FOCUS export: each cluster a sub-account in its region, the
// configured region winning over none, the nodes' one region otherwise.
func TestFOCUSSubAccountAndRegionPerCluster(t *testing.T) {
	e, _ := twoClusterEngine(t)
	q := clusterQuery("cluster", "namespace")
	q.Step = 2 * time.Hour
	res, err := e.Compute(context.Background(), q, tenancy.Access{Admin: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := report.Write(&b, "focus", res); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	want := map[string][2]string{"prod-eu/shop": {"prod-eu", "eu-west-1"}, "prod-us/shop": {"prod-us", "us-east-1"},
		"prod-eu/__idle__": {"prod-eu", "eu-west-1"}, "prod-us/__idle__": {"prod-us", "us-east-1"}}
	seen := map[string]bool{}
	for _, r := range rows[1:] {
		name := r[col["ResourceId"]]
		w, ok := want[name]
		if !ok {
			t.Errorf("unexpected row %s", name)
			continue
		}
		seen[name] = true
		if r[col["SubAccountId"]] != w[0] || r[col["SubAccountName"]] != w[0] || r[col["RegionId"]] != w[1] || r[col["RegionName"]] != w[1] || r[col["x_Cluster"]] != w[0] {
			t.Errorf("%s: sub-account %q/%q region %q/%q, want %s in %s", name, r[col["SubAccountId"]], r[col["SubAccountName"]], r[col["RegionId"]], r[col["RegionName"]], w[0], w[1])
		}
	}
	if len(seen) != len(want) {
		t.Errorf("rows for %v, want %v", seen, want)
	}
}
