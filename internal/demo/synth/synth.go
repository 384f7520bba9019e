// Package synth generates a synthetic Kubernetes cluster's metrics: HTTP RED
// metrics per service, kube-state-metrics and cAdvisor series, for several
// teams. The demo loads it into an embedded Prometheus and the end-to-end
// tests into a real one, so both show the same data.
//
// Every namespace has a distinct power of two, its Marker. The gauge
// tollgate_demo_namespace_marker carries it, and the request rates are
// multiples of it, so any sum over several namespaces tells exactly which
// ones it included: a cross-tenant leak shows up in a single number.
package synth

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// Namespace is one Kubernetes namespace of the synthetic cluster.
type Namespace struct {
	Name        string
	Team        string // "" for platform namespaces
	CostCenter  string
	Environment string
	Services    []string
	// Marker is a distinct power of two per namespace.
	Marker float64
}

// Node is one Kubernetes node.
type Node struct {
	Name         string
	InstanceType string
	Region       string
	CapacityType string // on_demand or spot
	CPUCores     float64
	MemoryBytes  float64
	GPUs         float64
}

// Cluster is the whole synthetic cluster.
type Cluster struct {
	Name       string
	Namespaces []Namespace
	Nodes      []Node
}

// Default is the demo cluster: three teams, five team namespaces, and two
// platform namespaces, on mixed node types priced by the cost engine's
// catalogue: two on-demand m6i.2xlarge, a spot pool of two c6i.xlarge and
// a g4dn.xlarge GPU node, where search's indexer requests the GPU.
func Default() Cluster {
	ns := []Namespace{
		{Name: "team-payments-prod", Team: "payments", CostCenter: "CC-4521", Environment: "prod", Services: []string{"payments-api", "ledger"}},
		{Name: "team-payments-staging", Team: "payments", CostCenter: "CC-4521", Environment: "staging", Services: []string{"payments-api"}},
		{Name: "team-checkout-prod", Team: "checkout", CostCenter: "CC-4522", Environment: "prod", Services: []string{"checkout-web", "cart"}},
		{Name: "team-search-prod", Team: "search", CostCenter: "CC-7310", Environment: "prod", Services: []string{"search-api", "indexer"}},
		{Name: "team-search-staging", Team: "search", CostCenter: "CC-7310", Environment: "staging", Services: []string{"search-api"}},
		{Name: "kube-system", Environment: "platform", Services: []string{"coredns"}},
		{Name: "monitoring", Environment: "platform", Services: []string{"prometheus"}},
	}
	for i := range ns {
		ns[i].Marker = math.Ldexp(1, i)
	}
	return Cluster{
		Name:       "prod-eu-west-1",
		Namespaces: ns,
		Nodes: []Node{
			{Name: "ip-10-0-1-10", InstanceType: "m6i.2xlarge", Region: "eu-west-1", CapacityType: "on_demand", CPUCores: 8, MemoryBytes: 32 << 30},
			{Name: "ip-10-0-1-11", InstanceType: "m6i.2xlarge", Region: "eu-west-1", CapacityType: "on_demand", CPUCores: 8, MemoryBytes: 32 << 30},
			{Name: "ip-10-0-2-20", InstanceType: "c6i.xlarge", Region: "eu-west-1", CapacityType: "spot", CPUCores: 4, MemoryBytes: 8 << 30},
			{Name: "ip-10-0-2-21", InstanceType: "c6i.xlarge", Region: "eu-west-1", CapacityType: "spot", CPUCores: 4, MemoryBytes: 8 << 30},
			{Name: "ip-10-0-3-30", InstanceType: "g4dn.xlarge", Region: "eu-west-1", CapacityType: "on_demand", CPUCores: 4, MemoryBytes: 16 << 30, GPUs: 1},
		},
	}
}

