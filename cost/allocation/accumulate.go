// Package allocation is the cost engine's pure core: it turns per-step
// samples of nodes (capacity, hourly prices) and containers (requests,
// usage, running time) into OpenCost-style allocations. It does no I/O.
//
// The model, step by step (docs/cost.md explains it with an example):
//
//  1. A container's cost in a step is max(request, usage) × hours × the
//     node's price, for CPU and RAM; GPU cost comes from requests only.
//  2. A node's cost in a step is capacity × hours × price. If the
//     containers on a node were allocated more than the node costs (the sum
//     of max(request, usage) can exceed capacity), their costs for that
//     resource are scaled down to the node's cost, so idle is never
//     negative and the total is conserved.
//  3. Idle = node cost − allocated cost, per node and resource.
//  4. Allocate aggregates, shares idle (shareIdle, per cluster or per node)
//     and the cost of shared namespaces plus a fixed overhead
//     (weighted or even), and hides what the caller may not see.
//
// Whatever the options, the allocations of a set add up to the nodes'
// cost in the set plus the overhead, once idle is included or shared: the
// tests check this to 1e-9.
package allocation

import (
	"fmt"
	"slices"
	"time"
)

// GiB is the unit of RAM prices.
const GiB = 1 << 30

// Node is one node of the cluster with its hourly prices. Prices are
// constant over a window: the latest the source saw.
type Node struct {
	Name         string
	Cluster      string
	InstanceType string
	Region       string
	CapacityType string // "on_demand" or "spot"
	Provider     string
	PriceSource  string  // catalogue, pricing file or default prices
	CPUPrice     float64 // $ per core-hour
	RAMPrice     float64 // $ per GiB-hour
	GPUPrice     float64 // $ per GPU-hour
	// ListFactor is list price / effective price (1 without discount).
	ListFactor float64
}

// Container is one container of one pod; pods do not move between nodes.
type Container struct {
	Cluster        string
	Node           string
	Namespace      string
	Pod            string
	Container      string
	Controller     string
	ControllerKind string
}

// NodeSample is a node's state in one step.
type NodeSample struct {
	Node     int32   // index returned by AddNode
	Hours    float64 // hours the node existed during the step
	CPUCores float64 // capacity
	RAMBytes float64
	GPUs     float64
}

// ContainerSample is a container's state in one step. Requests and usage
// are averages over the time it ran.
type ContainerSample struct {
	Container  int32   // index returned by AddContainer
	Hours      float64 // hours the container ran during the step
	CPURequest float64 // cores
	CPUUsage   float64
	RAMRequest float64 // bytes
	RAMUsage   float64
	GPURequest float64
}

// Resources, in the order of every resources value.
const (
	cpuR = iota
	ramR
	gpuR
)

// resources is one figure per resource: CPU, RAM, GPU.
type resources [3]float64

// Sum adds the figures in resource order; every total is summed this
// way, so that totals computed in different places agree to the bit.
func (r resources) Sum() float64 { return r[cpuR] + r[ramR] + r[gpuR] }

func (r *resources) add(o resources) {
	r[cpuR] += o[cpuR]
	r[ramR] += o[ramR]
	r[gpuR] += o[gpuR]
}

// Accumulator collects steps into sets (OpenCost's `step`): per set, the
// totals of every container and node. It keeps no per-step data, so the
// source can feed it a long window chunk by chunk.
type Accumulator struct {
	start   time.Time
	setLen  time.Duration
	lastEnd time.Time

	nodes     []Node
	nodeIndex map[nodeKey]int32
	// Clusters in the order first seen, and each node's index into them:
	// idle and shared costs stay within their cluster.
	clusters       []string
	nodeCluster    []int32
	containers     []Container
	containerNode  []int32
	containerIndex map[Container]int32

	sets []*set

	// Scratch space of AddStep, reused across steps.
	stepCost  []resources
	stepAlloc []resources
	observed  []bool
	inStep    []bool
	touched   []int32
	costs     []resources
}

type set struct {
	start, end time.Time
	recOf      []int32 // container → index into recs, plus one (0: none)
	recs       []rec
	nodes      []nodeTotals
}

// rec is one container's totals in one set.
type rec struct {
	container       int32
	first, last     time.Time
	hours           float64
	cpuCoreHours    float64 // max(request, usage) × hours
	cpuReqHours     float64
	cpuUseHours     float64
	ramByteHours    float64
	ramReqByteHours float64
	ramUseByteHours float64
	gpuHours        float64
	cost            resources
	listCost        float64
}

// nodeKey names a node: node names are unique within a cluster only.
type nodeKey struct{ cluster, name string }

type nodeTotals struct {
	hours    float64
	capacity resources // core-hours, byte-hours, GPU-hours
	allocQty resources // allocated quantities, same units
	cost     resources
	alloc    resources // allocated cost, after scaling
}

