// Package source reads the cost engine's inputs from a Prometheus-compatible
// API: kube-state-metrics for nodes, pods, requests and labels, cAdvisor
// for usage. Every query aggregates at the resolution in PromQL (sum by,
// avg_over_time, rate, subqueries), so one value per series and step
// travels, never raw samples. docs/cost.md lists the queries; Queries
// returns them for a resolution.
package source

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/cost/allocation"
	"github.com/tollgate-dev/tollgate/cost/pricing"
	"github.com/tollgate-dev/tollgate/promapi"
)

// Options configure a Prometheus source.
type Options struct {
	// URL is the base URL of the Prometheus API (a path prefix is kept).
	URL *url.URL
	// Transport sends the requests; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// OrgID, when set, is sent as X-Scope-OrgID (Mimir, Cortex).
	OrgID string
	// Cluster names the cluster of series without ClusterLabel: today's
	// single-cluster behaviour.
	Cluster string
	// ClusterLabel is the label that names a series' cluster in a backend
	// holding several clusters (Thanos, Mimir); "" means "cluster".
	ClusterLabel string
	// Prices prices the nodes.
	Prices *pricing.Catalogue
	// ChunkSteps caps the steps of one range query (default: a day's worth).
	ChunkSteps int
	Logger     *slog.Logger
}

// Prometheus reads cost inputs from one Prometheus API.
type Prometheus struct {
	opts Options
	api  *promapi.Client
}