// gpuNode returns the first node with a GPU, or nil.
func (c Cluster) gpuNode() *Node {
	for i := range c.Nodes {
		if c.Nodes[i].GPUs > 0 {
			return &c.Nodes[i]
		}
	}
	return nil
}

// Namespace returns the namespace with the given name.
func (c Cluster) Namespace(name string) (Namespace, bool) {
	for _, n := range c.Namespaces {
		if n.Name == name {
			return n, true
		}
	}
	return Namespace{}, false
}

// Series is one time series: its labels and its value at any time.
type Series struct {
	Labels labels.Labels
	// Type is the OpenMetrics type of the series' family: counter or gauge.
	// Histogram buckets, sums and counts are counters.
	Type  string
	Value func(t time.Time) float64
}

// Name returns the metric name.
func (s Series) Name() string { return s.Labels.Get(labels.MetricName) }

// Epoch anchors the periodic shapes so that the same instant always has the
// same value, whichever window is generated.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Buckets returns the latency buckets of http_request_duration_seconds,
// in seconds: a new slice each time, so that no caller changes another's.
func Buckets() []float64 {
	return []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}
}

// Series returns every series of the cluster, sorted by labels.
func (c Cluster) Series() []Series {
	var out []Series
	add := func(typ string, v func(time.Time) float64, kv ...string) {
		out = append(out, Series{Labels: labels.FromStrings(kv...), Type: typ, Value: v})
	}
	constant := func(x float64) func(time.Time) float64 { return func(time.Time) float64 { return x } }

	for _, node := range c.Nodes {
		add("gauge", constant(1), "__name__", "kube_node_labels", "node", node.Name,
			"label_node_kubernetes_io_instance_type", node.InstanceType,
			"label_topology_kubernetes_io_region", node.Region,
			"label_karpenter_sh_capacity_type", node.CapacityType)
		add("gauge", constant(node.CPUCores), "__name__", "kube_node_status_capacity", "node", node.Name, "resource", "cpu", "unit", "core")
		add("gauge", constant(node.MemoryBytes), "__name__", "kube_node_status_capacity", "node", node.Name, "resource", "memory", "unit", "byte")
		if node.GPUs > 0 {
			add("gauge", constant(node.GPUs), "__name__", "kube_node_status_capacity", "node", node.Name, "resource", "nvidia_com_gpu", "unit", "integer")
		}
		add("gauge", constant(1), "__name__", "up", "job", "node-exporter", "instance", node.Name+":9100")
	}

	for i, ns := range c.Namespaces {
		add("gauge", constant(ns.Marker), "__name__", "tollgate_demo_namespace_marker", "namespace", ns.Name)
		nsLabels := []string{"__name__", "kube_namespace_labels", "namespace", ns.Name, "label_environment", ns.Environment}
		if ns.Team != "" {
			nsLabels = append(nsLabels, "label_team", ns.Team, "label_cost_center", ns.CostCenter)
		}
		add("gauge", constant(1), nsLabels...)

		for j, svc := range ns.Services {
			pod := fmt.Sprintf("%s-%x", svc, 0x5f3a+i*16+j)
			node := c.Nodes[(i+j)%len(c.Nodes)]
			gpu := svc == "indexer" && c.gpuNode() != nil
			if gpu {
				node = *c.gpuNode()
			}
			cpuReq, memReq := 0.5*float64(j+1), float64(1<<30)*float64(j+1)
			podLabels := []string{"namespace", ns.Name, "pod", pod}
			// Deployments own their pods through a ReplicaSet, as in a
			// real cluster; the cost engine follows kube_replicaset_owner.
			rs := fmt.Sprintf("%s-%x", svc, 0x6d4cf56d+i*16+j)
			add("gauge", constant(1), "__name__", "kube_replicaset_owner", "namespace", ns.Name, "replicaset", rs, "owner_kind", "Deployment", "owner_name", svc, "owner_is_controller", "true")
			add("gauge", constant(1), append([]string{"__name__", "kube_pod_info", "node", node.Name, "created_by_kind", "ReplicaSet", "created_by_name", rs}, podLabels...)...)
			add("gauge", constant(1), append([]string{"__name__", "kube_pod_labels", "label_app", svc}, podLabels...)...)
			add("gauge", constant(1), append([]string{"__name__", "kube_pod_container_status_running", "container", svc}, podLabels...)...)
			add("gauge", constant(cpuReq), append([]string{"__name__", "kube_pod_container_resource_requests", "container", svc, "node", node.Name, "resource", "cpu", "unit", "core"}, podLabels...)...)
			add("gauge", constant(memReq), append([]string{"__name__", "kube_pod_container_resource_requests", "container", svc, "node", node.Name, "resource", "memory", "unit", "byte"}, podLabels...)...)
			if gpu {
				add("gauge", constant(1), append([]string{"__name__", "kube_pod_container_resource_requests", "container", svc, "node", node.Name, "resource", "nvidia_com_gpu", "unit", "integer"}, podLabels...)...)
			}
			// Usage swings around the request, so that both max(request,
			// usage) branches are exercised by the cost engine.
			add("counter", counter(cpuReq*0.9, 0.4, 3*time.Hour), append([]string{"__name__", "container_cpu_usage_seconds_total", "container", svc, "node", node.Name}, podLabels...)...)
			add("gauge", wave(memReq*0.95, 0.2, 90*time.Minute), append([]string{"__name__", "container_memory_working_set_bytes", "container", svc, "node", node.Name}, podLabels...)...)

			// RED metrics. The total rate is a multiple of the namespace's
			// marker; 1% of requests fail with 500 and 2% with 404.
			rps := ns.Marker * float64(j+1)
			for _, code := range []struct {
				code  string
				share float64
			}{{"200", 0.97}, {"404", 0.02}, {"500", 0.01}} {
				add("counter", counter(rps*code.share, 0.3, time.Hour), "__name__", "http_requests_total",
					"namespace", ns.Name, "service", svc, "pod", pod, "method", "GET", "code", code.code)
			}
			// Latency: the share of requests faster than each bound follows
			// an exponential distribution with a per-service mean.
			mean := 0.04 * float64(j+1)
			for _, le := range append(Buckets(), math.Inf(1)) {
				share := 1 - math.Exp(-le/mean)
				add("counter", counter(rps*share, 0.3, time.Hour), "__name__", "http_request_duration_seconds_bucket",
					"namespace", ns.Name, "service", svc, "pod", pod, "le", formatLe(le))
			}
			add("counter", counter(rps*mean, 0.3, time.Hour), "__name__", "http_request_duration_seconds_sum", "namespace", ns.Name, "service", svc, "pod", pod)
			add("counter", counter(rps, 0.3, time.Hour), "__name__", "http_request_duration_seconds_count", "namespace", ns.Name, "service", svc, "pod", pod)
		}
	}
	slices.SortFunc(out, func(a, b Series) int { return labels.Compare(a.Labels, b.Labels) })
	return out
}

func formatLe(le float64) string {
	if math.IsInf(le, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(le, 'f', -1, 64)
}

// wave is a gauge oscillating by ±amp (relative) around mean.
func wave(mean, amp float64, period time.Duration) func(time.Time) float64 {
	return func(t time.Time) float64 {
		x := 2 * math.Pi * t.Sub(epoch).Seconds() / period.Seconds()
		return mean * (1 + amp*math.Sin(x))
	}
}

// counter is the integral since the epoch of a rate oscillating by ±amp
// (relative) around mean per second. amp < 1 keeps it monotonic.
func counter(mean, amp float64, period time.Duration) func(time.Time) float64 {
	p := period.Seconds()
	return func(t time.Time) float64 {
		s := t.Sub(epoch).Seconds()
		return mean * (s + amp*p/(2*math.Pi)*(1-math.Cos(2*math.Pi*s/p)))
	}
}
