package source

import (
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tollgate-dev/tollgate/cost/allocation"
	"github.com/tollgate-dev/tollgate/cost/pricing"
	"github.com/tollgate-dev/tollgate/promapi"
)

// maxParallelQueries bounds the queries of a chunk in flight at once, so
// that one computation does not take every query slot of Prometheus.
const maxParallelQueries = 4

// chunk is the steps of a window that one round of range queries reads.
type chunk struct {
	start time.Time // the window's start
	res   time.Duration
	from  int // index of the chunk's first step in the window
	n     int // steps in the chunk
	// Point i is evaluated at the end of step i.
	firstEval, lastEval time.Time
}

func newChunk(w Window, from, to int) chunk {
	return chunk{start: w.Start, res: w.Resolution, from: from, n: to - from,
		firstEval: w.Start.Add(time.Duration(from+1) * w.Resolution), lastEval: w.Start.Add(time.Duration(to) * w.Resolution)}
}

// stepStart is the start of the chunk's step i.
func (c chunk) stepStart(i int) time.Time { return c.start.Add(time.Duration(c.from+i) * c.res) }

// points returns a series' values by step index within the chunk, -1
// where it has none.
func (c chunk) points(s promapi.Series) []float64 {
	out := make([]float64, c.n)
	for i := range out {
		out[i] = -1
	}
	for _, v := range s.Values {
		i := int(v.Time().Sub(c.firstEval) / c.res)
		if i < 0 || i >= c.n {
			continue
		}
		x, err := v.Float()
		if err != nil {
			continue
		}
		out[i] = x
	}
	return out
}

// results are the series of every query of a chunk, by query name.
type results map[string][]promapi.Series

func (p *Prometheus) loadChunk(ctx context.Context, acc *allocation.Accumulator, c chunk, queries []NamedQuery, labels *Labels) error {
	res, err := p.fetch(ctx, c, queries)
	if err != nil {
		return err
	}
	res.addLabels(labels)
	nodes := p.addNodes(acc, res.nodes(c, p.clusterOf))
	pods := res.pods(p.clusterOf)
	p.addUnseenNodes(acc, pods)
	ctrs := p.addContainers(acc, res.containers(c, p.clusterOf), pods)
	return addSteps(acc, c, nodes, ctrs)
}

