package synth

import (
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// FixturePricing is the pricing file of the cost fixture (cost/pricing's
// format). With default prices CPU 0.04 and RAM 0.005 and a 25% aws
// discount it prices fixture.a at $0.024/core-h and $0.003/GiB-h and spot
// fixture.b at $0.016 and $0.002 (cost/pricing's TestFixturePrices).
const FixturePricing = `provider,region,instance_type,vcpu,memory_gib,gpu,on_demand_hourly,spot_hourly
aws,eu-west-1,fixture.a,4,16,0,0.192,0.07
aws,eu-west-1,fixture.b,2,8,0,0.1,0.048
`

// CostFixture is the two-node cluster of cost/allocation's
// TestTwoNodeFixture as kube-state-metrics and cAdvisor series, constant
// over time, so that the allocation of any window of it is the fixture's
// hourly figures times its hours.
func CostFixture() []Series {
	var out []Series
	add := func(typ string, v func(time.Time) float64, kv ...string) {
		out = append(out, Series{Labels: labels.FromStrings(kv...), Type: typ, Value: v})
	}
	constant := func(x float64) func(time.Time) float64 { return func(time.Time) float64 { return x } }
	rate := func(x float64) func(time.Time) float64 {
		return func(t time.Time) float64 { return x * t.Sub(epoch).Seconds() }
	}
	const gib = 1 << 30
	for _, n := range []struct {
		name, typ, capacity string
		cores, gib          float64
	}{{"node-a", "fixture.a", "on-demand", 4, 16}, {"node-b", "fixture.b", "spot", 2, 8}} {
		add("gauge", constant(1), "__name__", "kube_node_labels", "node", n.name, "label_node_kubernetes_io_instance_type", n.typ,
			"label_topology_kubernetes_io_region", "eu-west-1", "label_karpenter_sh_capacity_type", n.capacity)
		add("gauge", constant(n.cores), "__name__", "kube_node_status_capacity", "node", n.name, "resource", "cpu", "unit", "core")
		add("gauge", constant(n.gib*gib), "__name__", "kube_node_status_capacity", "node", n.name, "resource", "memory", "unit", "byte")
	}
	for _, ns := range []struct{ name, team, cc string }{
		{"team-payments-prod", "payments", "CC-4521"}, {"team-checkout-prod", "checkout", "CC-4522"}, {"kube-system", "", ""},
	} {
		kv := []string{"__name__", "kube_namespace_labels", "namespace", ns.name}
		if ns.team != "" {
			kv = append(kv, "label_team", ns.team, "label_cost_center", ns.cc)
		}
		add("gauge", constant(1), kv...)
	}
	for _, c := range []struct {
		node, ns, name                 string
		cpuReq, cpuUse, ramReq, ramUse float64
	}{
		{"node-a", "team-payments-prod", "pay-api", 1, 0.5, 4, 5},
		{"node-a", "team-checkout-prod", "checkout-web", 0.5, 1.5, 2, 1},
		{"node-a", "kube-system", "coredns", 0.5, 0.1, 1, 0.5},
		{"node-b", "team-payments-prod", "pay-worker", 0.5, 1.25, 2, 1},
		{"node-b", "team-checkout-prod", "cart", 0.5, 0.25, 2, 1.5},
	} {
		pod := c.name + "-0"
		id := []string{"namespace", c.ns, "pod", pod}
		add("gauge", constant(1), "__name__", "kube_replicaset_owner", "namespace", c.ns, "replicaset", c.name+"-7f9c5d", "owner_kind", "Deployment", "owner_name", c.name, "owner_is_controller", "true")
		add("gauge", constant(1), append([]string{"__name__", "kube_pod_info", "node", c.node, "created_by_kind", "ReplicaSet", "created_by_name", c.name + "-7f9c5d"}, id...)...)
		add("gauge", constant(1), append([]string{"__name__", "kube_pod_container_status_running", "container", c.name}, id...)...)
		add("gauge", constant(c.cpuReq), append([]string{"__name__", "kube_pod_container_resource_requests", "container", c.name, "node", c.node, "resource", "cpu", "unit", "core"}, id...)...)
		add("gauge", constant(c.ramReq*gib), append([]string{"__name__", "kube_pod_container_resource_requests", "container", c.name, "node", c.node, "resource", "memory", "unit", "byte"}, id...)...)
		add("counter", rate(c.cpuUse), append([]string{"__name__", "container_cpu_usage_seconds_total", "container", c.name}, id...)...)
		add("gauge", constant(c.ramUse*gib), append([]string{"__name__", "container_memory_working_set_bytes", "container", c.name}, id...)...)
	}
	return out
}

// WithinOneMonth returns the end of a span of history ending at most at
// now, on a whole hour, such that the span lies within one UTC month: now,
// or the start of now's month when the span would reach into the previous
// one. Tests that export FOCUS (which refuses rows spanning two billing
// months) then pass on every day of the month.
func WithinOneMonth(now time.Time, span time.Duration) time.Time {
	end := now.UTC().Truncate(time.Hour)
	month := time.Date(end.Year(), end.Month(), 1, 0, 0, 0, 0, time.UTC)
	if end.Add(-span).Before(month) {
		return month
	}
	return end
}
