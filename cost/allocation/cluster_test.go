package allocation

import (
	"strings"
	"testing"
	"time"
)

// The two-cluster case, every figure per hour, worked by hand. Both
// clusters call their node "node-1": a node is named within its cluster.
//
//	prod-eu node-1  4 cores at $0.01/core-h = $0.04/h   4 GiB at $0.005/GiB-h = $0.02/h   node $0.06/h
//	prod-us node-1  4 cores at $0.02/core-h = $0.08/h   8 GiB at $0.01/GiB-h  = $0.08/h   node $0.16/h
//	whole fleet $0.22/h
//
// Containers (requests; usage below them):
//
//	cluster  namespace    cpu  ram GiB   cpu $            ram $            total
//	prod-eu  shop         1    2         1×.01 = .01      2×.005 = .01     .02
//	prod-eu  kube-system  0.5  1         .5×.01 = .005    1×.005 = .005    .01
//	prod-us  shop         1    2         1×.02 = .02      2×.01 = .02      .04
//	prod-us  billing      1    2         .02              .02              .04
//	prod-us  kube-system  1    2         .02              .02              .04
//
// Idle: prod-eu cpu .04-.015 = .025, ram .02-.015 = .005: .03.
// prod-us cpu .08-.06 = .02, ram .08-.06 = .02: .04.
const (
	twoClusterHours = 2
	eu, us          = "prod-eu", "prod-us"
)

