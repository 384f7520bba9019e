package allocation

import (
	"fmt"
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

// defaultAggregate is OpenCost's default: one allocation per container.
var defaultAggregate = []string{"cluster", "node", "namespace", "pod", "container"}

// DefaultAggregate is what an empty Options.Aggregate groups by, OpenCost's
// default: one allocation per container.
func DefaultAggregate() []string { return slices.Clone(defaultAggregate) }

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
