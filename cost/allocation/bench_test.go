package allocation

import (
	"fmt"
	"math/rand/v2"
	"runtime"
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
		a := accumulate(b, start, nodeList, cs, steps, time.Hour, 1, capacity, samples)
		sets, err := a.Allocate(Options{Aggregate: []string{"namespace"}, ShareIdle: true, IdleByNode: true,
			SharedNamespaces: []string{"ns-0", "ns-1"}, SharedHourlyCost: 10, Meta: meta})
		if err != nil || len(sets) != 1 || len(sets[0].Allocations) != 198 {
			b.Fatalf("%v: %d sets", err, len(sets))
		}
	}
}

// BenchmarkAllocateTwoClusters is issue 16's core figure: 2 clusters × 50
// nodes × 1,000 containers each, over 7 days at 1h (168 steps, the API's
// default resolution for a week) and at 5m (2,016 steps), allocated by
// cluster and namespace with idle shared per cluster, kube-system shared
// within its cluster and a fixed overhead. As BenchmarkAllocate, samples
// are built before the timer; AddStep and Allocate are measured. heap-MB
// is the live heap with the accumulator and the sets still held, the
// peak of one computation.
func BenchmarkAllocateTwoClusters(b *testing.B) {
	for _, res := range []time.Duration{time.Hour, 5 * time.Minute} {
		b.Run("resolution="+res.String(), func(b *testing.B) { benchmarkTwoClusters(b, res) })
	}
}

func benchmarkTwoClusters(b *testing.B, res time.Duration) {
	const clusters, nodes, containers, profiles = 2, 50, 1_000, 24
	steps := int(7 * 24 * time.Hour / res)
	hours := res.Hours()
	rng := rand.New(rand.NewPCG(3, 4))
	var nodeList []Node
	var capacity []NodeSample
	var cs []Container
	for k := range clusters {
		cl := fmt.Sprintf("prod-%d", k)
		for i := range nodes {
			nodeList = append(nodeList, Node{Name: fmt.Sprintf("node-%d", i), Cluster: cl, CPUPrice: 0.03, RAMPrice: 0.004, ListFactor: 1.2})
			capacity = append(capacity, NodeSample{Node: int32(len(capacity)), Hours: hours, CPUCores: 16, RAMBytes: 64 * GiB})
		}
		for i := range containers {
			cs = append(cs, Container{Cluster: cl, Node: fmt.Sprintf("node-%d", i%nodes), Namespace: fmt.Sprintf("ns-%d", i%60),
				Pod: fmt.Sprintf("pod-%d", i/2), Container: fmt.Sprintf("c%d", i%2), Controller: fmt.Sprintf("d-%d", i/20), ControllerKind: "deployment"})
		}
	}
	samples := make([][]ContainerSample, profiles)
	for p := range samples {
		samples[p] = make([]ContainerSample, len(cs))
		for i := range samples[p] {
			samples[p][i] = ContainerSample{Container: int32(i), Hours: hours, CPURequest: 0.5, CPUUsage: rng.Float64(), RAMRequest: GiB, RAMUsage: rng.Float64() * 2 * GiB}
		}
	}
	meta := Metadata{Namespaces: map[string]NamespaceInfo{}}
	for i := range 60 {
		meta.Namespaces[fmt.Sprintf("ns-%d", i)] = NamespaceInfo{Tenant: fmt.Sprintf("t-%d", i%20), CostCenter: fmt.Sprintf("CC-%d", i%10)}
	}
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	var peak uint64
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		a := accumulate(b, start, nodeList, cs, steps, res, hours, capacity, samples)
		sets, err := a.Allocate(Options{Aggregate: []string{"cluster", "namespace"}, ShareIdle: true,
			SharedNamespaces: []string{"ns-0"}, SharedHourlyCost: 10, Meta: meta})
		// 59 receiving namespaces in each of the two clusters.
		if err != nil || len(sets) != 1 || len(sets[0].Allocations) != 118 {
			b.Fatalf("%v: %d sets", err, len(sets))
		}
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
		runtime.KeepAlive(a)
	}
	b.ReportMetric(float64(peak-min(peak, base))/(1<<20), "heap-MB")
}

// accumulate builds the benchmarks' accumulator: the nodes and containers,
// then steps steps of res (each of the given hours), cycling through the
// sample profiles.
func accumulate(b *testing.B, start time.Time, nodes []Node, cs []Container, steps int, res time.Duration, hours float64, capacity []NodeSample, samples [][]ContainerSample) *Accumulator {
	a := NewAccumulator(start, 0)
	for _, n := range nodes {
		a.AddNode(n)
	}
	for _, c := range cs {
		a.AddContainer(c)
	}
	for s := range steps {
		if err := a.AddStep(start.Add(time.Duration(s)*res), hours, capacity, samples[s%len(samples)]); err != nil {
			b.Fatal(err)
		}
	}
	return a
}
