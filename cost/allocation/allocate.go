package allocation

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Names OpenCost gives to entries that are not workloads.
const (
	Idle        = "__idle__"
	Unallocated = "__unallocated__"
	Shared      = "__shared__"
)

// Share splits.
const (
	SplitWeighted = "weighted"
	SplitEven     = "even"
)

// NamespaceInfo is what the aggregation knows about a namespace.
type NamespaceInfo struct {
	Tenant     string
	Team       string
	CostCenter string
	// Labels are the namespace's Kubernetes labels, names sanitised as
	// kube-state-metrics does (cost-center → cost_center), without the
	// label_ prefix.
	Labels map[string]string
}

// Metadata maps containers to the properties they are aggregated by.
type Metadata struct {
	Namespaces map[string]NamespaceInfo
	// PodLabels by "namespace/pod"; a pod label wins over a namespace
	// label of the same name, as in OpenCost.
	PodLabels map[string]map[string]string
}

// Options are the allocation options, named after OpenCost's parameters.
type Options struct {
	// Aggregate lists the properties to group by (see ParseAggregate);
	// empty means cluster/node/namespace/pod/container.
	Aggregate []string
	// IncludeIdle adds idle entries (__idle__, or <node>/__idle__ when
	// aggregating by node).
	IncludeIdle bool
	// ShareIdle spreads idle over the allocations, per resource, in
	// proportion to their cost of that resource.
	ShareIdle bool
	// IdleByNode computes and shares idle per node instead of per cluster.
	IdleByNode bool
	// SharedNamespaces are spread over the other allocations (sharedCost).
	SharedNamespaces []string
	// ShareSplit is SplitWeighted (default) or SplitEven.
	ShareSplit string
	// SharedHourlyCost is a fixed overhead per hour, shared like the shared
	// namespaces.
	SharedHourlyCost float64
	// Accumulate merges all sets into one.
	Accumulate bool
	// Visible tells which containers the caller may see; nil is all. Idle
	// and shared costs are computed over everything first, so a restricted
	// caller gets exactly the share of them an unrestricted one would see
	// on the same allocations.
	Visible func(Container) bool
	Meta    Metadata
}

// Properties of an allocation; a field is set when every container in it
// has the same value.
type Properties struct {
	Cluster        string            `json:"cluster,omitempty"`
	Node           string            `json:"node,omitempty"`
	Namespace      string            `json:"namespace,omitempty"`
	Pod            string            `json:"pod,omitempty"`
	Container      string            `json:"container,omitempty"`
	Controller     string            `json:"controller,omitempty"`
	ControllerKind string            `json:"controllerKind,omitempty"`
	Tenant         string            `json:"tenant,omitempty"`
	Team           string            `json:"team,omitempty"`
	CostCenter     string            `json:"costCenter,omitempty"`
	Labels         map[string]string `json:"labels,omitempty"`
}

func (p *Properties) intersect(q Properties) {
	for _, f := range []struct{ a, b *string }{
		{&p.Cluster, &q.Cluster}, {&p.Node, &q.Node}, {&p.Namespace, &q.Namespace}, {&p.Pod, &q.Pod},
		{&p.Container, &q.Container}, {&p.Controller, &q.Controller}, {&p.ControllerKind, &q.ControllerKind},
		{&p.Tenant, &q.Tenant}, {&p.Team, &q.Team}, {&p.CostCenter, &q.CostCenter},
	} {
		if *f.a != *f.b {
			*f.a = ""
		}
	}
}

// Allocation is one aggregated entry of a set. Costs include the shared
// idle (in CPUCost, RAMCost, GPUCost, recorded again in *CostIdle) and
// sharedCost.
type Allocation struct {
	Name       string
	Properties Properties
	Start, End time.Time

	CPUCoreHours        float64
	CPURequestCoreHours float64
	CPUUsageCoreHours   float64
	CPUCost             float64
	CPUCostIdle         float64

	RAMByteHours        float64
	RAMRequestByteHours float64
	RAMUsageByteHours   float64
	RAMCost             float64
	RAMCostIdle         float64

	GPUHours    float64
	GPUCost     float64
	GPUCostIdle float64

	SharedCost float64
	// ListCost is TotalCost at list prices (before discounts).
	ListCost float64

	seen bool
}

