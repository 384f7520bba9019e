package source

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/cost/allocation"
	"github.com/tollgate-dev/tollgate/cost/pricing"
	"github.com/tollgate-dev/tollgate/internal/testkit/testenv"
)

// twoClusterSeries is one backend holding two clusters' kube-state-metrics
// series, labelled cluster=prod-eu and cluster=prod-us, as Thanos Query
// over two Prometheus with external labels answers, and a third set
// without the label (the single-cluster case). Both labelled clusters
// name their node node-1 and their pod shop/shop-0.
//
//	cluster   node    cores  GiB   pods (requests: cores, GiB)
//	prod-eu   node-1  4      4     shop/shop-0 1, 2
//	prod-us   node-1  4      8     shop/shop-0 1, 2; billing/billing-0 1, 2
//	(none)    node-x  2      2     shop/web-0 0.5, 1
func twoClusterSeries(from, to time.Time) string {
	var b strings.Builder
	type series struct {
		name, labels string
		v            float64
	}
	var all []series
	node := func(cl, n string, cores, gib float64) {
		all = append(all, series{"kube_node_status_capacity", cl + `node="` + n + `",resource="cpu"`, cores},
			series{"kube_node_status_capacity", cl + `node="` + n + `",resource="memory"`, gib * allocation.GiB})
	}
	pod := func(cl, n, ns, p string, cores, gib float64) {
		pl := cl + `namespace="` + ns + `",pod="` + p + `"`
		all = append(all, series{"kube_pod_info", pl + `,node="` + n + `",created_by_kind="StatefulSet",created_by_name="` + ns + `"`, 1},
			series{"kube_pod_container_status_running", pl + `,container="app"`, 1},
			series{"kube_pod_container_resource_requests", pl + `,container="app",resource="cpu"`, cores},
			series{"kube_pod_container_resource_requests", pl + `,container="app",resource="memory"`, gib * allocation.GiB})
	}
	eu, us := `cluster="prod-eu",`, `cluster="prod-us",`
	node(eu, "node-1", 4, 4)
	node(us, "node-1", 4, 8)
	node("", "node-x", 2, 2)
	pod(eu, "node-1", "shop", "shop-0", 1, 2)
	pod(us, "node-1", "shop", "shop-0", 1, 2)
	pod(us, "node-1", "billing", "billing-0", 1, 2)
	pod("", "node-x", "shop", "web-0", 0.5, 1)
	last := ""
	for _, s := range all {
		if s.name != last {
			fmt.Fprintf(&b, "# TYPE %s gauge\n", s.name)
			last = s.name
		}
		for t := from; !t.After(to); t = t.Add(time.Minute) {
			fmt.Fprintf(&b, "%s{%s} %g %d\n", s.name, s.labels, s.v, t.Unix())
		}
	}
	b.WriteString("# EOF\n")
	return b.String()
}

// The source reads each series' cluster from its cluster label, series
// without it into cost.cluster, and the core keeps every cluster's idle
// apart. At $0.01/core-h and $0.005/GiB-h, per hour:
//
//	prod-eu  shop .01+.01 = .02; node .04+.02 = .06: idle .04
//	prod-us  shop .02, billing .02 = .04; node .04+.04 = .08: idle .04
//	local    web .005+.005 = .01; node .02+.01 = .03: idle .02
func TestTwoClustersFromOneBackend(t *testing.T) {
	end := time.Now().UTC().Truncate(time.Hour)
	start := end.Add(-3 * time.Hour)
	prom := testenv.StartPrometheus(t, testenv.PrometheusOptions{OpenMetrics: []byte(twoClusterSeries(start.Add(-2*time.Hour), end))})
	u, err := url.Parse(prom.URL)
	if err != nil {
		t.Fatal(err)
	}
	src := New(Options{URL: u, Cluster: "local", Prices: pricing.New(pricing.Options{Defaults: pricing.Defaults{CPU: 0.01, RAM: 0.005}})})
	acc := allocation.NewAccumulator(start, 0)
	if _, err := src.Load(context.Background(), acc, Window{Start: start, End: end, Resolution: time.Hour}, nil); err != nil {
		t.Fatal(err)
	}
	sets, err := acc.Allocate(allocation.Options{Aggregate: []string{"cluster"}, IncludeIdle: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"prod-eu": .02, "prod-us": .04, "local": .01, "prod-eu/__idle__": .04, "prod-us/__idle__": .04, "local/__idle__": .02}
	got := map[string]float64{}
	for _, a := range sets[0].Allocations {
		got[a.Name] = a.TotalCost() / 3
	}
	if len(got) != len(want) {
		t.Errorf("allocations %v, want %v", got, want)
	}
	for name, w := range want {
		if math.Abs(got[name]-w) > 1e-9 {
			t.Errorf("%s: %.9f/h, want %.9f/h", name, got[name], w)
		}
	}
	sets, err = acc.Allocate(allocation.Options{Aggregate: []string{"cluster", "namespace"}})
	if err != nil {
		t.Fatal(err)
	}
	if s := sets[0]; s.Get("prod-eu/shop") == nil || s.Get("prod-us/shop") == nil || s.Get("local/shop") == nil || len(s.Allocations) != 4 {
		t.Errorf("shop in three clusters is not three allocations: %d allocations", len(s.Allocations))
	}
}