func twoClusters(t testing.TB) *Accumulator {
	t.Helper()
	a := NewAccumulator(fixtureStart, 0)
	ne := a.AddNode(Node{Name: "node-1", Cluster: eu, CPUPrice: 0.01, RAMPrice: 0.005})
	nu := a.AddNode(Node{Name: "node-1", Cluster: us, CPUPrice: 0.02, RAMPrice: 0.01})
	nodes := []NodeSample{{Node: ne, Hours: 1, CPUCores: 4, RAMBytes: 4 * GiB}, {Node: nu, Hours: 1, CPUCores: 4, RAMBytes: 8 * GiB}}
	var cs []ContainerSample
	for _, c := range []struct {
		cluster, ns string
		cpu, ram    float64
	}{{eu, "shop", 1, 2}, {eu, "kube-system", 0.5, 1}, {us, "shop", 1, 2}, {us, "billing", 1, 2}, {us, "kube-system", 1, 2}} {
		i := a.AddContainer(Container{Cluster: c.cluster, Node: "node-1", Namespace: c.ns, Pod: c.ns + "-0", Container: "app"})
		cs = append(cs, ContainerSample{Container: i, Hours: 1, CPURequest: c.cpu, CPUUsage: c.cpu / 2, RAMRequest: c.ram * GiB, RAMUsage: c.ram * GiB / 2})
	}
	for h := range twoClusterHours {
		if err := a.AddStep(fixtureStart.Add(time.Duration(h)*time.Hour), 1, nodes, cs); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// checkPerHour checks every allocation of s against want, per hour.
func checkPerHour(t *testing.T, s Set, want map[string]float64) {
	t.Helper()
	got := map[string]float64{}
	for _, a := range s.Allocations {
		got[a.Name] = a.TotalCost() / twoClusterHours
	}
	if len(got) != len(want) {
		t.Errorf("allocations %v, want %v", got, want)
	}
	for name, w := range want {
		if g, ok := got[name]; !ok || !relClose(g, w) {
			t.Errorf("%s: %.9f/h, want %.9f/h (present %v)", name, g, w, ok)
		}
	}
}

func TestTwoClustersHandWorked(t *testing.T) {
	a := twoClusters(t)
	meta := Metadata{Namespaces: map[string]NamespaceInfo{}}
	if got := a.Clusters(); len(got) != 2 || got[0] != eu || got[1] != us {
		t.Fatalf("clusters %v, want [prod-eu prod-us]", got)
	}

	t.Run("by cluster with idle", func(t *testing.T) {
		s := allocate(t, a, Options{Aggregate: []string{"cluster"}, IncludeIdle: true, Meta: meta})[0]
		// eu .02+.01 = .03, us .04×3 = .12, each cluster's idle apart.
		checkPerHour(t, s, map[string]float64{eu: .03, us: .12, eu + "/" + Idle: .03, us + "/" + Idle: .04})
		if p := s.Get(us + "/" + Idle).Properties; p.Cluster != us {
			t.Errorf("us idle properties %+v", p)
		}
	})

	t.Run("same namespace in two clusters stays two allocations", func(t *testing.T) {
		s := allocate(t, a, Options{Aggregate: []string{"cluster", "namespace"}, IncludeIdle: true, Meta: meta})[0]
		checkPerHour(t, s, map[string]float64{eu + "/shop": .02, eu + "/kube-system": .01, us + "/shop": .04, us + "/billing": .04,
			us + "/kube-system": .04, eu + "/" + Idle: .03, us + "/" + Idle: .04})
		if p := s.Get(eu + "/shop").Properties; p.Cluster != eu || p.Namespace != "shop" || p.Node != "node-1" {
			t.Errorf("eu shop properties %+v", p)
		}
	})

	// Idle shared within each cluster, per resource, by cost:
	// eu cpu idle .025 over .015 allocated: shop +.025×.01/.015 = .016667,
	// kube-system +.008333; ram idle .005 over .015: shop +.003333,
	// kube-system +.001667. eu shop .02+.016667+.003333 = .04, eu
	// kube-system .01+.008333+.001667 = .02.
	// us: cpu and ram idle .02 each over .06, a third to each container:
	// each .04+.006667+.006667 = .053333.
	// (Pooled over both clusters, eu shop's cpu idle would be
	// .045×.01/.075 = .006 instead: the test tells them apart.)
	// kube-system shared within its cluster, weighted: eu's .02 all to eu
	// shop = .06; us's .053333 half each to shop and billing = .08 each.
	// Overhead .011/h split by node cost .06:.16: eu .003, us .008, shared
	// the same way: eu shop .063, us shop and billing .084 each.
	t.Run("share idle, shared namespaces and overhead within the cluster", func(t *testing.T) {
		s := allocate(t, a, Options{Aggregate: []string{"cluster", "namespace"}, ShareIdle: true, SharedNamespaces: []string{"kube-system"},
			SharedHourlyCost: .011, Meta: meta})[0]
		checkPerHour(t, s, map[string]float64{eu + "/shop": .063, us + "/shop": .084, us + "/billing": .084})
		byNS := allocate(t, a, Options{Aggregate: []string{"namespace"}, ShareIdle: true, SharedNamespaces: []string{"kube-system"},
			SharedHourlyCost: .011, Meta: meta})[0]
		// shop spans both clusters: .063 + .084 = .147.
		checkPerHour(t, byNS, map[string]float64{"shop": .147, "billing": .084})
		if p := byNS.Get("shop").Properties; p.Cluster != "" {
			t.Errorf("shop spans two clusters but says cluster %q", p.Cluster)
		}
	})

	// Even split within each cluster: eu has one receiver (shop gets all
	// .02 + .003), us two (shop and billing .053333/2 + .008/2 each).
	t.Run("even split within the cluster", func(t *testing.T) {
		s := allocate(t, a, Options{Aggregate: []string{"cluster", "namespace"}, ShareIdle: true, SharedNamespaces: []string{"kube-system"},
			ShareSplit: SplitEven, SharedHourlyCost: .011, Meta: meta})[0]
		checkPerHour(t, s, map[string]float64{eu + "/shop": .063, us + "/shop": .084, us + "/billing": .084})
	})
}

// twoRandomClusters puts two random clusters into one accumulator, with
// the same node and namespace names in both.
func twoRandomClusters(t testing.TB, seed uint64) (*Accumulator, Metadata, map[string]float64) {
	t.Helper()
	a := NewAccumulator(fixtureStart, 0)
	nodeCost := map[string]float64{}
	var meta Metadata
	rcs := []*randomCluster{newRandomCluster(seed, 5, 40, 6), newRandomCluster(seed+1000, 4, 30, 6)}
	var capacity []NodeSample
	offsets := make([]int32, len(rcs))
	for k, rc := range rcs {
		cl := []string{eu, us}[k]
		meta = rc.meta
		for i, n := range rc.nodes {
			n.Cluster = cl
			idx := a.AddNode(n)
			c := rc.capacity[i]
			c.Node = idx
			capacity = append(capacity, c)
			// The cluster's node cost, worked out apart from the core.
			nodeCost[cl] += float64(len(rc.steps)) * c.Hours * (c.CPUCores*n.CPUPrice + c.RAMBytes/GiB*n.RAMPrice + c.GPUs*n.GPUPrice)
		}
		offsets[k] = int32(len(a.Containers()))
		for _, c := range rc.containers {
			c.Cluster = cl
			a.AddContainer(c)
		}
	}
	for s := range rcs[0].steps {
		var cs []ContainerSample
		for k, rc := range rcs {
			for _, c := range rc.steps[s] {
				c.Container += offsets[k]
				cs = append(cs, c)
			}
		}
		if err := a.AddStep(fixtureStart.Add(time.Duration(s)*time.Hour), 1, capacity, cs); err != nil {
			t.Fatal(err)
		}
	}
	return a, meta, nodeCost
}

// Conservation over two clusters, under every idle and sharing option:
// the allocations of each cluster add up to that cluster's node cost plus
// its part of the overhead (split by node cost); all of them add up to
// the whole; and, weighted, each namespace across clusters equals the sum
// of its per-cluster allocations.
func TestTwoClusterConservation(t *testing.T) {
	for seed := range uint64(4) {
		a, meta, nodeCost := twoRandomClusters(t, seed)
		whole := nodeCost[eu] + nodeCost[us]
		for _, opts := range optionCombos([]string{"cluster", "namespace"}) {
			opts.Meta = meta
			s := allocate(t, a, opts)[0]
			hours := s.End.Sub(s.Start).Hours()
			overhead := opts.SharedHourlyCost * hours
			perCluster, unassigned := map[string]float64{}, 0.0
			for _, al := range s.Allocations {
				if al.Properties.Cluster == "" {
					unassigned += al.TotalCost() // __shared__: overhead nobody in a cluster received
					continue
				}
				perCluster[al.Properties.Cluster] += al.TotalCost()
			}
			if got := perCluster[eu] + perCluster[us] + unassigned; !relClose(got, whole+overhead) || !relClose(s.TotalCost(), whole+overhead) {
				t.Fatalf("seed %d %+v: whole %.9f (set %.9f), want %.9f", seed, opts, got, s.TotalCost(), whole+overhead)
			}
			if unassigned == 0 {
				for _, cl := range []string{eu, us} {
					want := nodeCost[cl] + overhead*nodeCost[cl]/whole
					if !relClose(perCluster[cl], want) {
						t.Fatalf("seed %d %+v: cluster %s %.9f, want %.9f", seed, opts, cl, perCluster[cl], want)
					}
				}
			}
			if opts.ShareSplit == SplitWeighted {
				nsOpts := opts
				nsOpts.Aggregate = []string{"namespace"}
				checkNamespacesSpanClusters(t, s, allocate(t, a, nsOpts)[0])
			}
		}
	}
}

// checkNamespacesSpanClusters checks that each namespace's allocation
// equals the sum of its per-cluster allocations, idle too.
func checkNamespacesSpanClusters(t *testing.T, byCluster, byNS Set) {
	t.Helper()
	sum := map[string]float64{}
	for _, al := range byCluster.Allocations {
		name := al.Name
		if _, rest, ok := strings.Cut(name, "/"); ok {
			name = rest
		}
		sum[name] += al.TotalCost()
	}
	for _, al := range byNS.Allocations {
		if !relClose(al.TotalCost(), sum[al.Name]) {
			t.Fatalf("namespace %s: %.9f across clusters, per-cluster sum %.9f", al.Name, al.TotalCost(), sum[al.Name])
		}
		delete(sum, al.Name)
	}
	for name, v := range sum {
		if v != 0 {
			t.Fatalf("%s only in the per-cluster allocations (%.9f)", name, v)
		}
	}
}