// TotalCost is CPU + RAM + GPU + shared.
func (a *Allocation) TotalCost() float64 { return a.CPUCost + a.RAMCost + a.GPUCost + a.SharedCost }

// IdleCost is the idle included in the allocation (all of it for idle entries).
func (a *Allocation) IdleCost() float64 { return a.CPUCostIdle + a.RAMCostIdle + a.GPUCostIdle }

// IsIdle reports whether the allocation is an idle entry.
func (a *Allocation) IsIdle() bool { return strings.HasSuffix(a.Name, Idle) }

// Hours is the length of the allocation's window.
func (a *Allocation) Hours() float64 { return a.End.Sub(a.Start).Hours() }

// Minutes is the length of the allocation's window in minutes.
func (a *Allocation) Minutes() float64 { return a.End.Sub(a.Start).Minutes() }

func perHour(x, h float64) float64 {
	if h <= 0 {
		return 0
	}
	return x / h
}

// CPUCores is the average allocated cores: max(request, usage).
func (a *Allocation) CPUCores() float64 { return perHour(a.CPUCoreHours, a.Hours()) }

// CPURequestAverage is the average requested cores.
func (a *Allocation) CPURequestAverage() float64 { return perHour(a.CPURequestCoreHours, a.Hours()) }

// CPUUsageAverage is the average used cores.
func (a *Allocation) CPUUsageAverage() float64 { return perHour(a.CPUUsageCoreHours, a.Hours()) }

// RAMBytes is the average allocated bytes.
func (a *Allocation) RAMBytes() float64 { return perHour(a.RAMByteHours, a.Hours()) }

// RAMRequestAverage is the average requested bytes.
func (a *Allocation) RAMRequestAverage() float64 { return perHour(a.RAMRequestByteHours, a.Hours()) }

// RAMUsageAverage is the average used bytes.
func (a *Allocation) RAMUsageAverage() float64 { return perHour(a.RAMUsageByteHours, a.Hours()) }

// GPUCount is the average requested GPUs.
func (a *Allocation) GPUCount() float64 { return perHour(a.GPUHours, a.Hours()) }

func efficiency(use, req float64) float64 {
	switch {
	case req > 0:
		return use / req
	case use > 0:
		return 1 // OpenCost: usage without a request is fully efficient
	}
	return 0
}

// CPUEfficiency is usage / request, as in OpenCost.
func (a *Allocation) CPUEfficiency() float64 {
	return efficiency(a.CPUUsageCoreHours, a.CPURequestCoreHours)
}

// RAMEfficiency is usage / request.
func (a *Allocation) RAMEfficiency() float64 {
	return efficiency(a.RAMUsageByteHours, a.RAMRequestByteHours)
}

// TotalEfficiency is the CPU and RAM efficiencies weighted by cost.
func (a *Allocation) TotalEfficiency() float64 {
	if a.CPUCost+a.RAMCost == 0 {
		return 0
	}
	return (a.CPUEfficiency()*a.CPUCost + a.RAMEfficiency()*a.RAMCost) / (a.CPUCost + a.RAMCost)
}

func (a *Allocation) add(b *Allocation) {
	if !a.seen {
		a.Properties, a.Start, a.End, a.seen = b.Properties, b.Start, b.End, true
	} else {
		a.Properties.intersect(b.Properties)
		if b.Start.Before(a.Start) {
			a.Start = b.Start
		}
		if b.End.After(a.End) {
			a.End = b.End
		}
	}
	a.CPUCoreHours += b.CPUCoreHours
	a.CPURequestCoreHours += b.CPURequestCoreHours
	a.CPUUsageCoreHours += b.CPUUsageCoreHours
	a.CPUCost += b.CPUCost
	a.CPUCostIdle += b.CPUCostIdle
	a.RAMByteHours += b.RAMByteHours
	a.RAMRequestByteHours += b.RAMRequestByteHours
	a.RAMUsageByteHours += b.RAMUsageByteHours
	a.RAMCost += b.RAMCost
	a.RAMCostIdle += b.RAMCostIdle
	a.GPUHours += b.GPUHours
	a.GPUCost += b.GPUCost
	a.GPUCostIdle += b.GPUCostIdle
	a.SharedCost += b.SharedCost
	a.ListCost += b.ListCost
}

