package allocation

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Allocate computes the sets of allocations.
func (a *Accumulator) Allocate(opts Options) ([]Set, error) {
	if opts.ShareSplit == "" {
		opts.ShareSplit = SplitWeighted
	}
	if opts.ShareSplit != SplitWeighted && opts.ShareSplit != SplitEven {
		return nil, fmt.Errorf("share split %q: use weighted or even", opts.ShareSplit)
	}
	p := a.newPlan(opts)
	var out []Set
	for _, s := range a.sets {
		out = append(out, a.allocateSet(s, &p))
	}
	if opts.Accumulate && len(out) > 1 {
		out = []Set{mergeSets(out)}
	}
	return out, nil
}

// plan is what Allocate works out once for all sets, per container: its
// group (the values of the aggregation properties, joined by "/"), its
// labels among those properties, whether its namespace is shared, and
// whether the caller may see it.
type plan struct {
	opts   Options
	byNode bool // aggregating by node: idle entries are per node
	// byCluster: aggregating by cluster over several clusters, idle
	// entries are per cluster (<cluster>/__idle__), as in OpenCost.
	byCluster bool
	names     []string // group names, by group index
	group     []int32
	labels    []map[string]string
	shared    []bool
	visible   []bool
}

func (a *Accumulator) newPlan(opts Options) plan {
	agg := opts.Aggregate
	if len(agg) == 0 {
		agg = defaultAggregate
	}
	n := len(a.containers)
	p := plan{opts: opts, byNode: slices.Contains(agg, "node"), byCluster: slices.Contains(agg, "cluster") && len(a.clusters) > 1, group: make([]int32, n),
		labels: make([]map[string]string, n), shared: make([]bool, n), visible: make([]bool, n)}
	index := map[string]int32{}
	vals := make([]string, len(agg))
	var scratch []byte
	for i, c := range a.containers {
		p.shared[i] = slices.Contains(opts.SharedNamespaces, c.Namespace)
		p.visible[i] = opts.Visible == nil || opts.Visible(c)
		p.labels[i] = groupValues(vals, opts.Meta, c, agg)
		p.group[i] = p.groupOf(index, vals, &scratch)
	}
	return p
}

// groupValues sets vals to a container's values of the aggregation
// properties, and returns its labels among them.
func groupValues(vals []string, meta Metadata, c Container, agg []string) map[string]string {
	var labels map[string]string
	for j, prop := range agg {
		v := meta.Value(c, prop)
		if name, ok := strings.CutPrefix(prop, "label:"); ok && v != "" {
			if labels == nil {
				labels = map[string]string{}
			}
			labels[name] = v
		}
		if v == "" {
			v = Unallocated
		}
		vals[j] = v
	}
	return labels
}

// groupOf returns the index of the group named by vals joined with "/",
// adding it if it is new. The name is built in scratch and copied only
// for a new group.
func (p *plan) groupOf(index map[string]int32, vals []string, scratch *[]byte) int32 {
	name := vals[0]
	if len(vals) > 1 {
		b := (*scratch)[:0]
		for j, v := range vals {
			if j > 0 {
				b = append(b, '/')
			}
			b = append(b, v...)
		}
		*scratch = b
		if g, ok := index[string(b)]; ok {
			return g
		}
		name = string(b)
	}
	g, ok := index[name]
	if !ok {
		g = int32(len(p.names))
		p.names = append(p.names, name)
		index[name] = g
	}
	return g
}

// setAllocation is the work of allocating one set, phase by phase.
type setAllocation struct {
	a *Accumulator
	p *plan
	s *set
	// Idle scopes: one per node (idleByNode), or one per cluster.
	pool []resources // idle cost per scope
	den  []resources // allocated cost per scope
	// By record: the container's own allocation, and its share of its
	// scope's idle, weighted by cost.
	allocs []Allocation
	idleOf []resources
	// Per cluster: the cost of its shared namespaces plus its part of the
	// overhead, at effective and list prices, and whether anyone in the
	// cluster receives it. Shared namespaces are shared within their
	// cluster only.
	sharePool, shareList []float64
	receivers            []bool
	groups               map[string]*Allocation
}

