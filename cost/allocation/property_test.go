package allocation

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// randomCluster is a cluster of random nodes and containers whose requests
// and usage change every step, some containers starting and stopping
// mid-window, some nodes overcommitted, GPUs on some nodes.
type randomCluster struct {
	nodes      []Node
	capacity   []NodeSample
	containers []Container
	steps      [][]ContainerSample
	meta       Metadata
	namespaces []string
}

func newRandomCluster(seed uint64, nNodes, nContainers, nSteps int) *randomCluster {
	rng := rand.New(rand.NewPCG(seed, 7))
	rc := &randomCluster{meta: Metadata{Namespaces: map[string]NamespaceInfo{}, PodLabels: map[string]map[string]string{}}}
	rc.namespaces = []string{"kube-system", "monitoring", "a-prod", "a-dev", "b-prod", "c-prod", "d-prod"}
	for i, ns := range rc.namespaces {
		info := NamespaceInfo{Labels: map[string]string{}}
		if i >= 2 {
			info.Tenant = ns[:1]
			info.Team = "team-" + ns[:1]
			if i%3 != 0 {
				info.CostCenter = fmt.Sprintf("CC-%d", i%3)
				info.Labels["cost_center"] = info.CostCenter
			}
		}
		rc.meta.Namespaces[ns] = info
	}
	for i := range nNodes {
		gpus := 0.0
		if i%5 == 0 {
			gpus = float64(1 + rng.IntN(2))
		}
		rc.nodes = append(rc.nodes, Node{Name: fmt.Sprintf("node-%d", i), Cluster: "c", CPUPrice: 0.01 + rng.Float64()*0.05,
			RAMPrice: 0.001 + rng.Float64()*0.005, GPUPrice: 0.5 + rng.Float64(), ListFactor: 1 + rng.Float64()*0.3})
		rc.capacity = append(rc.capacity, NodeSample{Node: int32(i), Hours: 1, CPUCores: float64(int(2) << rng.IntN(4)), RAMBytes: float64(int(8)<<rng.IntN(3)) * GiB, GPUs: gpus})
	}
	type life struct{ from, to int }
	lives := make([]life, nContainers)
	for i := range nContainers {
		node := rng.IntN(nNodes)
		ns := rc.namespaces[rng.IntN(len(rc.namespaces))]
		pod := fmt.Sprintf("pod-%d", i/2)
		rc.containers = append(rc.containers, Container{Cluster: "c", Node: rc.nodes[node].Name, Namespace: ns, Pod: pod, Container: fmt.Sprintf("c%d", i%2),
			Controller: fmt.Sprintf("ctl-%d", i%4), ControllerKind: "deployment"})
		if rng.IntN(2) == 0 {
			rc.meta.PodLabels[ns+"/"+pod] = map[string]string{"app": fmt.Sprintf("app-%d", i%3)}
		}
		from := rng.IntN(nSteps)
		lives[i] = life{from: from * (rng.IntN(2)), to: from + rng.IntN(nSteps)}
	}
	for s := range nSteps {
		var cs []ContainerSample
		for i, c := range rc.containers {
			if s < lives[i].from || s > lives[i].to {
				continue
			}
			gpu := 0.0
			if rc.capacity[nodeNumber(c.Node)].GPUs > 0 && i%3 == 0 {
				gpu = 1
			}
			cs = append(cs, ContainerSample{Container: int32(i), Hours: 0.25 + 0.75*rng.Float64(),
				CPURequest: rng.Float64(), CPUUsage: rng.Float64() * 1.5, RAMRequest: rng.Float64() * 4 * GiB, RAMUsage: rng.Float64() * 4 * GiB, GPURequest: gpu})
		}
		rc.steps = append(rc.steps, cs)
	}
	return rc
}

func nodeNumber(name string) int {
	var n int
	fmt.Sscanf(name, "node-%d", &n)
	return n
}

