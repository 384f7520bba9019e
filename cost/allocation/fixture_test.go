package allocation

import (
	"math"
	"testing"
	"time"
)

// The two-node fixture. Prices come from cost/pricing's TestFixturePrices:
// node-a is on-demand at $0.144/h after a 25% discount (list factor 4/3),
// node-b is spot at $0.048/h.
//
//	node-a  4 cores at $0.024/core-h = $0.096/h   16 GiB at $0.003/GiB-h = $0.048/h
//	node-b  2 cores at $0.016/core-h = $0.032/h    8 GiB at $0.002/GiB-h = $0.016/h
//	cluster $0.192/h
//
// Containers, every hour (cores and GiB; max(request, usage) in brackets):
//
//	node  namespace           container     cpu req/use   [cpu]  ram req/use  [ram]   cpu $   ram $   total
//	a     team-payments-prod  pay-api       1    / 0.5    [1]    4 / 5        [5]    .024    .015    .039
//	a     team-checkout-prod  checkout-web  0.5  / 1.5    [1.5]  2 / 1        [2]    .036    .006    .042
//	a     kube-system         coredns       0.5  / 0.1    [0.5]  1 / 0.5      [1]    .012    .003    .015
//	b     team-payments-prod  pay-worker    0.5  / 1.25   [1.25] 2 / 1        [2]    .020    .004    .024
//	b     team-checkout-prod  cart          0.5  / 0.25   [0.5]  2 / 1.5      [2]    .008    .004    .012
//
// Idle per hour: node-a cpu .096-.072 = .024, ram .048-.024 = .024;
// node-b cpu .032-.028 = .004, ram .016-.008 = .008. Cluster: cpu .028,
// ram .032, total .060.
//
// By namespace, per hour: payments .039+.024 = .063, checkout .042+.012 =
// .054, kube-system .015, idle .060: .192 in all.
const (
	fixtureHours = 24
	payNS        = "team-payments-prod"
	coNS         = "team-checkout-prod"
)

type fixtureContainer struct {
	node, ns, name                 string
	cpuReq, cpuUse, ramReq, ramUse float64 // cores, GiB
}

var fixtureContainers = []fixtureContainer{
	{"node-a", payNS, "pay-api", 1, 0.5, 4, 5},
	{"node-a", coNS, "checkout-web", 0.5, 1.5, 2, 1},
	{"node-a", "kube-system", "coredns", 0.5, 0.1, 1, 0.5},
	{"node-b", payNS, "pay-worker", 0.5, 1.25, 2, 1},
	{"node-b", coNS, "cart", 0.5, 0.25, 2, 1.5},
}

var fixtureStart = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func fixtureMeta() Metadata {
	return Metadata{Namespaces: map[string]NamespaceInfo{
		payNS:         {Tenant: "payments", Team: "payments", CostCenter: "CC-4521", Labels: map[string]string{"team": "payments", "cost_center": "CC-4521"}},
		coNS:          {Tenant: "checkout", Team: "checkout", CostCenter: "CC-4522", Labels: map[string]string{"team": "checkout", "cost_center": "CC-4522"}},
		"kube-system": {},
	}}
}