func (a *Accumulator) allocateSet(s *set, p *plan) Set {
	w := &setAllocation{a: a, p: p, s: s, groups: map[string]*Allocation{}}
	w.idlePools()
	w.ownAllocations()
	w.spreadIdleList()
	w.shareCosts()
	w.aggregate()
	if p.opts.Visible == nil {
		w.addIdleEntries()
		for cl := range w.sharePool {
			if w.sharePool[cl] > 0 && !w.receivers[cl] {
				w.get(Shared).add(&Allocation{Start: s.start, End: s.end, SharedCost: w.sharePool[cl], ListCost: w.shareList[cl]})
			}
		}
	}
	out := Set{Start: s.start, End: s.end}
	for _, g := range w.groups {
		out.Allocations = append(out.Allocations, g)
	}
	slices.SortFunc(out.Allocations, func(x, y *Allocation) int { return strings.Compare(x.Name, y.Name) })
	return out
}

// scope is the idle scope of a node: itself, or its cluster.
func (w *setAllocation) scope(node int32) int32 {
	if w.p.opts.IdleByNode {
		return node
	}
	return w.a.nodeCluster[node]
}

// scopeCluster is the cluster of an idle scope.
func (w *setAllocation) scopeCluster(sc int) int32 {
	if w.p.opts.IdleByNode {
		return w.a.nodeCluster[sc]
	}
	return int32(sc)
}

// clusterOf is the cluster of a container.
func (w *setAllocation) clusterOf(c int32) int32 { return w.a.nodeCluster[w.a.containerNode[c]] }

// get returns the group of that name, created empty if need be.
func (w *setAllocation) get(name string) *Allocation {
	g := w.groups[name]
	if g == nil {
		g = &Allocation{Name: name}
		w.groups[name] = g
	}
	return g
}

// idlePools sums, per idle scope, the idle cost and the allocated cost.
func (w *setAllocation) idlePools() {
	scopes := max(1, len(w.a.clusters))
	if w.p.opts.IdleByNode {
		scopes = len(w.s.nodes)
	}
	w.pool, w.den = make([]resources, scopes), make([]resources, scopes)
	for n := range w.s.nodes {
		nt := &w.s.nodes[n]
		sc := w.scope(int32(n))
		for r := range 3 {
			w.pool[sc][r] += nt.cost[r] - nt.alloc[r]
		}
	}
	for i := range w.s.recs {
		r := &w.s.recs[i]
		w.den[w.scope(w.a.containerNode[r.container])].add(r.cost)
	}
}

// ownAllocations gives every container its own allocation and its
// weighted share of idle: added to its cost when idle is shared, kept
// apart otherwise.
func (w *setAllocation) ownAllocations() {
	a, opts := w.a, w.p.opts
	w.allocs = make([]Allocation, len(w.s.recs))
	w.idleOf = make([]resources, len(w.s.recs))
	for i := range w.s.recs {
		r := &w.s.recs[i]
		n := a.containerNode[r.container]
		sc := w.scope(n)
		al := &w.allocs[i]
		*al = Allocation{
			Properties: opts.Meta.properties(a.containers[r.container]), Start: r.first, End: r.last,
			CPUCoreHours: r.cpuCoreHours, CPURequestCoreHours: r.cpuReqHours, CPUUsageCoreHours: r.cpuUseHours, CPUCost: r.cost[cpuR],
			RAMByteHours: r.ramByteHours, RAMRequestByteHours: r.ramReqByteHours, RAMUsageByteHours: r.ramUseByteHours, RAMCost: r.cost[ramR],
			GPUHours: r.gpuHours, GPUCost: r.cost[gpuR], ListCost: r.listCost,
		}
		al.Properties.Labels = w.p.labels[r.container]
		idle := &w.idleOf[i]
		for k := range 3 {
			if w.den[sc][k] > 0 {
				idle[k] = w.pool[sc][k] * r.cost[k] / w.den[sc][k]
			}
		}
		if !opts.ShareIdle {
			continue
		}
		if opts.IdleByNode {
			al.ListCost += idle.Sum() * a.nodes[n].ListFactor
		}
		al.CPUCost += idle[cpuR]
		al.RAMCost += idle[ramR]
		al.GPUCost += idle[gpuR]
		al.CPUCostIdle, al.RAMCostIdle, al.GPUCostIdle = idle[cpuR], idle[ramR], idle[gpuR]
	}
}

