// Package source reads the cost engine's inputs from a Prometheus-compatible
// API: kube-state-metrics for nodes, pods, requests and labels, cAdvisor
// for usage. Every query aggregates at the resolution in PromQL (sum by,
// avg_over_time, rate, subqueries), so one value per series and step
// travels, never raw samples. docs/cost.md lists the queries; Queries
// returns them for a resolution.
package source

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/cost/allocation"
	"github.com/tollgate-dev/tollgate/cost/pricing"
)

// Options configure a Prometheus source.
type Options struct {
	// URL is the base URL of the Prometheus API (a path prefix is kept).
	URL *url.URL
	// Transport sends the requests; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// OrgID, when set, is sent as X-Scope-OrgID (Mimir, Cortex).
	OrgID string
	// Cluster names the cluster in allocations.
	Cluster string
	// Prices prices the nodes.
	Prices *pricing.Catalogue
	// ChunkSteps caps the steps of one range query (default: a day's worth).
	ChunkSteps int
	Logger     *slog.Logger
}

// Prometheus reads cost inputs from one Prometheus API.
type Prometheus struct {
	opts   Options
	client *http.Client
}

// New builds a source.
func New(opts Options) *Prometheus {
	if opts.Transport == nil {
		opts.Transport = http.DefaultTransport
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Prometheus{opts: opts, client: &http.Client{Transport: opts.Transport}}
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

// Queries returns every query sent for a resolution, evaluated with
// query_range at step = resolution, each point covering the step before it.
func Queries(resolution time.Duration) []NamedQuery {
	r, s := promDuration(resolution), promDuration(SubqueryStep(resolution))
	nodeLabels := strings.Join(append(append(append([]string{"node"}, instanceTypeLabels...), regionLabels...), capacityTypeLabels...), ", ")
	return []NamedQuery{
		{qNodeCapacity, `max by (node, resource) (avg_over_time(kube_node_status_capacity{resource=~"cpu|memory|nvidia_com_gpu"}[` + r + `]))`},
		{qNodeRunning, `count_over_time((max by (node) (kube_node_status_capacity{resource="cpu"}))[` + r + `:` + s + `])`},
		{qNodeLabels, `max by (` + nodeLabels + `) (max_over_time(kube_node_labels[` + r + `]))`},
		{qPodInfo, `max by (namespace, pod, node, created_by_kind, created_by_name) (max_over_time(kube_pod_info[` + r + `]))`},
		{qRunning, `count_over_time((max by (namespace, pod, container) (kube_pod_container_status_running) == 1)[` + r + `:` + s + `])`},
		{qRequests, `sum by (namespace, pod, container, resource) (avg_over_time(kube_pod_container_resource_requests{resource=~"cpu|memory|nvidia_com_gpu"}[` + r + `]))`},
		{qCPUUsage, `sum by (namespace, pod, container) (rate(container_cpu_usage_seconds_total{container!="", container!="POD"}[` + r + `]))`},
		{qRAMUsage, `sum by (namespace, pod, container) (avg_over_time(container_memory_working_set_bytes{container!="", container!="POD"}[` + r + `]))`},
		{qNSLabels, `max_over_time(kube_namespace_labels[` + r + `])`},
		{qPodLabels, `max_over_time(kube_pod_labels[` + r + `])`},
		{qReplicaSets, `max by (namespace, replicaset, owner_kind, owner_name) (max_over_time(kube_replicaset_owner[` + r + `]))`},
	}
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
	chunk := p.opts.ChunkSteps
	if chunk <= 0 {
		chunk = max(1, int(24*time.Hour/w.Resolution))
	}
	chunk = min(chunk, 10_000) // Prometheus refuses more than 11,000 points per series
	total := (steps + chunk - 1) / chunk
	queries := Queries(w.Resolution)
	for c := 0; c < total; c++ {
		from := c * chunk
		to := min(steps, from+chunk)
		if err := p.loadChunk(ctx, acc, w, from, to, queries, &labels); err != nil {
			return labels, err
		}
		if progress != nil {
			progress(c+1, total)
		}
	}
	return labels, nil
}

type series struct {
	Metric map[string]string `json:"metric"`
	Values [][2]any          `json:"values"`
}

// point returns the series' values by step index within the chunk.
func (s series) points(first time.Time, res time.Duration, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = -1
	}
	for _, v := range s.Values {
		ts, ok := v[0].(float64)
		str, ok2 := v[1].(string)
		if !ok || !ok2 {
			continue
		}
		t := time.UnixMilli(int64(ts*1000 + 0.5))
		i := int(t.Sub(first) / res)
		if i < 0 || i >= n {
			continue
		}
		x, err := strconv.ParseFloat(str, 64)
		if err != nil {
			continue
		}
		out[i] = x
	}
	return out
}

func (p *Prometheus) loadChunk(ctx context.Context, acc *allocation.Accumulator, w Window, from, to int, queries []NamedQuery, labels *Labels) error {
	res := w.Resolution
	n := to - from
	// Point i is evaluated at the end of step i.
	firstEval := w.Start.Add(time.Duration(from+1) * res)
	lastEval := w.Start.Add(time.Duration(to) * res)
	results := make(map[string][]series, len(queries))
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, len(queries))
	sem := make(chan struct{}, 4)
	for _, q := range queries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			ss, err := p.queryRange(ctx, q.PromQL, firstEval, lastEval, res)
			if err != nil {
				errs <- fmt.Errorf("querying %s: %w", q.Name, err)
				return
			}
			mu.Lock()
			results[q.Name] = ss
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}

	sub := SubqueryStep(res)
	perStep := float64(res / sub)
	hours := res.Hours()

	// Labels: the latest value in the window wins.
	for _, s := range results[qNSLabels] {
		ns := s.Metric["namespace"]
		if ns != "" {
			labels.Namespaces[ns] = stripLabels(s.Metric)
		}
	}
	for _, s := range results[qPodLabels] {
		ns, pod := s.Metric["namespace"], s.Metric["pod"]
		if ns != "" && pod != "" {
			labels.Pods[ns+"/"+pod] = stripLabels(s.Metric)
		}
	}

	// Nodes: capacity per step, hours per step, prices from the latest
	// labels and capacity of the chunk.
	type nodeData struct {
		cpu, ram, gpu, running []float64
		labels                 map[string]string
	}
	nodes := map[string]*nodeData{}
	node := func(name string) *nodeData {
		d := nodes[name]
		if d == nil {
			d = &nodeData{}
			nodes[name] = d
		}
		return d
	}
	for _, s := range results[qNodeCapacity] {
		d := node(s.Metric["node"])
		pts := s.points(firstEval, res, n)
		switch s.Metric["resource"] {
		case "cpu":
			d.cpu = pts
		case "memory":
			d.ram = pts
		case "nvidia_com_gpu":
			d.gpu = pts
		}
	}
	for _, s := range results[qNodeRunning] {
		node(s.Metric["node"]).running = s.points(firstEval, res, n)
	}
	for _, s := range results[qNodeLabels] {
		node(s.Metric["node"]).labels = s.Metric
	}
	nodeIdx := map[string]int32{}
	for name, d := range nodes {
		if name == "" {
			continue
		}
		spec := pricing.Spec{InstanceType: first(d.labels, instanceTypeLabels), Region: first(d.labels, regionLabels)}
		capType := strings.ToLower(first(d.labels, capacityTypeLabels))
		spec.Spot = capType == "spot" || capType == "true"
		spec.CPUCores, spec.RAMBytes, spec.GPUs = last(d.cpu), last(d.ram), last(d.gpu)
		price := p.opts.Prices.Price(spec)
		capacity := "on_demand"
		if spec.Spot {
			capacity = "spot"
		}
		nodeIdx[name] = acc.AddNode(allocation.Node{Name: name, Cluster: p.opts.Cluster, InstanceType: spec.InstanceType, Region: spec.Region,
			CapacityType: capacity, Provider: price.Provider, PriceSource: price.Source, CPUPrice: price.CPU, RAMPrice: price.RAM, GPUPrice: price.GPU, ListFactor: price.ListFactor})
	}

	// Containers.
	type podData struct{ node, kind, controller string }
	// A Deployment's pods are created by one ReplicaSet per rollout; they
	// are charged to the Deployment, as OpenCost does, so that a rollout
	// does not start a new controller row.
	owners := map[string][2]string{}
	for _, s := range results[qReplicaSets] {
		m := s.Metric
		if m["owner_kind"] != "" && m["owner_kind"] != "<none>" && m["owner_name"] != "" && m["owner_name"] != "<none>" {
			owners[m["namespace"]+"/"+m["replicaset"]] = [2]string{strings.ToLower(m["owner_kind"]), m["owner_name"]}
		}
	}
	pods := map[string]podData{}
	for _, s := range results[qPodInfo] {
		m := s.Metric
		pd := podData{node: m["node"], kind: strings.ToLower(m["created_by_kind"]), controller: m["created_by_name"]}
		if o, ok := owners[m["namespace"]+"/"+pd.controller]; ok && pd.kind == "replicaset" {
			pd.kind, pd.controller = o[0], o[1]
		}
		pods[m["namespace"]+"/"+m["pod"]] = pd
	}
	// A pod on a node kube-state-metrics says nothing about is charged at
	// the default prices; the node then costs what was allocated on it.
	for _, pd := range pods {
		if pd.node != "" && !acc.HasNode(pd.node) {
			price := p.opts.Prices.Price(pricing.Spec{})
			acc.AddNode(allocation.Node{Name: pd.node, Cluster: p.opts.Cluster, CapacityType: "on_demand", PriceSource: "default prices (no kube_node_* series)",
				CPUPrice: price.CPU, RAMPrice: price.RAM, GPUPrice: price.GPU, ListFactor: 1})
		}
	}
	type ctr struct {
		running, cpuReq, ramReq, gpuReq, cpuUse, ramUse []float64
	}
	ctrs := map[[3]string]*ctr{}
	get := func(m map[string]string) *ctr {
		k := [3]string{m["namespace"], m["pod"], m["container"]}
		c := ctrs[k]
		if c == nil {
			c = &ctr{}
			ctrs[k] = c
		}
		return c
	}
	for _, s := range results[qRunning] {
		get(s.Metric).running = s.points(firstEval, res, n)
	}
	for _, s := range results[qRequests] {
		c := get(s.Metric)
		switch s.Metric["resource"] {
		case "cpu":
			c.cpuReq = s.points(firstEval, res, n)
		case "memory":
			c.ramReq = s.points(firstEval, res, n)
		case "nvidia_com_gpu":
			c.gpuReq = s.points(firstEval, res, n)
		}
	}
	for _, s := range results[qCPUUsage] {
		get(s.Metric).cpuUse = s.points(firstEval, res, n)
	}
	for _, s := range results[qRAMUsage] {
		get(s.Metric).ramUse = s.points(firstEval, res, n)
	}
	type entry struct {
		idx int32
		c   *ctr
	}
	var entries []entry
	for k, c := range ctrs {
		if c.running == nil {
			continue // usage without a running container (or the reverse) has no time to charge
		}
		pd := pods[k[0]+"/"+k[1]]
		idx := acc.AddContainer(allocation.Container{Cluster: p.opts.Cluster, Node: pd.node, Namespace: k[0], Pod: k[1], Container: k[2],
			Controller: pd.controller, ControllerKind: pd.kind})
		entries = append(entries, entry{idx, c})
	}

	var nodeSamples []allocation.NodeSample
	var samples []allocation.ContainerSample
	for i := range n {
		nodeSamples, samples = nodeSamples[:0], samples[:0]
		for name, d := range nodes {
			idx, ok := nodeIdx[name]
			if !ok || d.cpu == nil || d.cpu[i] < 0 {
				continue
			}
			h := hours
			if d.running != nil {
				h = hours * min(1, val(d.running, i)/perStep)
			}
			nodeSamples = append(nodeSamples, allocation.NodeSample{Node: idx, Hours: h, CPUCores: val(d.cpu, i), RAMBytes: val(d.ram, i), GPUs: val(d.gpu, i)})
		}
		for _, e := range entries {
			run := val(e.c.running, i)
			if run <= 0 {
				continue
			}
			samples = append(samples, allocation.ContainerSample{Container: e.idx, Hours: hours * min(1, run/perStep),
				CPURequest: val(e.c.cpuReq, i), CPUUsage: val(e.c.cpuUse, i), RAMRequest: val(e.c.ramReq, i), RAMUsage: val(e.c.ramUse, i), GPURequest: val(e.c.gpuReq, i)})
		}
		if err := acc.AddStep(w.Start.Add(time.Duration(from+i)*res), hours, nodeSamples, samples); err != nil {
			return err
		}
	}
	return nil
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

type apiResponse struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string   `json:"resultType"`
		Result     []series `json:"result"`
	} `json:"data"`
}

func (p *Prometheus) queryRange(ctx context.Context, q string, start, end time.Time, step time.Duration) ([]series, error) {
	u := *p.opts.URL
	u.Path = strings.TrimSuffix(u.Path, "/") + "/api/v1/query_range"
	form := url.Values{
		"query": {q},
		"start": {strconv.FormatInt(start.Unix(), 10)},
		"end":   {strconv.FormatInt(end.Unix(), 10)},
		"step":  {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if p.opts.OrgID != "" {
		req.Header.Set("X-Scope-OrgID", p.opts.OrgID)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r apiResponse
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("Prometheus answered %s with something that is not its API's JSON: %v %s", resp.Status, err, b)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("Prometheus answered %s: %s: %s", resp.Status, r.ErrorType, r.Error)
	}
	if r.Data.ResultType != "matrix" {
		return nil, fmt.Errorf("Prometheus returned a %s, not a matrix", r.Data.ResultType)
	}
	return r.Data.Result, nil
}