// Set is the allocations of one step of the result.
type Set struct {
	Start, End time.Time
	// Allocations sorted by name.
	Allocations []*Allocation
}

// TotalCost sums the set.
func (s Set) TotalCost() float64 {
	var t float64
	for _, a := range s.Allocations {
		t += a.TotalCost()
	}
	return t
}

// Get returns the allocation with the given name, or nil.
func (s Set) Get(name string) *Allocation {
	i, ok := slices.BinarySearchFunc(s.Allocations, name, func(a *Allocation, n string) int { return strings.Compare(a.Name, n) })
	if !ok {
		return nil
	}
	return s.Allocations[i]
}

// Properties that can be aggregated by, besides label:<name>.
var aggregateProps = []string{"cluster", "node", "namespace", "pod", "container", "controller", "controllerKind",
	"deployment", "statefulset", "daemonset", "job", "tenant", "team", "cost_center"}

// DefaultAggregate is OpenCost's default: one allocation per container.
var DefaultAggregate = []string{"cluster", "node", "namespace", "pod", "container"}

// ParseAggregate reads OpenCost's comma-separated `aggregate` parameter.
func ParseAggregate(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		switch {
		case slices.Contains(aggregateProps, p):
		case p == "costCenter" || p == "cost-center":
			p = "cost_center"
		case strings.HasPrefix(p, "label:") && len(p) > len("label:"):
			p = "label:" + SanitizeLabel(strings.TrimPrefix(p, "label:"))
		default:
			return nil, fmt.Errorf("cannot aggregate by %q: use %s or label:<name>", p, strings.Join(aggregateProps, ", "))
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// SanitizeLabel turns a Kubernetes label name into the Prometheus label
// name kube-state-metrics gives it (without label_): every character that
// is not a letter, digit or underscore becomes '_'.
func SanitizeLabel(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// Value returns the value of an aggregation property for a container, ""
// when it has none.
func (m Metadata) Value(c Container, prop string) string {
	ns := m.Namespaces[c.Namespace]
	switch prop {
	case "cluster":
		return c.Cluster
	case "node":
		return c.Node
	case "namespace":
		return c.Namespace
	case "pod":
		return c.Pod
	case "container":
		return c.Container
	case "controller":
		if c.Controller == "" {
			return ""
		}
		return c.ControllerKind + ":" + c.Controller
	case "controllerKind":
		return c.ControllerKind
	case "deployment", "statefulset", "daemonset", "job":
		// OpenCost's: the controller's name when it is of that kind.
		if c.ControllerKind == prop {
			return c.Controller
		}
		return ""
	case "tenant":
		return ns.Tenant
	case "team":
		return ns.Team
	case "cost_center":
		return ns.CostCenter
	}
	if name, ok := strings.CutPrefix(prop, "label:"); ok {
		if v := m.PodLabels[c.Namespace+"/"+c.Pod][name]; v != "" {
			return v
		}
		return ns.Labels[name]
	}
	return ""
}

func (m Metadata) properties(c Container) Properties {
	ns := m.Namespaces[c.Namespace]
	return Properties{
		Cluster: c.Cluster, Node: c.Node, Namespace: c.Namespace, Pod: c.Pod, Container: c.Container,
		Controller: c.Controller, ControllerKind: c.ControllerKind,
		Tenant: ns.Tenant, Team: ns.Team, CostCenter: ns.CostCenter,
	}
}

// Allocate computes the sets of allocations.
func (a *Accumulator) Allocate(opts Options) ([]Set, error) {
	if opts.ShareSplit == "" {
		opts.ShareSplit = SplitWeighted
	}
	if opts.ShareSplit != SplitWeighted && opts.ShareSplit != SplitEven {
		return nil, fmt.Errorf("share split %q: use weighted or even", opts.ShareSplit)
	}
	agg := opts.Aggregate
	if len(agg) == 0 {
		agg = DefaultAggregate
	}
	byNode := slices.Contains(agg, "node")
	shared := make([]bool, len(a.containers))
	keys := make([]string, len(a.containers))
	labels := make([]map[string]string, len(a.containers))
	visible := make([]bool, len(a.containers))
	vals := make([]string, len(agg))
	for i, c := range a.containers {
		shared[i] = slices.Contains(opts.SharedNamespaces, c.Namespace)
		visible[i] = opts.Visible == nil || opts.Visible(c)
		for j, p := range agg {
			v := opts.Meta.Value(c, p)
			if name, ok := strings.CutPrefix(p, "label:"); ok && v != "" {
				if labels[i] == nil {
					labels[i] = map[string]string{}
				}
				labels[i][name] = v
			}
			if v == "" {
				v = Unallocated
			}
			vals[j] = v
		}
		keys[i] = strings.Join(vals, "/")
	}

	var out []Set
	for _, s := range a.sets {
		out = append(out, a.allocateSet(s, opts, byNode, shared, keys, labels, visible))
	}
	if opts.Accumulate && len(out) > 1 {
		out = []Set{mergeSets(out)}
	}
	return out, nil
}

func (a *Accumulator) allocateSet(s *set, opts Options, byNode bool, shared []bool, keys []string, labels []map[string]string, visible []bool) Set {
	unrestricted := opts.Visible == nil
	// Idle scopes: one per node, or one for the cluster.
	scopeOf := func(node int32) int32 {
		if opts.IdleByNode {
			return node
		}
		return 0
	}
	nScopes := 1
	if opts.IdleByNode {
		nScopes = len(s.nodes)
	}
	pool := make([][3]float64, nScopes) // idle cost per scope
	den := make([][3]float64, nScopes)  // allocated cost per scope
	for n := range s.nodes {
		nt := &s.nodes[n]
		sc := scopeOf(int32(n))
		for r := range 3 {
			pool[sc][r] += nt.cost[r] - nt.alloc[r]
		}
	}
	for i := range s.recs {
		r := &s.recs[i]
		sc := scopeOf(a.containerNode[r.container])
		for k := range 3 {
			den[sc][k] += r.cost[k]
		}
	}
	// Every container's own allocation, with its weighted share of idle:
	// added to its cost when idle is shared, kept apart otherwise.
	allocs := make([]Allocation, len(s.recs))
	idleOf := make([][3]float64, len(s.recs))
	for i := range s.recs {
		r := &s.recs[i]
		c := a.containers[r.container]
		n := a.containerNode[r.container]
		sc := scopeOf(n)
		al := &allocs[i]
		*al = Allocation{
			Properties: opts.Meta.properties(c), Start: r.first, End: r.last,
			CPUCoreHours: r.cpuCoreHours, CPURequestCoreHours: r.cpuReqHours, CPUUsageCoreHours: r.cpuUseHours, CPUCost: r.cost[cpuR],
			RAMByteHours: r.ramByteHours, RAMRequestByteHours: r.ramReqByteHours, RAMUsageByteHours: r.ramUseByteHours, RAMCost: r.cost[ramR],
			GPUHours: r.gpuHours, GPUCost: r.cost[gpuR], ListCost: r.listCost,
		}
		al.Properties.Labels = labels[r.container]
		for k := range 3 {
			if den[sc][k] > 0 {
				idleOf[i][k] = pool[sc][k] * r.cost[k] / den[sc][k]
			}
		}
		if opts.ShareIdle {
			lf := a.nodes[n].ListFactor
			if opts.IdleByNode {
				al.ListCost += (idleOf[i][0] + idleOf[i][1] + idleOf[i][2]) * lf
			}
			al.CPUCost += idleOf[i][cpuR]
			al.RAMCost += idleOf[i][ramR]
			al.GPUCost += idleOf[i][gpuR]
			al.CPUCostIdle, al.RAMCostIdle, al.GPUCostIdle = idleOf[i][cpuR], idleOf[i][ramR], idleOf[i][gpuR]
		}
	}
	// Cluster-wide idle mixes nodes of different discounts: its list price
	// is spread in proportion to the idle cost.
	if opts.ShareIdle && !opts.IdleByNode {
		idleCost, idleList := a.idleList(s)
		if idleCost > 0 {
			for i := range allocs {
				allocs[i].ListCost += allocs[i].IdleCost() * idleList / idleCost
			}
		}
	}

	// The pool of shared namespaces and overhead, and the weights of the
	// groups that receive it.
	hours := s.end.Sub(s.start).Hours()
	overhead := opts.SharedHourlyCost * hours
	sharePool, shareList := overhead, overhead
	groupIdx := map[string]int{}
	var groupTotal []float64
	var groupCount []int
	receiving := make([][3]float64, nScopes) // cost of the receivers per idle scope
	for i := range s.recs {
		c := s.recs[i].container
		if shared[c] {
			sharePool += allocs[i].TotalCost()
			shareList += allocs[i].ListCost
			continue
		}
		g, ok := groupIdx[keys[c]]
		if !ok {
			g = len(groupTotal)
			groupIdx[keys[c]] = g
			groupTotal = append(groupTotal, 0)
			groupCount = append(groupCount, 0)
		}
		groupTotal[g] += allocs[i].TotalCost()
		groupCount[g]++
		sc := scopeOf(a.containerNode[c])
		for k := range 3 {
			receiving[sc][k] += s.recs[i].cost[k]
		}
	}
	sumT := receiversTotal(receiving, pool, den, opts.ShareIdle)
	// Without anyone to receive it, a shared namespace keeps its cost and
	// the overhead stays in __shared__.
	receivers := len(groupTotal) > 0 && (opts.ShareSplit == SplitEven || sumT > 0)
	if !receivers {
		sharePool, shareList = overhead, overhead
	}
	if sharePool > 0 && receivers {
		for i := range s.recs {
			c := s.recs[i].container
			if shared[c] {
				continue
			}
			g := groupIdx[keys[c]]
			t := allocs[i].TotalCost()
			var w float64
			if opts.ShareSplit == SplitEven {
				w = 1 / float64(len(groupTotal))
				if groupTotal[g] > 0 {
					w *= t / groupTotal[g]
				} else {
					w /= float64(groupCount[g])
				}
			} else {
				w = t / sumT
			}
			allocs[i].SharedCost = sharePool * w
			allocs[i].ListCost += shareList * w
		}
	}

	// Aggregate what the caller may see.
	groups := map[string]*Allocation{}
	get := func(name string) *Allocation {
		g := groups[name]
		if g == nil {
			g = &Allocation{Name: name}
			groups[name] = g
		}
		return g
	}
	var idleShown [3]float64
	for i := range s.recs {
		c := s.recs[i].container
		if !visible[c] || (shared[c] && receivers) {
			continue
		}
		get(keys[c]).add(&allocs[i])
		if !unrestricted && !opts.ShareIdle && opts.IncludeIdle {
			// A restricted caller's idle is the share its allocations
			// would get if idle were shared.
			name := Idle
			if byNode {
				name = a.containers[c].Node + "/" + Idle
			}
			n := a.containerNode[c]
			ia := &Allocation{Name: name, Properties: Properties{Cluster: a.containers[c].Cluster}, Start: allocs[i].Start, End: allocs[i].End,
				CPUCost: idleOf[i][cpuR], RAMCost: idleOf[i][ramR], GPUCost: idleOf[i][gpuR],
				CPUCostIdle: idleOf[i][cpuR], RAMCostIdle: idleOf[i][ramR], GPUCostIdle: idleOf[i][gpuR],
				ListCost: (idleOf[i][0] + idleOf[i][1] + idleOf[i][2]) * a.nodes[n].ListFactor}
			if byNode {
				ia.Properties.Node = a.containers[c].Node
			}
			get(name).add(ia)
			for k := range 3 {
				idleShown[k] += idleOf[i][k]
			}
		}
	}
	if unrestricted {
		a.addIdleEntries(s, opts, byNode, den, scopeOf, get)
		if sharePool > 0 && !receivers {
			get(Shared).add(&Allocation{Start: s.start, End: s.end, SharedCost: sharePool, ListCost: shareList})
		}
	}

	out := Set{Start: s.start, End: s.end}
	for _, g := range groups {
		out.Allocations = append(out.Allocations, g)
	}
	slices.SortFunc(out.Allocations, func(x, y *Allocation) int { return strings.Compare(x.Name, y.Name) })
	return out
}

// receiversTotal is the total cost of the groups that receive shared
// cost, the denominator of every weighted share. It is the sum of their
// TotalCost, computed from per-scope sums instead, so that it depends on
// how much was allocated and not on who was allocated it, down to the last
// bit of floating point: a tenant's weighted sharedCost must not move when
// usage moves between other tenants (FuzzTenantScope).
func receiversTotal(receiving, pool, den [][3]float64, shareIdle bool) float64 {
	var sum float64
	for sc := range receiving {
		for k := range 3 {
			sum += receiving[sc][k]
			if shareIdle && den[sc][k] > 0 {
				sum += pool[sc][k] * receiving[sc][k] / den[sc][k]
			}
		}
	}
	return sum
}

// idleList returns the idle cost of a set and its list price.
func (a *Accumulator) idleList(s *set) (cost, list float64) {
	for n := range s.nodes {
		nt := &s.nodes[n]
		c := nt.cost[0] + nt.cost[1] + nt.cost[2] - nt.alloc[0] - nt.alloc[1] - nt.alloc[2]
		cost += c
		list += c * a.nodes[n].ListFactor
	}
	return cost, list
}

// addIdleEntries adds the idle that is not in the allocations: all of it
// when idle is not shared (if asked for), else the idle of resources
// nothing was allocated in its scope (OpenCost leaves that in __idle__ too).
func (a *Accumulator) addIdleEntries(s *set, opts Options, byNode bool, den [][3]float64, scopeOf func(int32) int32, get func(string) *Allocation) {
	if !opts.ShareIdle && !opts.IncludeIdle {
		return
	}
	for n := range s.nodes {
		nt := &s.nodes[n]
		if nt.hours == 0 && nt.cost == ([3]float64{}) {
			continue
		}
		var idle, qty [3]float64
		sc := scopeOf(int32(n))
		for k := range 3 {
			if opts.ShareIdle && den[sc][k] > 0 {
				continue
			}
			idle[k] = nt.cost[k] - nt.alloc[k]
			qty[k] = math.Max(0, nt.capacity[k]-nt.allocQty[k])
		}
		if idle == ([3]float64{}) {
			continue
		}
		node := a.nodes[n]
		name := Idle
		props := Properties{Cluster: node.Cluster}
		if byNode {
			name = node.Name + "/" + Idle
			props.Node = node.Name
		}
		get(name).add(&Allocation{Name: name, Properties: props, Start: s.start, End: s.end,
			CPUCoreHours: qty[cpuR], RAMByteHours: qty[ramR], GPUHours: qty[gpuR],
			CPUCost: idle[cpuR], RAMCost: idle[ramR], GPUCost: idle[gpuR],
			CPUCostIdle: idle[cpuR], RAMCostIdle: idle[ramR], GPUCostIdle: idle[gpuR],
			ListCost: (idle[0] + idle[1] + idle[2]) * node.ListFactor})
	}
}

func mergeSets(sets []Set) Set {
	out := Set{Start: sets[0].Start, End: sets[len(sets)-1].End}
	byName := map[string]*Allocation{}
	for _, s := range sets {
		for _, al := range s.Allocations {
			m := byName[al.Name]
			if m == nil {
				m = &Allocation{Name: al.Name}
				byName[al.Name] = m
				out.Allocations = append(out.Allocations, m)
			}
			m.add(al)
		}
	}
	slices.SortFunc(out.Allocations, func(x, y *Allocation) int { return strings.Compare(x.Name, y.Name) })
	return out
}

// Accumulate merges sets into one, as accumulate=true does.
func Accumulate(sets []Set) Set {
	if len(sets) == 0 {
		return Set{}
	}
	return mergeSets(sets)
}