// spreadIdleList prices shared cluster-wide idle at list prices: that
// idle mixes nodes of different discounts, so its list price is spread
// in proportion to the idle cost.
func (w *setAllocation) spreadIdleList() {
	if !w.p.opts.ShareIdle || w.p.opts.IdleByNode {
		return
	}
	idleCost, idleList := w.a.idleList(w.s)
	for i := range w.allocs {
		cl := w.clusterOf(w.s.recs[i].container)
		if idleCost[cl] > 0 {
			w.allocs[i].ListCost += w.allocs[i].IdleCost() * idleList[cl] / idleCost[cl]
		}
	}
}

// receivers are the groups that receive shared cost in a set, per
// cluster: indexed by cluster × groups + group, their total cost and
// number of containers, and per cluster how many there are.
type receivers struct {
	groups  int
	total   []float64
	count   []int32
	present []int
}

// shareCosts pools, per cluster, the shared namespaces' cost with the
// cluster's part of the overhead and splits the pool over the cluster's
// receiving groups. Without anyone to receive it, a shared namespace
// keeps its cost and the overhead stays in __shared__.
func (w *setAllocation) shareCosts() {
	nc := max(1, len(w.a.clusters))
	overhead := w.overheads(nc)
	w.sharePool, w.shareList, w.receivers = slices.Clone(overhead), slices.Clone(overhead), make([]bool, nc)
	g, receiving := w.findReceivers(nc)
	sumT := w.receiversTotal(receiving, nc)
	for cl := range nc {
		w.receivers[cl] = g.present[cl] > 0 && (w.p.opts.ShareSplit == SplitEven || sumT[cl] > 0)
		if !w.receivers[cl] {
			w.sharePool[cl], w.shareList[cl] = overhead[cl], overhead[cl]
		}
	}
	for i := range w.s.recs {
		c := w.s.recs[i].container
		cl := w.clusterOf(c)
		if w.p.shared[c] || !w.receivers[cl] || w.sharePool[cl] == 0 {
			continue
		}
		gi := int(cl)*g.groups + int(w.p.group[c])
		t := w.allocs[i].TotalCost()
		var wt float64
		if w.p.opts.ShareSplit == SplitEven {
			wt = 1 / float64(g.present[cl])
			if g.total[gi] > 0 {
				wt *= t / g.total[gi]
			} else {
				wt /= float64(g.count[gi])
			}
		} else {
			wt = t / sumT[cl]
		}
		w.allocs[i].SharedCost = w.sharePool[cl] * wt
		w.allocs[i].ListCost += w.shareList[cl] * wt
	}
}

// overheads splits the fixed overhead of the set over the clusters in
// proportion to their nodes' cost; one cluster gets all of it.
func (w *setAllocation) overheads(nc int) []float64 {
	overhead := w.p.opts.SharedHourlyCost * w.s.end.Sub(w.s.start).Hours()
	out := make([]float64, nc)
	if nc == 1 {
		out[0] = overhead
		return out
	}
	costs := make([]float64, nc)
	var total float64
	for n := range w.s.nodes {
		c := w.s.nodes[n].cost.Sum()
		costs[w.a.nodeCluster[n]] += c
		total += c
	}
	if total <= 0 {
		out[0] = overhead
		return out
	}
	for cl := range out {
		out[cl] = overhead * costs[cl] / total
	}
	return out
}

// findReceivers adds the shared namespaces' cost to their cluster's pool
// and returns the other groups, with their cost per idle scope.
func (w *setAllocation) findReceivers(nc int) (receivers, []resources) {
	ng := len(w.p.names)
	g := receivers{groups: ng, total: make([]float64, nc*ng), count: make([]int32, nc*ng), present: make([]int, nc)}
	receiving := make([]resources, len(w.pool))
	for i := range w.s.recs {
		c := w.s.recs[i].container
		cl := w.clusterOf(c)
		if w.p.shared[c] {
			w.sharePool[cl] += w.allocs[i].TotalCost()
			w.shareList[cl] += w.allocs[i].ListCost
			continue
		}
		gi := int(cl)*ng + int(w.p.group[c])
		if g.count[gi] == 0 {
			g.present[cl]++
		}
		g.total[gi] += w.allocs[i].TotalCost()
		g.count[gi]++
		receiving[w.scope(w.a.containerNode[c])].add(w.s.recs[i].cost)
	}
	return g, receiving
}