// New builds a source.
func New(opts Options) *Prometheus {
	if opts.Transport == nil {
		opts.Transport = http.DefaultTransport
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ClusterLabel == "" {
		opts.ClusterLabel = DefaultClusterLabel
	}
	api := promapi.New(promapi.Options{URL: opts.URL, Client: &http.Client{Transport: opts.Transport}, OrgID: opts.OrgID,
		// An answer holds every container of the cluster for a chunk of
		// at most a day; its size follows the cluster, which the admin
		// runs, and is bounded by cost.max_query_steps, not by bytes.
		MaxBodyBytes: -1})
	return &Prometheus{opts: opts, api: api}
}

// Labels are the Kubernetes labels seen in the window, names sanitised
// without the label_ prefix: by namespace, and by "namespace/pod".
type Labels struct {
	Namespaces map[string]map[string]string
	Pods       map[string]map[string]string
}

// Node label names (as kube-state-metrics exports them) that say a node's
// instance type, region and capacity type, in order of preference.
var (
	instanceTypeLabels = []string{"label_node_kubernetes_io_instance_type", "label_beta_kubernetes_io_instance_type"}
	regionLabels       = []string{"label_topology_kubernetes_io_region", "label_failure_domain_beta_kubernetes_io_region"}
	capacityTypeLabels = []string{"label_karpenter_sh_capacity_type", "label_eks_amazonaws_com_capacity_type", "label_cloud_google_com_gke_spot",
		"label_cloud_google_com_gke_preemptible", "label_kubernetes_azure_com_scalesetpriority"}
)

// SubqueryStep is the resolution of the subqueries that measure how long
// pods and nodes ran in a step: 1m for resolutions up to 15m, else 5m.
func SubqueryStep(resolution time.Duration) time.Duration {
	if resolution <= 15*time.Minute {
		return time.Minute
	}
	return 5 * time.Minute
}

// Query names.
const (
	qNodeCapacity = "node capacity"
	qNodeRunning  = "node running"
	qNodeLabels   = "node labels"
	qPodInfo      = "pod info"
	qRunning      = "container running"
	qRequests     = "container requests"
	qCPUUsage     = "container cpu usage"
	qRAMUsage     = "container memory usage"
	qNSLabels     = "namespace labels"
	qPodLabels    = "pod labels"
	qReplicaSets  = "replica set owners"
)

// NamedQuery is one PromQL query the source sends for every chunk.
type NamedQuery struct{ Name, PromQL string }

// DefaultClusterLabel is the label naming a series' cluster unless
// configured otherwise (cost.cluster_label).
const DefaultClusterLabel = "cluster"

// Queries returns every query sent for a resolution, with the default
// cluster label.
func Queries(resolution time.Duration) []NamedQuery {
	return QueriesFor(resolution, DefaultClusterLabel)
}

// QueriesFor returns every query sent for a resolution, evaluated with
// query_range at step = resolution, each point covering the step before
// it. Every aggregation keeps the cluster label, so that a backend holding
// several clusters answers per cluster; a series without it keeps an
// empty one.
func QueriesFor(resolution time.Duration, clusterLabel string) []NamedQuery {
	r, s, c := promDuration(resolution), promDuration(SubqueryStep(resolution)), clusterLabel
	nodeLabels := strings.Join(append(append(append([]string{c, "node"}, instanceTypeLabels...), regionLabels...), capacityTypeLabels...), ", ")
	return []NamedQuery{
		{qNodeCapacity, `max by (` + c + `, node, resource) (avg_over_time(kube_node_status_capacity{resource=~"cpu|memory|nvidia_com_gpu"}[` + r + `]))`},
		{qNodeRunning, `count_over_time((max by (` + c + `, node) (kube_node_status_capacity{resource="cpu"}))[` + r + `:` + s + `])`},
		{qNodeLabels, `max by (` + nodeLabels + `) (max_over_time(kube_node_labels[` + r + `]))`},
		{qPodInfo, `max by (` + c + `, namespace, pod, node, created_by_kind, created_by_name) (max_over_time(kube_pod_info[` + r + `]))`},
		{qRunning, `count_over_time((max by (` + c + `, namespace, pod, container) (kube_pod_container_status_running) == 1)[` + r + `:` + s + `])`},
		{qRequests, `sum by (` + c + `, namespace, pod, container, resource) (avg_over_time(kube_pod_container_resource_requests{resource=~"cpu|memory|nvidia_com_gpu"}[` + r + `]))`},
		{qCPUUsage, `sum by (` + c + `, namespace, pod, container) (rate(container_cpu_usage_seconds_total{container!="", container!="POD"}[` + r + `]))`},
		{qRAMUsage, `sum by (` + c + `, namespace, pod, container) (avg_over_time(container_memory_working_set_bytes{container!="", container!="POD"}[` + r + `]))`},
		{qNSLabels, `max_over_time(kube_namespace_labels[` + r + `])`},
		{qPodLabels, `max_over_time(kube_pod_labels[` + r + `])`},
		{qReplicaSets, `max by (` + c + `, namespace, replicaset, owner_kind, owner_name) (max_over_time(kube_replicaset_owner[` + r + `]))`},
	}
}

// clusterOf is the cluster a series belongs to: its cluster label, or the
// configured cluster.
func (p *Prometheus) clusterOf(m map[string]string) string {
	if c := m[p.opts.ClusterLabel]; c != "" {
		return c
	}
	return p.opts.Cluster
}

func promDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

// Window is the time range to read, cut into steps of Resolution. Start
// and the steps must be multiples of the subquery step.
type Window struct {
	Start, End time.Time
	Resolution time.Duration
}

// Steps is the number of whole steps in the window.
func (w Window) Steps() int { return int(w.End.Sub(w.Start) / w.Resolution) }

// Load reads the window chunk by chunk into acc, calling progress after
// each chunk, and returns the labels seen.
func (p *Prometheus) Load(ctx context.Context, acc *allocation.Accumulator, w Window, progress func(done, total int)) (Labels, error) {
	labels := Labels{Namespaces: map[string]map[string]string{}, Pods: map[string]map[string]string{}}
	steps := w.Steps()
	if steps <= 0 {
		return labels, nil
	}
	size := p.opts.ChunkSteps
	if size <= 0 {
		size = max(1, int(24*time.Hour/w.Resolution))
	}
	size = min(size, 10_000) // Prometheus refuses more than 11,000 points per series
	total := (steps + size - 1) / size
	queries := QueriesFor(w.Resolution, p.opts.ClusterLabel)
	for c := 0; c < total; c++ {
		from := c * size
		if err := p.loadChunk(ctx, acc, newChunk(w, from, min(steps, from+size)), queries, &labels); err != nil {
			return labels, err
		}
		if progress != nil {
			progress(c+1, total)
		}
	}
	return labels, nil
}

// val is the value at step i, 0 when missing.
func val(pts []float64, i int) float64 {
	if pts == nil || pts[i] < 0 {
		return 0
	}
	return pts[i]
}

func last(pts []float64) float64 {
	for i := len(pts) - 1; i >= 0; i-- {
		if pts[i] >= 0 {
			return pts[i]
		}
	}
	return 0
}

func first(m map[string]string, names []string) string {
	for _, n := range names {
		if v := m[n]; v != "" {
			return v
		}
	}
	return ""
}

func stripLabels(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if name, ok := strings.CutPrefix(k, "label_"); ok {
			out[name] = v
		}
	}
	return out
}