// fetch runs the chunk's queries, maxParallelQueries at a time. The first
// failure cancels the others: the chunk is useless without any one of
// them, and the queries are expensive.
func (p *Prometheus) fetch(ctx context.Context, c chunk, queries []NamedQuery) (results, error) {
	out := make([][]promapi.Series, len(queries))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(maxParallelQueries)
	for i, q := range queries {
		g.Go(func() error {
			ss, err := p.api.QueryRange(ctx, q.PromQL, c.firstEval, c.lastEval, c.res)
			if err != nil {
				return fmt.Errorf("querying %s: %w", q.Name, err)
			}
			out[i] = ss
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	res := make(results, len(queries))
	for i, q := range queries {
		res[q.Name] = out[i]
	}
	return res, nil
}

// addLabels records the namespaces' and pods' labels: the latest value in
// the window wins.
func (res results) addLabels(labels *Labels) {
	for _, s := range res[qNSLabels] {
		ns := s.Metric["namespace"]
		if ns != "" {
			labels.Namespaces[ns] = stripLabels(s.Metric)
		}
	}
	for _, s := range res[qPodLabels] {
		ns, pod := s.Metric["namespace"], s.Metric["pod"]
		if ns != "" && pod != "" {
			labels.Pods[ns+"/"+pod] = stripLabels(s.Metric)
		}
	}
}

// nodeData is a node's capacity and running time per step of a chunk,
// and its latest labels.
type nodeData struct {
	cpu, ram, gpu, running []float64
	labels                 map[string]string
}

// nodeKey names a node within its cluster.
type nodeKey struct{ cluster, name string }

// nodes reads the nodes' series, by cluster and name.
func (res results) nodes(c chunk, clusterOf func(map[string]string) string) map[nodeKey]*nodeData {
	nodes := map[nodeKey]*nodeData{}
	get := func(m map[string]string) *nodeData {
		k := nodeKey{clusterOf(m), m["node"]}
		d := nodes[k]
		if d == nil {
			d = &nodeData{}
			nodes[k] = d
		}
		return d
	}
	for _, s := range res[qNodeCapacity] {
		d := get(s.Metric)
		pts := c.points(s)
		switch s.Metric["resource"] {
		case "cpu":
			d.cpu = pts
		case "memory":
			d.ram = pts
		case "nvidia_com_gpu":
			d.gpu = pts
		}
	}
	for _, s := range res[qNodeRunning] {
		get(s.Metric).running = c.points(s)
	}
	for _, s := range res[qNodeLabels] {
		get(s.Metric).labels = s.Metric
	}
	return nodes
}

// sampledNode is a registered node and its series.
type sampledNode struct {
	idx int32
	d   *nodeData
}

// addNodes prices the nodes from their latest labels and capacity in the
// chunk and registers them.
func (p *Prometheus) addNodes(acc *allocation.Accumulator, nodes map[nodeKey]*nodeData) []sampledNode {
	var out []sampledNode
	for k, d := range nodes {
		if k.name == "" {
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
		idx := acc.AddNode(allocation.Node{Name: k.name, Cluster: k.cluster, InstanceType: spec.InstanceType, Region: spec.Region,
			CapacityType: capacity, Provider: price.Provider, PriceSource: price.Source, CPUPrice: price.CPU, RAMPrice: price.RAM, GPUPrice: price.GPU, ListFactor: price.ListFactor})
		out = append(out, sampledNode{idx, d})
	}
	return out
}

// podData is where a pod ran and what it is charged to.
type podData struct{ cluster, node, kind, controller string }

// pods reads the pods' nodes and controllers, by "namespace/pod". A
// Deployment's pods are created by one ReplicaSet per rollout; they are
// charged to the Deployment, as OpenCost does, so that a rollout does not
// start a new controller row. Keys are "cluster/namespace/pod": the same
// namespace and pod names in two clusters are two pods.
func (res results) pods(clusterOf func(map[string]string) string) map[[3]string]podData {
	owners := map[[3]string][2]string{}
	for _, s := range res[qReplicaSets] {
		m := s.Metric
		if m["owner_kind"] != "" && m["owner_kind"] != "<none>" && m["owner_name"] != "" && m["owner_name"] != "<none>" {
			owners[[3]string{clusterOf(m), m["namespace"], m["replicaset"]}] = [2]string{strings.ToLower(m["owner_kind"]), m["owner_name"]}
		}
	}
	pods := map[[3]string]podData{}
	for _, s := range res[qPodInfo] {
		m := s.Metric
		cl := clusterOf(m)
		pd := podData{cluster: cl, node: m["node"], kind: strings.ToLower(m["created_by_kind"]), controller: m["created_by_name"]}
		if o, ok := owners[[3]string{cl, m["namespace"], pd.controller}]; ok && pd.kind == "replicaset" {
			pd.kind, pd.controller = o[0], o[1]
		}
		pods[[3]string{cl, m["namespace"], m["pod"]}] = pd
	}
	return pods
}

// addUnseenNodes registers the nodes pods ran on that kube-state-metrics
// says nothing about, at the default prices: such a node then costs what
// was allocated on it.
func (p *Prometheus) addUnseenNodes(acc *allocation.Accumulator, pods map[[3]string]podData) {
	for _, pd := range pods {
		if pd.node != "" && !acc.HasNode(pd.cluster, pd.node) {
			price := p.opts.Prices.Price(pricing.Spec{})
			acc.AddNode(allocation.Node{Name: pd.node, Cluster: pd.cluster, CapacityType: "on_demand", PriceSource: "default prices (no kube_node_* series)",
				CPUPrice: price.CPU, RAMPrice: price.RAM, GPUPrice: price.GPU, ListFactor: 1})
		}
	}
}

// ctrData is a container's running time, requests and usage per step.
type ctrData struct {
	running, cpuReq, ramReq, gpuReq, cpuUse, ramUse []float64
}

// containers reads the containers' series, by cluster, namespace, pod
// and name.
func (res results) containers(c chunk, clusterOf func(map[string]string) string) map[[4]string]*ctrData {
	ctrs := map[[4]string]*ctrData{}
	get := func(m map[string]string) *ctrData {
		k := [4]string{clusterOf(m), m["namespace"], m["pod"], m["container"]}
		d := ctrs[k]
		if d == nil {
			d = &ctrData{}
			ctrs[k] = d
		}
		return d
	}
	for _, s := range res[qRunning] {
		get(s.Metric).running = c.points(s)
	}
	for _, s := range res[qRequests] {
		d := get(s.Metric)
		switch s.Metric["resource"] {
		case "cpu":
			d.cpuReq = c.points(s)
		case "memory":
			d.ramReq = c.points(s)
		case "nvidia_com_gpu":
			d.gpuReq = c.points(s)
		}
	}
	for _, s := range res[qCPUUsage] {
		get(s.Metric).cpuUse = c.points(s)
	}
	for _, s := range res[qRAMUsage] {
		get(s.Metric).ramUse = c.points(s)
	}
	return ctrs
}

// sampledContainer is a registered container and its series.
type sampledContainer struct {
	idx int32
	d   *ctrData
}

// addContainers registers the containers that ran in the chunk.
func (p *Prometheus) addContainers(acc *allocation.Accumulator, ctrs map[[4]string]*ctrData, pods map[[3]string]podData) []sampledContainer {
	var out []sampledContainer
	for k, d := range ctrs {
		if d.running == nil {
			continue // usage without a running container (or the reverse) has no time to charge
		}
		pd := pods[[3]string{k[0], k[1], k[2]}]
		idx := acc.AddContainer(allocation.Container{Cluster: k[0], Node: pd.node, Namespace: k[1], Pod: k[2], Container: k[3],
			Controller: pd.controller, ControllerKind: pd.kind})
		out = append(out, sampledContainer{idx, d})
	}
	return out
}

// addSteps feeds the chunk to the accumulator step by step. Running
// times are counted in subquery steps, perStep of them to a step.
func addSteps(acc *allocation.Accumulator, c chunk, nodes []sampledNode, ctrs []sampledContainer) error {
	perStep := float64(c.res / SubqueryStep(c.res))
	hours := c.res.Hours()
	var nodeSamples []allocation.NodeSample
	var samples []allocation.ContainerSample
	for i := range c.n {
		nodeSamples, samples = nodeSamples[:0], samples[:0]
		for _, n := range nodes {
			d := n.d
			if d.cpu == nil || d.cpu[i] < 0 {
				continue
			}
			h := hours
			if d.running != nil {
				h = hours * min(1, val(d.running, i)/perStep)
			}
			nodeSamples = append(nodeSamples, allocation.NodeSample{Node: n.idx, Hours: h, CPUCores: val(d.cpu, i), RAMBytes: val(d.ram, i), GPUs: val(d.gpu, i)})
		}
		for _, e := range ctrs {
			run := val(e.d.running, i)
			if run <= 0 {
				continue
			}
			samples = append(samples, allocation.ContainerSample{Container: e.idx, Hours: hours * min(1, run/perStep),
				CPURequest: val(e.d.cpuReq, i), CPUUsage: val(e.d.cpuUse, i), RAMRequest: val(e.d.ramReq, i), RAMUsage: val(e.d.ramUse, i), GPURequest: val(e.d.gpuReq, i)})
		}
		if err := acc.AddStep(c.stepStart(i), hours, nodeSamples, samples); err != nil {
			return err
		}
	}
	return nil
}
