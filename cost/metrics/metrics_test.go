package metrics

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tollgate-dev/tollgate/cost"
	"github.com/tollgate-dev/tollgate/cost/allocation"
	"github.com/tollgate-dev/tollgate/cost/source"
)

// fixtureLoader feeds the engine a one-node slice of the two-node fixture
// (cost/allocation's TestTwoNodeFixture): node-a with pay-api and coredns,
// steady, whatever the window.
type fixtureLoader struct{ loads int }

func (f *fixtureLoader) Load(_ context.Context, acc *allocation.Accumulator, w source.Window, _ func(int, int)) (source.Labels, error) {
	f.loads++
	n := acc.AddNode(allocation.Node{Name: "node-a", Cluster: "fixture", InstanceType: "fixture.a", CapacityType: "on_demand", CPUPrice: 0.024, RAMPrice: 0.003})
	pay := acc.AddContainer(allocation.Container{Cluster: "fixture", Node: "node-a", Namespace: "team-payments-prod", Pod: "pay-api-0", Container: "pay-api"})
	dns := acc.AddContainer(allocation.Container{Cluster: "fixture", Node: "node-a", Namespace: "kube-system", Pod: "coredns-0", Container: "coredns"})
	h := w.Resolution.Hours()
	for t := w.Start; t.Before(w.End); t = t.Add(w.Resolution) {
		err := acc.AddStep(t, h, []allocation.NodeSample{{Node: n, Hours: h, CPUCores: 4, RAMBytes: 16 * allocation.GiB}}, []allocation.ContainerSample{
			{Container: pay, Hours: h, CPURequest: 1, CPUUsage: 0.5, RAMRequest: 4 * allocation.GiB, RAMUsage: 5 * allocation.GiB},
			{Container: dns, Hours: h, CPURequest: 0.5, CPUUsage: 0.1, RAMRequest: 1 * allocation.GiB, RAMUsage: 0.5 * allocation.GiB},
		})
		if err != nil {
			return source.Labels{}, err
		}
	}
	return source.Labels{Namespaces: map[string]map[string]string{"team-payments-prod": {"team": "payments", "cost_center": "CC-4521"}}}, nil
}

func TestGauges(t *testing.T) {
	loader := &fixtureLoader{}
	now := time.Date(2026, 11, 2, 10, 3, 0, 0, time.UTC)
	c := New(Options{Engine: cost.New(cost.Options{Source: loader}), Interval: 5 * time.Minute, Now: func() time.Time { return now }})
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	// Per hour on node-a: pay-api cpu 1 core × .024, ram 5 GiB × .003;
	// coredns .5 × .024 and 1 × .003; idle cpu 4-1.5 = 2.5 cores = .060,
	// ram 16-6 = 10 GiB = .030.
	want := map[string]float64{
		`tollgate_cost_namespace_hourly_cost{cost_center="CC-4521",namespace="team-payments-prod",resource="cpu",team="payments",tenant=""}`: .024,
		`tollgate_cost_namespace_hourly_cost{cost_center="CC-4521",namespace="team-payments-prod",resource="ram",team="payments",tenant=""}`: .015,
		`tollgate_cost_namespace_hourly_cost{cost_center="",namespace="kube-system",resource="cpu",team="",tenant=""}`:                       .012,
		`tollgate_cost_cost_center_hourly_cost{cost_center="CC-4521",resource="cpu"}`:                                                        .024,
		`tollgate_cost_cost_center_hourly_cost{cost_center="__unallocated__",resource="ram"}`:                                                .003,
		`tollgate_cost_node_idle_hourly_cost{node="node-a",resource="cpu"}`:                                                                  .060,
		`tollgate_cost_node_idle_hourly_cost{node="node-a",resource="ram"}`:                                                                  .030,
		`tollgate_cost_node_hourly_cost{capacity_type="on_demand",instance_type="fixture.a",node="node-a",resource="cpu"}`:                   .096,
		`tollgate_cost_node_hourly_cost{capacity_type="on_demand",instance_type="fixture.a",node="node-a",resource="ram"}`:                   .048,
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+`="`+l.GetValue()+`"`)
			}
			got[mf.GetName()+"{"+strings.Join(ls, ",")+"}"] = m.GetGauge().GetValue()
		}
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || math.Abs(g-v) > 1e-12 {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	// A second scrape within the interval reuses the figures.
	if _, err := testutil.GatherAndCount(reg); err != nil || loader.loads != 1 {
		t.Errorf("second scrape: %v, %d loads", err, loader.loads)
	}
	now = now.Add(6 * time.Minute)
	if _, err := testutil.GatherAndCount(reg); err != nil || loader.loads != 2 {
		t.Errorf("scrape after the interval: %v, %d loads", err, loader.loads)
	}
}