func (rc *randomCluster) accumulate(t testing.TB, setLength time.Duration) *Accumulator {
	a := NewAccumulator(fixtureStart, setLength)
	for _, n := range rc.nodes {
		a.AddNode(n)
	}
	for _, c := range rc.containers {
		a.AddContainer(c)
	}
	for s, cs := range rc.steps {
		if err := a.AddStep(fixtureStart.Add(time.Duration(s)*time.Hour), 1, rc.capacity, cs); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

var propertyAggregates = [][]string{
	nil, {"namespace"}, {"tenant"}, {"team"}, {"cost_center"}, {"node"}, {"pod"}, {"controller"}, {"controllerKind"}, {"deployment"}, {"job"},
	{"cluster"}, {"container"}, {"label:app"}, {"label:cost_center", "namespace"}, {"node", "namespace"},
	{"label:missing"}, {"tenant", "node"}, {"cost_center", "team", "controller"},
}

// every option combination in which idle is counted (included, shared,
// or both).
func optionCombos(agg []string) []Options {
	var out []Options
	for _, idle := range [][2]bool{{true, false}, {false, true}, {true, true}} {
		includeIdle, shareIdle := idle[0], idle[1]
		for _, byNode := range []bool{false, true} {
			for _, sharedNS := range [][]string{nil, {"kube-system", "monitoring"}, {"kube-system", "not-in-the-cluster"}} {
				for _, split := range []string{SplitWeighted, SplitEven} {
					for _, overhead := range []float64{0, 2.5} {
						out = append(out, Options{Aggregate: agg, IncludeIdle: includeIdle, ShareIdle: shareIdle, IdleByNode: byNode,
							SharedNamespaces: sharedNS, ShareSplit: split, SharedHourlyCost: overhead})
					}
				}
			}
		}
	}
	return out
}

func relClose(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// Conservation: under every aggregation and sharing option, the set adds up
// to the nodes' cost plus the overhead, and the whole window too.
func TestConservation(t *testing.T) {
	for seed := range uint64(4) {
		rc := newRandomCluster(seed, 6, 40, 12)
		for _, setLength := range []time.Duration{0, 5 * time.Hour} {
			a := rc.accumulate(t, setLength)
			nodeCost := a.TotalNodeCost()
			hours := a.End().Sub(a.Start()).Hours()
			for _, agg := range propertyAggregates {
				for _, opts := range optionCombos(agg) {
					opts.Meta = rc.meta
					sets, err := a.Allocate(opts)
					if err != nil {
						t.Fatal(err)
					}
					var sum float64
					for _, s := range sets {
						sum += s.TotalCost()
					}
					want := nodeCost + opts.SharedHourlyCost*hours
					if !relClose(sum, want) {
						t.Fatalf("seed %d sets %s %+v: total %.12f, want %.12f (nodes %.12f)", seed, setLength, opts, sum, want, nodeCost)
					}
					opts.Accumulate = true
					acc, _ := a.Allocate(opts)
					if len(acc) != 1 || !relClose(acc[0].TotalCost(), want) {
						t.Fatalf("seed %d accumulated %+v: %d sets, total %v, want %v", seed, opts, len(acc), acc[0].TotalCost(), want)
					}
				}
			}
		}
	}
}

// Tenant views partition the admin view: with idle and shared namespaces
// shared, the views of the tenants (which own every non-shared namespace)
// add up to the admin's total less the idle nobody can be charged for.
func TestTenantViewsAddUp(t *testing.T) {
	rc := newRandomCluster(11, 6, 60, 8)
	// Give every non-platform namespace a tenant for this test.
	tenantOf := func(ns string) string { return rc.meta.Namespaces[ns].Tenant }
	a := rc.accumulate(t, 0)
	for _, agg := range propertyAggregates {
		for _, split := range []string{SplitWeighted, SplitEven} {
			opts := Options{Aggregate: agg, ShareIdle: true, SharedNamespaces: []string{"kube-system", "monitoring"}, ShareSplit: split, SharedHourlyCost: 1, Meta: rc.meta, Accumulate: true}
			admin, _ := a.Allocate(opts)
			want := admin[0].TotalCost()
			for _, al := range admin[0].Allocations {
				if al.IsIdle() || al.Name == Shared {
					want -= al.TotalCost()
				}
			}
			var sum float64
			for _, tenant := range []string{"a", "b", "c", "d"} {
				o := opts
				o.Visible = func(c Container) bool { return tenantOf(c.Namespace) == tenant }
				view, _ := a.Allocate(o)
				for _, al := range view[0].Allocations {
					if al.IsIdle() || al.Name == Shared {
						t.Errorf("%v: tenant %s sees %s", agg, tenant, al.Name)
					}
					sum += al.TotalCost()
				}
			}
			if !relClose(sum, want) {
				t.Errorf("%v %s: tenants' views add up to %v, admin's to %v", agg, split, sum, want)
			}
		}
	}
}

// Monotonicity: raising one container's request never lowers its
// namespace's cost, whatever the options.
func TestMoreRequestsNeverLowerCost(t *testing.T) {
	for seed := range uint64(6) {
		rc := newRandomCluster(100+seed, 4, 30, 6)
		rng := rand.New(rand.NewPCG(seed, 99))
		before := rc.accumulate(t, 0)
		// Raise one container's CPU or RAM request in every step it runs.
		victim := int32(rng.IntN(len(rc.containers)))
		ns := rc.containers[victim].Namespace
		for _, cs := range rc.steps {
			for i := range cs {
				if cs[i].Container == victim {
					if seed%2 == 0 {
						cs[i].CPURequest += 0.3 + rng.Float64()
					} else {
						cs[i].RAMRequest += (0.3 + rng.Float64()) * GiB
					}
				}
			}
		}
		after := rc.accumulate(t, 0)
		for _, opts := range optionCombos([]string{"namespace"}) {
			if len(opts.SharedNamespaces) > 0 && (ns == "kube-system" || ns == "monitoring") {
				continue // a shared namespace has no allocation of its own
			}
			opts.Meta = rc.meta
			b, _ := before.Allocate(opts)
			aft, _ := after.Allocate(opts)
			var x, y float64
			if al := b[0].Get(ns); al != nil {
				x = al.TotalCost()
			}
			if al := aft[0].Get(ns); al != nil {
				y = al.TotalCost()
			}
			if y < x-1e-12*math.Max(1, x) {
				t.Errorf("seed %d %+v: %s went from %v to %v after a larger request", seed, opts, ns, x, y)
			}
		}
	}
}
