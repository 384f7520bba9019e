package metrics

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-dev/tollgate/cost"
	"github.com/tollgate-dev/tollgate/cost/allocation"
	"github.com/tollgate-dev/tollgate/cost/source"
)

// twoClusterLoader has a node-1 in prod-eu and in prod-us, each a 4-core
// node at $0.01/core-h (no RAM), each running one 1-core container.
type twoClusterLoader struct{}

func (twoClusterLoader) Load(_ context.Context, acc *allocation.Accumulator, w source.Window, _ func(int, int)) (source.Labels, error) {
	var nodes []allocation.NodeSample
	var ctrs []allocation.ContainerSample
	h := w.Resolution.Hours()
	for _, cl := range []string{"prod-eu", "prod-us"} {
		n := acc.AddNode(allocation.Node{Name: "node-1", Cluster: cl, InstanceType: "m", CapacityType: "on_demand", CPUPrice: 0.01})
		c := acc.AddContainer(allocation.Container{Cluster: cl, Node: "node-1", Namespace: "shop", Pod: "shop-0", Container: "app"})
		nodes = append(nodes, allocation.NodeSample{Node: n, Hours: h, CPUCores: 4})
		ctrs = append(ctrs, allocation.ContainerSample{Container: c, Hours: h, CPURequest: 1})
	}
	for t := w.Start; t.Before(w.End); t = t.Add(w.Resolution) {
		if err := acc.AddStep(t, h, nodes, ctrs); err != nil {
			return source.Labels{}, err
		}
	}
	return source.Labels{}, nil
}

// Nodes of the same name in two clusters do not fail the scrape with two
// gauges of the same labels: they are summed into one. Per hour: 2 × 4 ×
// .01 = .08 of node cost, 2 × 3 × .01 = .06 of it idle.
func TestSameNodeNameInTwoClusters(t *testing.T) {
	now := time.Date(2026, 11, 2, 10, 3, 0, 0, time.UTC)
	reg := prometheus.NewRegistry()
	reg.MustRegister(New(Options{Engine: cost.New(cost.Options{Source: twoClusterLoader{}}), Interval: 5 * time.Minute, Now: func() time.Time { return now }}))
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "resource" && l.GetValue() == "cpu" {
					got[mf.GetName()] += m.GetGauge().GetValue()
				}
			}
		}
	}
	for name, want := range map[string]float64{"tollgate_cost_node_hourly_cost": .08, "tollgate_cost_node_idle_hourly_cost": .06, "tollgate_cost_namespace_hourly_cost": .02} {
		if math.Abs(got[name]-want) > 1e-12 {
			t.Errorf("%s cpu = %v, want %v", name, got[name], want)
		}
	}
}
