package allocation

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkAllocate is the yardstick: 10,000 containers on 500
// nodes over 720 hourly steps (a 30-day month), accumulated and then
// allocated by namespace with idle shared per node, two platform
// namespaces shared and a fixed overhead. The steps' samples are built
// before the timer starts (24 hourly profiles, cycled, so the input stays
// small); what is measured is the core: AddStep for every step and
// Allocate.
func BenchmarkAllocate(b *testing.B) {
	const nodes, containers, steps, profiles = 500, 10_000, 720, 24
	rng := rand.New(rand.NewPCG(1, 2))
	var nodeList []Node
	var capacity []NodeSample
	for i := range nodes {
		nodeList = append(nodeList, Node{Name: fmt.Sprintf("node-%d", i), Cluster: "c", CPUPrice: 0.03, RAMPrice: 0.004, GPUPrice: 0.9, ListFactor: 1.2})
		capacity = append(capacity, NodeSample{Node: int32(i), Hours: 1, CPUCores: 16, RAMBytes: 64 * GiB})
	}
	var cs []Container
	for i := range containers {
		cs = append(cs, Container{Cluster: "c", Node: nodeList[i%nodes].Name, Namespace: fmt.Sprintf("ns-%d", i%200),
			Pod: fmt.Sprintf("pod-%d", i/2), Container: fmt.Sprintf("c%d", i%2), Controller: fmt.Sprintf("d-%d", i/20), ControllerKind: "deployment"})
	}
	samples := make([][]ContainerSample, profiles)
	for p := range samples {
		samples[p] = make([]ContainerSample, containers)
		for i := range samples[p] {
			samples[p][i] = ContainerSample{Container: int32(i), Hours: 1, CPURequest: 0.5, CPUUsage: rng.Float64(), RAMRequest: GiB, RAMUsage: rng.Float64() * 2 * GiB}
		}
	}
	meta := Metadata{Namespaces: map[string]NamespaceInfo{}}
	for i := range 200 {
		meta.Namespaces[fmt.Sprintf("ns-%d", i)] = NamespaceInfo{Tenant: fmt.Sprintf("t-%d", i%40), CostCenter: fmt.Sprintf("CC-%d", i%25)}
	}
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		a := NewAccumulator(start, 0)
		for _, n := range nodeList {
			a.AddNode(n)
		}
		for _, c := range cs {
			a.AddContainer(c)
		}
		for s := range steps {
			if err := a.AddStep(start.Add(time.Duration(s)*time.Hour), 1, capacity, samples[s%profiles]); err != nil {
				b.Fatal(err)
			}
		}
		sets, err := a.Allocate(Options{Aggregate: []string{"namespace"}, ShareIdle: true, IdleByNode: true,
			SharedNamespaces: []string{"ns-0", "ns-1"}, SharedHourlyCost: 10, Meta: meta})
		if err != nil || len(sets) != 1 || len(sets[0].Allocations) != 198 {
			b.Fatalf("%v: %d sets", err, len(sets))
		}
	}
}