// NewAccumulator starts a window at start, cut into sets of setLength (0:
// one set for the whole window).
func NewAccumulator(start time.Time, setLength time.Duration) *Accumulator {
	return &Accumulator{start: start, setLen: setLength, lastEnd: start, nodeIndex: map[nodeKey]int32{}, containerIndex: map[Container]int32{}}
}

// AddNode registers a node, or updates its prices if it is known, and
// returns its index.
func (a *Accumulator) AddNode(n Node) int32 {
	if n.ListFactor == 0 {
		n.ListFactor = 1
	}
	k := nodeKey{n.Cluster, n.Name}
	if i, ok := a.nodeIndex[k]; ok {
		a.nodes[i] = n
		return i
	}
	i := int32(len(a.nodes))
	a.nodes = append(a.nodes, n)
	a.nodeIndex[k] = i
	ci := int32(slices.Index(a.clusters, n.Cluster))
	if ci < 0 {
		ci = int32(len(a.clusters))
		a.clusters = append(a.clusters, n.Cluster)
	}
	a.nodeCluster = append(a.nodeCluster, ci)
	return i
}

// AddContainer registers a container and returns its index. Its node must
// have been added; an unknown node is added without prices, so that its
// containers cost nothing rather than something made up.
func (a *Accumulator) AddContainer(c Container) int32 {
	if i, ok := a.containerIndex[c]; ok {
		return i
	}
	n, ok := a.nodeIndex[nodeKey{c.Cluster, c.Node}]
	if !ok {
		n = a.AddNode(Node{Name: c.Node, Cluster: c.Cluster, PriceSource: "unknown node"})
	}
	i := int32(len(a.containers))
	a.containers = append(a.containers, c)
	a.containerNode = append(a.containerNode, n)
	a.containerIndex[c] = i
	return i
}

// Nodes returns the registered nodes.
func (a *Accumulator) Nodes() []Node { return a.nodes }

// Start is the start of the window.
func (a *Accumulator) Start() time.Time { return a.start }

// End is the end of the last step added.
func (a *Accumulator) End() time.Time { return a.lastEnd }

func (a *Accumulator) setFor(t time.Time) (*set, error) {
	if t.Before(a.start) {
		return nil, fmt.Errorf("step at %s is before the window's start %s", t.Format(time.RFC3339), a.start.Format(time.RFC3339))
	}
	i := 0
	if a.setLen > 0 {
		i = int(t.Sub(a.start) / a.setLen)
	}
	for len(a.sets) <= i {
		s := a.start
		if a.setLen > 0 {
			s = a.start.Add(time.Duration(len(a.sets)) * a.setLen)
		}
		a.sets = append(a.sets, &set{start: s, end: s})
	}
	return a.sets[i], nil
}

// AddStep adds one step starting at t and lasting hours.
func (a *Accumulator) AddStep(t time.Time, hours float64, nodes []NodeSample, containers []ContainerSample) error {
	s, err := a.setFor(t)
	if err != nil {
		return err
	}
	end := t.Add(time.Duration(hours * float64(time.Hour)))
	if end.After(s.end) {
		s.end = end
	}
	if end.After(a.lastEnd) {
		a.lastEnd = end
	}
	a.grow(s)
	a.addNodeCosts(s, nodes)
	costs := a.containerCosts(containers)
	a.scaleOvercommitted(s)
	a.addContainerTotals(s, t, end, containers, costs)
	for _, n := range a.touched {
		a.stepCost[n], a.stepAlloc[n], a.observed[n], a.inStep[n] = resources{}, resources{}, false, false
	}
	a.touched = a.touched[:0]
	return nil
}

// grow sizes the step's scratch space and the set's tables to the nodes
// and containers registered so far.
func (a *Accumulator) grow(s *set) {
	nn := len(a.nodes)
	for len(a.stepCost) < nn {
		a.stepCost = append(a.stepCost, resources{})
		a.stepAlloc = append(a.stepAlloc, resources{})
		a.observed = append(a.observed, false)
		a.inStep = append(a.inStep, false)
	}
	for len(s.nodes) < nn {
		s.nodes = append(s.nodes, nodeTotals{})
	}
	for len(s.recOf) < len(a.containers) {
		s.recOf = append(s.recOf, 0)
	}
}

// touch marks a node as part of the step, to be scaled and reset.
func (a *Accumulator) touch(n int32) {
	if !a.inStep[n] {
		a.inStep[n] = true
		a.touched = append(a.touched, n)
	}
}

// addNodeCosts records the nodes' cost and capacity in the step.
func (a *Accumulator) addNodeCosts(s *set, nodes []NodeSample) {
	for _, ns := range nodes {
		n := ns.Node
		a.touch(n)
		a.observed[n] = true
		p := &a.nodes[n]
		a.stepCost[n] = resources{ns.CPUCores * ns.Hours * p.CPUPrice, ns.RAMBytes / GiB * ns.Hours * p.RAMPrice, ns.GPUs * ns.Hours * p.GPUPrice}
		nt := &s.nodes[n]
		nt.hours += ns.Hours
		nt.capacity[cpuR] += ns.CPUCores * ns.Hours
		nt.capacity[ramR] += ns.RAMBytes * ns.Hours
		nt.capacity[gpuR] += ns.GPUs * ns.Hours
	}
}