func fixture(t testing.TB, setLength time.Duration) *Accumulator {
	t.Helper()
	a := NewAccumulator(fixtureStart, setLength)
	na := a.AddNode(Node{Name: "node-a", Cluster: "fixture", CPUPrice: 0.024, RAMPrice: 0.003, ListFactor: 4.0 / 3, CapacityType: "on_demand"})
	nb := a.AddNode(Node{Name: "node-b", Cluster: "fixture", CPUPrice: 0.016, RAMPrice: 0.002, CapacityType: "spot"})
	nodes := []NodeSample{{Node: na, Hours: 1, CPUCores: 4, RAMBytes: 16 * GiB}, {Node: nb, Hours: 1, CPUCores: 2, RAMBytes: 8 * GiB}}
	var cs []ContainerSample
	for _, c := range fixtureContainers {
		i := a.AddContainer(Container{Cluster: "fixture", Node: c.node, Namespace: c.ns, Pod: c.name + "-0", Container: c.name, Controller: c.name, ControllerKind: "deployment"})
		cs = append(cs, ContainerSample{Container: i, Hours: 1, CPURequest: c.cpuReq, CPUUsage: c.cpuUse, RAMRequest: c.ramReq * GiB, RAMUsage: c.ramUse * GiB})
	}
	for h := range fixtureHours {
		if err := a.AddStep(fixtureStart.Add(time.Duration(h)*time.Hour), 1, nodes, cs); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

func allocate(t testing.TB, a *Accumulator, opts Options) []Set {
	t.Helper()
	if opts.Meta.Namespaces == nil {
		opts.Meta = fixtureMeta()
	}
	sets, err := a.Allocate(opts)
	if err != nil {
		t.Fatal(err)
	}
	return sets
}

// want is per hour; the check multiplies by fixtureHours.
func checkTotals(t *testing.T, s Set, want map[string]float64) {
	t.Helper()
	if len(s.Allocations) != len(want) {
		var names []string
		for _, a := range s.Allocations {
			names = append(names, a.Name)
		}
		t.Errorf("allocations %v, want %d: %v", names, len(want), want)
	}
	for name, perHour := range want {
		a := s.Get(name)
		if a == nil {
			t.Errorf("no allocation %q", name)
			continue
		}
		if got := a.TotalCost(); !close(got, perHour*fixtureHours) {
			t.Errorf("%s: totalCost %.12f, want %.12f (%.6f/h × %d h)", name, got, perHour*fixtureHours, perHour, fixtureHours)
		}
	}
}

func close(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1e-9, math.Abs(b)) }

func TestTwoNodeFixture(t *testing.T) {
	a := fixture(t, 0)
	ns := []string{"namespace"}

	t.Run("by namespace with idle", func(t *testing.T) {
		s := allocate(t, a, Options{Aggregate: ns, IncludeIdle: true})[0]
		checkTotals(t, s, map[string]float64{payNS: .063, coNS: .054, "kube-system": .015, Idle: .060})
		p := s.Get(payNS)
		// payments: cpu (1 + 1.25) core-hours/h; requests 1 + 0.5, usage
		// 0.5 + 1.25: efficiency 1.75/1.5. RAM (5 + 2) GiB; requests 4 + 2,
		// usage 5 + 1: efficiency 1.
		if !close(p.CPUCoreHours, 2.25*fixtureHours) || !close(p.CPUCost, .044*fixtureHours) || !close(p.RAMCost, .019*fixtureHours) ||
			!close(p.RAMByteHours, 7*GiB*fixtureHours) || !close(p.CPUEfficiency(), 1.75/1.5) || !close(p.RAMEfficiency(), 1) {
			t.Errorf("payments: %+v", p)
		}
		if !close(p.CPUCores(), 2.25) || p.Hours() != fixtureHours || p.Properties.CostCenter != "CC-4521" || p.Properties.Node != "" {
			t.Errorf("payments averages or properties: cores %v hours %v %+v", p.CPUCores(), p.Hours(), p.Properties)
		}
		// List price: node-a's part at 4/3 (.039·4/3 = .052) plus node-b's .024.
		if !close(p.ListCost, .076*fixtureHours) {
			t.Errorf("payments list cost %v, want %v", p.ListCost, .076*fixtureHours)
		}
		// Idle: cpu .028/h (1.25 idle cores), ram .032/h (12 idle GiB).
		idle := s.Get(Idle)
		if !close(idle.CPUCost, .028*fixtureHours) || !close(idle.RAMCost, .032*fixtureHours) || !close(idle.CPUCoreHours, 1.25*fixtureHours) || !close(idle.RAMByteHours, 12*GiB*fixtureHours) {
			t.Errorf("idle: %+v", idle)
		}
	})

	t.Run("without idle", func(t *testing.T) {
		s := allocate(t, a, Options{Aggregate: ns})[0]
		checkTotals(t, s, map[string]float64{payNS: .063, coNS: .054, "kube-system": .015})
	})

	// Cluster idle shared by cost per resource: CPU idle .028 over CPU
	// cost .100 makes every CPU dollar 1.28; RAM idle .032 over .032
	// doubles RAM.
	//   payments    (.024+.020)·1.28 + (.015+.004)·2 = .05632 + .038 = .09432
	//   checkout    (.036+.008)·1.28 + (.006+.004)·2 = .05632 + .020 = .07632
	//   kube-system  .012·1.28      +  .003·2        = .01536 + .006 = .02136
	t.Run("shareIdle", func(t *testing.T) {
		s := allocate(t, a, Options{Aggregate: ns, ShareIdle: true})[0]
		checkTotals(t, s, map[string]float64{payNS: .09432, coNS: .07632, "kube-system": .02136})
		if p := s.Get(payNS); !close(p.CPUCostIdle, .044*.28*fixtureHours) || !close(p.RAMCostIdle, .019*fixtureHours) {
			t.Errorf("payments idle share: cpu %v ram %v", p.CPUCostIdle, p.RAMCostIdle)
		}
	})

	// Per node: node-a's CPU idle .024 over .072 (×4/3), RAM .024/.024
	// (×2); node-b's CPU .004 over .028 (×8/7), RAM .008/.008 (×2).
	//   payments    .024·4/3 + .015·2 + .020·8/7 + .004·2 = .032+.030+.02285714+.008 = .09285714
	//   checkout    .036·4/3 + .006·2 + .008·8/7 + .004·2 = .048+.012+.00914286+.008 = .07714286
	//   kube-system .012·4/3 + .003·2                     = .016+.006                 = .022
	t.Run("shareIdle idleByNode", func(t *testing.T) {
		s := allocate(t, a, Options{Aggregate: ns, ShareIdle: true, IdleByNode: true})[0]
		checkTotals(t, s, map[string]float64{payNS: .032 + .030 + .020*8/7 + .008, coNS: .048 + .012 + .008*8/7 + .008, "kube-system": .022})
	})

	// kube-system shared, weighted, after idle: its .02136 goes to
	// payments and checkout in proportion to .09432 : .07632, so each ends
	// at its own total × .192/.17064.
	t.Run("shareIdle shareNamespaces weighted", func(t *testing.T) {
		s := allocate(t, a, Options{Aggregate: ns, ShareIdle: true, SharedNamespaces: []string{"kube-system"}})[0]
		checkTotals(t, s, map[string]float64{payNS: .09432 * .192 / .17064, coNS: .07632 * .192 / .17064})
		if p := s.Get(payNS); !close(p.SharedCost, .02136*.09432/.17064*fixtureHours) {
			t.Errorf("payments sharedCost %v", p.SharedCost)
		}
	})

	// Even split plus $73 a month of overhead (73/730 = $0.10/h), idle
	// kept apart: kube-system's .015 + .100 = .115 split in two, .0575
	// each. payments .063 + .0575 = .1205, checkout .054 + .0575 = .1115,
	// idle .060: .292 = the nodes' .192 + the overhead's .100.
	t.Run("shareNamespaces even with overhead", func(t *testing.T) {
		s := allocate(t, a, Options{Aggregate: ns, IncludeIdle: true, SharedNamespaces: []string{"kube-system"}, ShareSplit: SplitEven, SharedHourlyCost: 73.0 / 730})[0]
		checkTotals(t, s, map[string]float64{payNS: .1205, coNS: .1115, Idle: .060})
	})

	// By node: node-a .039+.042+.015 = .096 and idle .048; node-b
	// .024+.012 = .036 and idle .012.
	t.Run("by node", func(t *testing.T) {
		s := allocate(t, a, Options{Aggregate: []string{"node"}, IncludeIdle: true})[0]
		checkTotals(t, s, map[string]float64{"node-a": .096, "node-b": .036, "node-a/" + Idle: .048, "node-b/" + Idle: .012})
	})

	// The cost center comes from the metadata; kube-system has none.
	t.Run("by cost center", func(t *testing.T) {
		s := allocate(t, a, Options{Aggregate: []string{"cost_center"}, IncludeIdle: true})[0]
		checkTotals(t, s, map[string]float64{"CC-4521": .063, "CC-4522": .054, Unallocated: .015, Idle: .060})
		s = allocate(t, a, Options{Aggregate: []string{"label:team", "namespace"}})[0]
		checkTotals(t, s, map[string]float64{"payments/" + payNS: .063, "checkout/" + coNS: .054, Unallocated + "/kube-system": .015})
	})

	// The payments tenant sees its namespace only. Its idle, unshared, is
	// the share its allocations would get: cpu .028·(.044/.100) = .01232,
	// ram .032·(.019/.032) = .019: .03132.
	t.Run("tenant view", func(t *testing.T) {
		only := func(c Container) bool { return c.Namespace == payNS }
		s := allocate(t, a, Options{Aggregate: ns, IncludeIdle: true, Visible: only})[0]
		checkTotals(t, s, map[string]float64{payNS: .063, Idle: .03132})
		s = allocate(t, a, Options{Aggregate: []string{"node"}, IncludeIdle: true, Visible: only})[0]
		checkTotals(t, s, map[string]float64{"node-a": .039, "node-b": .024,
			"node-a/" + Idle: .024*.028/.100 + .015*.032/.032, "node-b/" + Idle: .020*.028/.100 + .004*.032/.032})
		s = allocate(t, a, Options{Aggregate: ns, ShareIdle: true, SharedNamespaces: []string{"kube-system"}, Visible: only})[0]
		checkTotals(t, s, map[string]float64{payNS: .09432 * .192 / .17064})
	})
}

// Hourly sets: 24 sets of one hour, each with the per-hour figures; and
// accumulate merges them back.
func TestSetsAndAccumulate(t *testing.T) {
	a := fixture(t, time.Hour)
	sets := allocate(t, a, Options{Aggregate: []string{"namespace"}, IncludeIdle: true})
	if len(sets) != fixtureHours {
		t.Fatalf("%d sets, want %d", len(sets), fixtureHours)
	}
	for i, s := range sets {
		if !s.Start.Equal(fixtureStart.Add(time.Duration(i)*time.Hour)) || s.End.Sub(s.Start) != time.Hour || !close(s.TotalCost(), .192) {
			t.Errorf("set %d: %s–%s total %v", i, s.Start, s.End, s.TotalCost())
		}
	}
	acc := allocate(t, a, Options{Aggregate: []string{"namespace"}, IncludeIdle: true, Accumulate: true})
	if len(acc) != 1 {
		t.Fatalf("accumulate: %d sets", len(acc))
	}
	checkTotals(t, acc[0], map[string]float64{payNS: .063, coNS: .054, "kube-system": .015, Idle: .060})
}

// Two containers each wanting 1.5 of a 2-core node's cores at $1/core-h:
// $3 allocated on a $2 node. Each is scaled to $1 and idle is 0, not -1.
func TestOvercommittedNodeIsScaledNotNegative(t *testing.T) {
	a := NewAccumulator(fixtureStart, 0)
	n := a.AddNode(Node{Name: "n", CPUPrice: 1})
	c1 := a.AddContainer(Container{Node: "n", Namespace: "a", Pod: "p1", Container: "c"})
	c2 := a.AddContainer(Container{Node: "n", Namespace: "b", Pod: "p2", Container: "c"})
	if err := a.AddStep(fixtureStart, 1, []NodeSample{{Node: n, Hours: 1, CPUCores: 2}},
		[]ContainerSample{{Container: c1, Hours: 1, CPURequest: 1.5}, {Container: c2, Hours: 1, CPUUsage: 1.5}}); err != nil {
		t.Fatal(err)
	}
	s := allocate(t, a, Options{Aggregate: []string{"namespace"}, IncludeIdle: true, Meta: Metadata{Namespaces: map[string]NamespaceInfo{}}})[0]
	if got := s.Get("a"); got == nil || !close(got.CPUCost, 1) || !close(got.CPUCoreHours, 1.5) {
		t.Errorf("a: %+v", got)
	}
	if s.Get(Idle) != nil || !close(s.TotalCost(), 2) {
		t.Errorf("idle %+v, total %v", s.Get(Idle), s.TotalCost())
	}
}

func TestParseAggregate(t *testing.T) {
	got, err := ParseAggregate("namespace, label:app.kubernetes.io/name,costCenter,namespace")
	if err != nil || len(got) != 3 || got[1] != "label:app_kubernetes_io_name" || got[2] != "cost_center" {
		t.Errorf("ParseAggregate = %v, %v", got, err)
	}
	for _, bad := range []string{"service", "label:", "namespace,"} {
		if _, err := ParseAggregate(bad); err == nil {
			t.Errorf("ParseAggregate(%q) succeeded", bad)
		}
	}
}