// receiversTotal is, per cluster, the total cost of the groups that
// receive shared cost, the denominator of every weighted share. It is the
// sum of their TotalCost, computed from per-scope sums instead, so that
// it depends on how much was allocated and not on who was allocated it,
// down to the last bit of floating point: a tenant's weighted sharedCost
// must not move when usage moves between other tenants (FuzzTenantScope).
func (w *setAllocation) receiversTotal(receiving []resources, nc int) []float64 {
	sum := make([]float64, nc)
	for sc := range receiving {
		cl := w.scopeCluster(sc)
		for k := range 3 {
			sum[cl] += receiving[sc][k]
			if w.p.opts.ShareIdle && w.den[sc][k] > 0 {
				sum[cl] += w.pool[sc][k] * receiving[sc][k] / w.den[sc][k]
			}
		}
	}
	return sum
}

// aggregate adds what the caller may see to the groups. A restricted
// caller asking for idle without sharing it gets, as its idle, the share
// its allocations would get if idle were shared.
func (w *setAllocation) aggregate() {
	opts := w.p.opts
	ownIdle := opts.Visible != nil && !opts.ShareIdle && opts.IncludeIdle
	for i := range w.s.recs {
		c := w.s.recs[i].container
		if !w.p.visible[c] || (w.p.shared[c] && w.receivers[w.clusterOf(c)]) {
			continue
		}
		w.get(w.p.names[w.p.group[c]]).add(&w.allocs[i])
		if !ownIdle {
			continue
		}
		ctr := w.a.containers[c]
		name, props := w.idleName(ctr.Cluster, ctr.Node)
		lf := w.a.nodes[w.a.containerNode[c]].ListFactor
		w.get(name).add(idleEntry(name, props, w.allocs[i].Start, w.allocs[i].End, w.idleOf[i], resources{}, lf))
	}
}

// idleName names an idle entry: per node when aggregating by node.
func (w *setAllocation) idleName(cluster, node string) (string, Properties) {
	prefix := ""
	if w.p.byCluster {
		prefix = cluster + "/"
	}
	if w.p.byNode {
		return prefix + node + "/" + Idle, Properties{Cluster: cluster, Node: node}
	}
	return prefix + Idle, Properties{Cluster: cluster}
}

// idleEntry is an idle allocation of cost idle and unallocated
// quantities qty, priced at list with the node's factor lf.
func idleEntry(name string, props Properties, start, end time.Time, idle, qty resources, lf float64) *Allocation {
	return &Allocation{Name: name, Properties: props, Start: start, End: end,
		CPUCoreHours: qty[cpuR], RAMByteHours: qty[ramR], GPUHours: qty[gpuR],
		CPUCost: idle[cpuR], RAMCost: idle[ramR], GPUCost: idle[gpuR],
		CPUCostIdle: idle[cpuR], RAMCostIdle: idle[ramR], GPUCostIdle: idle[gpuR],
		ListCost: idle.Sum() * lf}
}

// idleList returns the idle cost of a set and its list price, per cluster.
func (a *Accumulator) idleList(s *set) (cost, list []float64) {
	cost, list = make([]float64, len(a.clusters)), make([]float64, len(a.clusters))
	for n := range s.nodes {
		nt := &s.nodes[n]
		c := nt.cost.Sum() - nt.alloc[cpuR] - nt.alloc[ramR] - nt.alloc[gpuR]
		cl := a.nodeCluster[n]
		cost[cl] += c
		list[cl] += c * a.nodes[n].ListFactor
	}
	return cost, list
}

// addIdleEntries adds the idle that is not in the allocations: all of it
// when idle is not shared (if asked for), else the idle of resources
// nothing was allocated in its scope (OpenCost leaves that in __idle__ too).
func (w *setAllocation) addIdleEntries() {
	opts := w.p.opts
	if !opts.ShareIdle && !opts.IncludeIdle {
		return
	}
	for n := range w.s.nodes {
		nt := &w.s.nodes[n]
		if nt.hours == 0 && nt.cost == (resources{}) {
			continue
		}
		var idle, qty resources
		sc := w.scope(int32(n))
		for k := range 3 {
			if opts.ShareIdle && w.den[sc][k] > 0 {
				continue
			}
			idle[k] = nt.cost[k] - nt.alloc[k]
			qty[k] = math.Max(0, nt.capacity[k]-nt.allocQty[k])
		}
		if idle == (resources{}) {
			continue
		}
		node := w.a.nodes[n]
		name, props := w.idleName(node.Cluster, node.Name)
		w.get(name).add(idleEntry(name, props, w.s.start, w.s.end, idle, qty, node.ListFactor))
	}
}