// containerCosts is the first pass over the containers: each one's cost
// at its node's prices, summed per node into stepAlloc.
func (a *Accumulator) containerCosts(containers []ContainerSample) []resources {
	if cap(a.costs) < len(containers) {
		a.costs = make([]resources, len(containers))
	}
	costs := a.costs[:len(containers)]
	for i := range containers {
		cs := &containers[i]
		n := a.containerNode[cs.Container]
		p := &a.nodes[n]
		c := resources{
			max(cs.CPURequest, cs.CPUUsage) * cs.Hours * p.CPUPrice,
			max(cs.RAMRequest, cs.RAMUsage) / GiB * cs.Hours * p.RAMPrice,
			cs.GPURequest * cs.Hours * p.GPUPrice,
		}
		costs[i] = c
		a.touch(n)
		// Element by element: this loop runs for every container and
		// step, and add's copy of c costs a third more.
		sa := &a.stepAlloc[n]
		sa[cpuR] += c[cpuR]
		sa[ramR] += c[ramR]
		sa[gpuR] += c[gpuR]
	}
	return costs
}

// scaleOvercommitted turns stepAlloc into, per node and resource, the
// factor that brings an overcommitted node's allocations down to its
// cost, and adds the step's cost and allocated cost to the set. A node
// without a capacity sample in this step costs what was allocated on it.
func (a *Accumulator) scaleOvercommitted(s *set) {
	for _, n := range a.touched {
		sc, sa := &a.stepCost[n], &a.stepAlloc[n]
		nt := &s.nodes[n]
		for r := range 3 {
			if !a.observed[n] {
				sc[r] = sa[r]
			}
			nt.cost[r] += sc[r]
			if sa[r] > sc[r] {
				sa[r] = sc[r] / sa[r]
				nt.alloc[r] += sc[r]
			} else {
				nt.alloc[r] += sa[r]
				sa[r] = 1
			}
		}
	}
}

// addContainerTotals is the second pass: the containers' quantities and
// scaled costs added to their records in the set, from t to end.
func (a *Accumulator) addContainerTotals(s *set, t, end time.Time, containers []ContainerSample, costs []resources) {
	for i := range containers {
		cs := &containers[i]
		n := a.containerNode[cs.Container]
		f := &a.stepAlloc[n]
		ri := s.recOf[cs.Container]
		if ri == 0 {
			s.recs = append(s.recs, rec{container: cs.Container, first: t})
			ri = int32(len(s.recs))
			s.recOf[cs.Container] = ri
		}
		r := &s.recs[ri-1]
		r.last = end
		r.hours += cs.Hours
		r.cpuCoreHours += max(cs.CPURequest, cs.CPUUsage) * cs.Hours
		r.cpuReqHours += cs.CPURequest * cs.Hours
		r.cpuUseHours += cs.CPUUsage * cs.Hours
		r.ramByteHours += max(cs.RAMRequest, cs.RAMUsage) * cs.Hours
		r.ramReqByteHours += cs.RAMRequest * cs.Hours
		r.ramUseByteHours += cs.RAMUsage * cs.Hours
		r.gpuHours += cs.GPURequest * cs.Hours
		c := &costs[i]
		c0, c1, c2 := c[cpuR]*f[cpuR], c[ramR]*f[ramR], c[gpuR]*f[gpuR]
		r.cost[cpuR] += c0
		r.cost[ramR] += c1
		r.cost[gpuR] += c2
		r.listCost += (c0 + c1 + c2) * a.nodes[n].ListFactor
		nt := &s.nodes[n]
		nt.allocQty[cpuR] += max(cs.CPURequest, cs.CPUUsage) * cs.Hours
		nt.allocQty[ramR] += max(cs.RAMRequest, cs.RAMUsage) * cs.Hours
		nt.allocQty[gpuR] += cs.GPURequest * cs.Hours
	}
}

// TotalNodeCost is the cost of every node over the whole window.
func (a *Accumulator) TotalNodeCost() float64 {
	var sum float64
	for _, s := range a.sets {
		for _, n := range s.nodes {
			sum += n.cost.Sum()
		}
	}
	return sum
}

// Containers returns the registered containers.
func (a *Accumulator) Containers() []Container { return a.containers }

// HasNode reports whether a node of that name is registered in a cluster.
func (a *Accumulator) HasNode(cluster, name string) bool {
	_, ok := a.nodeIndex[nodeKey{cluster, name}]
	return ok
}

// Clusters returns the clusters of the registered nodes, in the order
// first seen.
func (a *Accumulator) Clusters() []string { return slices.Clone(a.clusters) }
