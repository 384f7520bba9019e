// Package metrics exposes the cost engine's figures as tollgate_cost_*
// gauges on Tollgate's /metrics, so that Prometheus scrapes them and
// Grafana charts spend through the gateway: the namespace gauges carry a
// namespace label, so tenants see their own; the cost center and node
// gauges have none, so only admins do.
//
// The gauges are the average hourly cost over the last hour. A scrape
// recomputes them when they are older than the interval; otherwise it
// serves the last figures, so scrapes stay cheap and nothing runs in the
// background.
package metrics

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-dev/tollgate/cost"
	"github.com/tollgate-dev/tollgate/cost/allocation"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// Options configure a Collector.
type Options struct {
	Engine *cost.Engine
	// Interval is how old the figures may get (default 5m).
	Interval time.Duration
	// Timeout bounds one recomputation (default 1m).
	Timeout time.Duration
	Now     func() time.Time
	Logger  *slog.Logger
}

// Collector is a prometheus.Collector of the cost gauges.
type Collector struct {
	opts Options

	namespace, costCenter, node, nodeIdle, updated, errorsTotal *prometheus.Desc

	mu      sync.Mutex
	last    time.Time
	metrics []prometheus.Metric
	errors  float64
}

// New builds a Collector.
func New(opts Options) *Collector {
	if opts.Interval <= 0 {
		opts.Interval = 5 * time.Minute
	}
	if opts.Timeout <= 0 {
		opts.Timeout = time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Collector{
		opts: opts,
		namespace: prometheus.NewDesc("tollgate_cost_namespace_hourly_cost",
			"Average hourly cost of a namespace over the last hour, by resource (cpu, ram, gpu): max(request, usage) at its nodes' prices, idle not included.",
			[]string{"namespace", "tenant", "team", "cost_center", "resource"}, nil),
		costCenter: prometheus.NewDesc("tollgate_cost_cost_center_hourly_cost",
			"Average hourly cost of a cost center over the last hour, by resource (cpu, ram, gpu), idle not included; __unallocated__ for namespaces without one.",
			[]string{"cost_center", "resource"}, nil),
		node: prometheus.NewDesc("tollgate_cost_node_hourly_cost",
			"Average hourly cost of a node over the last hour, by resource (cpu, ram, gpu).",
			[]string{"node", "instance_type", "capacity_type", "resource"}, nil),
		nodeIdle: prometheus.NewDesc("tollgate_cost_node_idle_hourly_cost",
			"Average hourly idle cost of a node over the last hour (node cost not allocated to any container), by resource.",
			[]string{"node", "resource"}, nil),
		updated: prometheus.NewDesc("tollgate_cost_last_update_timestamp_seconds",
			"When the cost gauges were last computed.", nil, nil),
		errorsTotal: prometheus.NewDesc("tollgate_cost_update_errors_total",
			"Failed recomputations of the cost gauges.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.namespace, c.costCenter, c.node, c.nodeIdle, c.updated, c.errorsTotal} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.opts.Now()
	if now.Sub(c.last) >= c.opts.Interval {
		ctx, cancel := context.WithTimeout(context.Background(), c.opts.Timeout)
		ms, err := c.compute(ctx, now)
		cancel()
		if err != nil {
			c.errors++
			c.opts.Logger.Warn("computing the cost metrics", "err", err)
		} else {
			c.metrics, c.last = ms, now
		}
	}
	for _, m := range c.metrics {
		ch <- m
	}
	if !c.last.IsZero() {
		ch <- prometheus.MustNewConstMetric(c.updated, prometheus.GaugeValue, float64(c.last.UnixNano())/1e9)
	}
	ch <- prometheus.MustNewConstMetric(c.errorsTotal, prometheus.CounterValue, c.errors)
}

var admin = tenancy.Access{Admin: true}

// compute allocates the last hour three ways (by namespace, by cost
// center, by node with idle) from one snapshot.
func (c *Collector) compute(ctx context.Context, now time.Time) ([]prometheus.Metric, error) {
	res := 5 * time.Minute
	end := now.Truncate(res)
	q := cost.Query{Start: end.Add(-time.Hour), End: end, Resolution: res, Accumulate: true}
	snap, err := c.opts.Engine.Snapshot(ctx, q, nil)
	if err != nil {
		return nil, err
	}
	g := &gauges{hours: q.End.Sub(q.Start).Hours()}
	err = perGroup(snap, q, g, "namespace", c.namespace, func(a *allocation.Allocation) []string {
		p := a.Properties
		return []string{a.Name, p.Tenant, p.Team, p.CostCenter}
	})
	if err == nil {
		err = perGroup(snap, q, g, "cost_center", c.costCenter, func(a *allocation.Allocation) []string { return []string{a.Name} })
	}
	if err == nil {
		err = c.byNode(snap, q, g)
	}
	if err != nil {
		return nil, err
	}
	return g.out, nil
}

// gauges collects hourly cost gauges, one per resource.
type gauges struct {
	hours float64 // of the window
	out   []prometheus.Metric
}

func (g *gauges) hourly(a *allocation.Allocation) (cpu, ram, gpu float64) {
	return a.CPUCost / g.hours, a.RAMCost / g.hours, a.GPUCost / g.hours
}

func (g *gauges) add(d *prometheus.Desc, cpu, ram, gpu float64, labels ...string) {
	for _, r := range []struct {
		name string
		v    float64
	}{{"cpu", cpu}, {"ram", ram}, {"gpu", gpu}} {
		g.out = append(g.out, prometheus.MustNewConstMetric(d, prometheus.GaugeValue, r.v, append(labels, r.name)...))
	}
}

// perGroup adds gauge d for every group of the aggregation by prop,
// with the labels labels gives it.
func perGroup(snap *cost.Snapshot, q cost.Query, g *gauges, prop string, d *prometheus.Desc, labels func(*allocation.Allocation) []string) error {
	q.Aggregate = []string{prop}
	res, err := snap.Allocate(q, admin)
	if err != nil {
		return err
	}
	for _, s := range res.Sets {
		for _, a := range s.Allocations {
			cpu, ram, gpu := g.hourly(a)
			g.add(d, cpu, ram, gpu, labels(a)...)
		}
	}
	return nil
}

// byNode adds every node's idle and its total: its allocations and its
// idle.
func (c *Collector) byNode(snap *cost.Snapshot, q cost.Query, g *gauges) error {
	q.Aggregate, q.IncludeIdle = []string{"node"}, true
	res, err := snap.Allocate(q, admin)
	if err != nil {
		return err
	}
	type nodeCost struct{ cpu, ram, gpu float64 }
	totals := map[string]*nodeCost{}
	for _, s := range res.Sets {
		for _, a := range s.Allocations {
			name := a.Properties.Node
			if name == "" {
				continue
			}
			cpu, ram, gpu := g.hourly(a)
			if a.IsIdle() {
				g.add(c.nodeIdle, cpu, ram, gpu, name)
			}
			t := totals[name]
			if t == nil {
				t = &nodeCost{}
				totals[name] = t
			}
			t.cpu, t.ram, t.gpu = t.cpu+cpu, t.ram+ram, t.gpu+gpu
		}
	}
	// The gauges have no cluster label: nodes of the same name in two
	// clusters are summed, by name, into one gauge (the first one's type),
	// since a second gauge of the same labels would fail the scrape.
	for _, n := range res.Nodes {
		if t := totals[n.Name]; t != nil {
			g.add(c.node, t.cpu, t.ram, t.gpu, n.Name, n.InstanceType, n.CapacityType)
			delete(totals, n.Name)
		}
	}
	return nil
}
