// Package cost ties the cost engine together: it reads a window from
// Prometheus (cost/source) into the allocation core (cost/allocation),
// with nodes priced by cost/pricing and namespaces mapped to tenants, teams
// and cost centers by the tenancy, and answers one Query for one caller.
// The API, the chargeback page, the metrics and `tollgate cost report` all
// go through Engine.Compute.
package cost

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/tollgate-dev/tollgate/cost/allocation"
	"github.com/tollgate-dev/tollgate/cost/source"
	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// HoursPerMonth converts a monthly overhead to an hourly one (OpenCost's 730).
const HoursPerMonth = 730

// Loader reads a window of inputs into an accumulator; source.Prometheus
// is the one in production.
type Loader interface {
	Load(ctx context.Context, acc *allocation.Accumulator, w source.Window, progress func(done, total int)) (source.Labels, error)
}

// Options configure an Engine.
type Options struct {
	Source  Loader
	Tenancy *tenancy.Tenancy // nil: no tenants (the CLI without a configuration)
	// SharedNamespaces are what shareNamespaces=true shares, and the only
	// namespaces a tenant may ask to share.
	SharedNamespaces []string
	// OverheadMonthly is a fixed cost per month shared with the shared
	// namespaces (only when they are shared).
	OverheadMonthly float64
	Currency        string
	// MaxQuerySteps bounds window ÷ resolution, the points per series
	// Prometheus evaluates for one computation (cost.max_query_steps;
	// 0: config.DefaultCostMaxQuerySteps).
	MaxQuerySteps int
	// MaxConcurrentPerTenant bounds the computations running at once per
	// tenant, admins counting as one (cost.max_concurrent_per_tenant; 0:
	// config.DefaultCostMaxConcurrentPerTenant).
	MaxConcurrentPerTenant int
	// Clusters are the clusters expected in the data (cost.clusters): one
	// missing from a window is a warning in the answer.
	Clusters []string
	// ClusterRegions are the regions of clusters whose nodes carry no
	// region label (cost.cluster_regions).
	ClusterRegions map[string]string
	Logger         *slog.Logger
}

// Engine answers allocation queries.
type Engine struct {
	opts    Options
	running *limiter
}

// New builds an Engine.
func New(opts Options) *Engine {
	if opts.Currency == "" {
		opts.Currency = "USD"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxQuerySteps <= 0 {
		opts.MaxQuerySteps = config.DefaultCostMaxQuerySteps
	}
	if opts.MaxConcurrentPerTenant <= 0 {
		opts.MaxConcurrentPerTenant = config.DefaultCostMaxConcurrentPerTenant
	}
	return &Engine{opts: opts, running: newLimiter(opts.MaxConcurrentPerTenant)}
}

// Currency is the currency of every figure.
func (e *Engine) Currency() string { return e.opts.Currency }

// SharedNamespaces are the configured shared namespaces.
func (e *Engine) SharedNamespaces() []string { return slices.Clone(e.opts.SharedNamespaces) }

// Result is the answer to a Query.
type Result struct {
	Query    Query
	Sets     []allocation.Set
	Currency string
	// NodeCost is the cost of every node over the window, what the sets
	// add up to for an admin when idle is included or shared (plus the
	// overhead when shared namespaces are shared). NodeCost and Nodes are
	// cluster figures, set for admins only.
	NodeCost float64
	Nodes    []allocation.Node
	// Warnings say what the figures lack, such as an expected cluster
	// without data in the window: its cost is missing, not zero.
	Warnings []string
	// Regions are the clusters' regions: cost.cluster_regions, else the
	// one region label every node of the cluster carries.
	Regions map[string]string
}

// Compute answers q for a caller with access a. Tenants see only their
// namespaces' allocations, with their share of idle and shared costs.
// Before reading anything it refuses what the caller may not ask
// (ErrForbidden), a window of more steps than the bound (ParamError), and
// a computation beyond the caller's concurrency budget (ErrBusy).
func (e *Engine) Compute(ctx context.Context, q Query, a tenancy.Access, progress func(done, total int)) (*Result, error) {
	if err := e.check(q, a); err != nil {
		return nil, err
	}
	release, err := e.running.acquire(callerKeys(a))
	if err != nil {
		return nil, err
	}
	defer release()
	snap, err := e.Snapshot(ctx, q, progress)
	if err != nil {
		return nil, err
	}
	return snap.Allocate(q, a)
}

// Snapshot is the inputs of one window, read once and allocated as often
// as needed (the metrics allocate the same hour three ways).
type Snapshot struct {
	e    *Engine
	acc  *allocation.Accumulator
	meta allocation.Metadata
}

// Snapshot reads q's window (Start, End, Resolution, Step) from Prometheus.
func (e *Engine) Snapshot(ctx context.Context, q Query, progress func(done, total int)) (*Snapshot, error) {
	if err := e.checkSteps(q); err != nil {
		return nil, err
	}
	began := time.Now()
	acc := allocation.NewAccumulator(q.Start, q.Step)
	labels, err := e.opts.Source.Load(ctx, acc, source.Window{Start: q.Start, End: q.End, Resolution: q.Resolution}, progress)
	if err != nil {
		return nil, fmt.Errorf("reading cost inputs from Prometheus: %w", err)
	}
	e.opts.Logger.DebugContext(ctx, "cost inputs read", "start", q.Start, "end", q.End, "resolution", q.Resolution,
		"nodes", len(acc.Nodes()), "containers", len(acc.Containers()), "took", time.Since(began))
	return &Snapshot{e: e, acc: acc, meta: e.Metadata(acc.Containers(), labels)}, nil
}

// Allocate allocates the snapshot with q's options for a caller.
func (s *Snapshot) Allocate(q Query, a tenancy.Access) (*Result, error) {
	if err := s.e.checkOptions(q, a); err != nil {
		return nil, err
	}
	shared, err := s.e.sharedFor(q, a)
	if err != nil {
		return nil, err
	}
	meta := s.meta
	opts := allocation.Options{
		Aggregate: q.Aggregate, IncludeIdle: q.IncludeIdle, ShareIdle: q.ShareIdle, IdleByNode: q.IdleByNode,
		SharedNamespaces: shared, ShareSplit: q.ShareSplit, Accumulate: q.Accumulate, Meta: meta,
	}
	if len(shared) > 0 {
		opts.SharedHourlyCost = s.e.opts.OverheadMonthly / HoursPerMonth
	}
	if !a.Admin || len(q.Filter) > 0 {
		scope, admin, filter := a.Scope, a.Admin, q.Filter
		opts.Visible = func(c allocation.Container) bool {
			return (admin || scope.Matches(c.Namespace)) && filter.Match(meta, c)
		}
	}
	sets, err := s.acc.Allocate(opts)
	if err != nil {
		return nil, err
	}
	res := &Result{Query: q, Sets: sets, Currency: s.e.opts.Currency, Warnings: s.warnings(a), Regions: s.regions()}
	if a.Admin {
		res.NodeCost, res.Nodes = s.acc.TotalNodeCost(), s.acc.Nodes()
	}
	return res, nil
}

// check refuses, before anything is read, a query that is too large or
// that the caller may not make.
func (e *Engine) check(q Query, a tenancy.Access) error {
	if err := e.checkSteps(q); err != nil {
		return err
	}
	if err := e.checkOptions(q, a); err != nil {
		return err
	}
	_, err := e.sharedFor(q, a)
	return err
}

// checkSteps bounds window ÷ resolution. The source sends the same eleven
// range queries per day of window whatever the resolution; what grows with
// the steps is the points every one of them evaluates and returns per
// series, so that is what the bound counts.
func (e *Engine) checkSteps(q Query) error {
	if q.Resolution <= 0 {
		return badParam("resolution", "%s is not a positive duration", q.Resolution)
	}
	steps := int64(q.End.Sub(q.Start) / q.Resolution)
	if steps <= int64(e.opts.MaxQuerySteps) {
		return nil
	}
	return badParam("resolution", "the window %s to %s at resolution %s is %d steps, more than cost.max_query_steps (%d) allows; ask for resolution=%s or coarser, or for a shorter window",
		q.Start.Format(time.RFC3339), q.End.Format(time.RFC3339), promDuration(q.Resolution), steps, e.opts.MaxQuerySteps,
		promDuration(finestResolution(q.End.Sub(q.Start), e.opts.MaxQuerySteps)))
}

// finestResolution is the finest valid resolution (see ParseQuery) that
// cuts a window into at most limit steps.
func finestResolution(window time.Duration, limit int) time.Duration {
	r := (window + time.Duration(limit) - 1) / time.Duration(limit)
	r = max(time.Minute, (r + time.Minute - 1).Truncate(time.Minute))
	if r > 15*time.Minute {
		r = (r + 5*time.Minute - 1).Truncate(5 * time.Minute)
	}
	return r
}

// promDuration writes a resolution the way the parameter takes it.
func promDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// checkOptions refuses tenants the options whose figures would let them
// solve for other tenants' usage (docs/security.md, "Cost API and
// chargeback page"). What remains depends only on the tenant's own
// containers and on cluster-wide totals; FuzzTenantScope checks it.
func (e *Engine) checkOptions(q Query, a tenancy.Access) error {
	if a.Admin {
		return nil
	}
	if q.ShareSplit == allocation.SplitEven {
		return fmt.Errorf("%w: shareSplit=even is for admins: it gives every group of the cluster an equal part of the shared cost, so a tenant's part would disclose the shared pool and the number of groups and, next to its weighted part, the other tenants' total cost; use shareSplit=weighted (the default), which shares in proportion to cost", ErrForbidden)
	}
	if q.IdleByNode {
		return fmt.Errorf("%w: idleByNode=true is for admins: a tenant's share of one node's idle would disclose how much the other pods on that node are allocated; leave idleByNode out, and idle is shared over the whole cluster", ErrForbidden)
	}
	return nil
}

// sharedFor resolves shareNamespaces. A tenant may share only configured
// namespaces: sharing another tenant's namespace would reveal its cost
// through the tenant's sharedCost.
func (e *Engine) sharedFor(q Query, a tenancy.Access) ([]string, error) {
	if q.ShareNamespaces == nil {
		return nil, nil
	}
	if slices.Equal(q.ShareNamespaces, shareConfigured) {
		return e.opts.SharedNamespaces, nil
	}
	if !a.Admin {
		for _, ns := range q.ShareNamespaces {
			if !slices.Contains(e.opts.SharedNamespaces, ns) {
				return nil, fmt.Errorf("%w: shareNamespaces: %q is not one of the shared namespaces configured in cost.shared_namespaces (%v); tenants may only share those", ErrForbidden, ns, e.opts.SharedNamespaces)
			}
		}
	}
	return q.ShareNamespaces, nil
}

// Metadata maps every namespace to its tenant, team and cost center: the
// tenancy's first, then the namespace's team and cost_center labels.
func (e *Engine) Metadata(containers []allocation.Container, labels source.Labels) allocation.Metadata {
	meta := allocation.Metadata{Namespaces: map[string]allocation.NamespaceInfo{}, PodLabels: labels.Pods}
	add := func(ns string) {
		if _, ok := meta.Namespaces[ns]; ok {
			return
		}
		l := labels.Namespaces[ns]
		info := allocation.NamespaceInfo{Labels: l, Team: l["team"], CostCenter: l["cost_center"]}
		if e.opts.Tenancy != nil {
			for _, t := range e.opts.Tenancy.Tenants() {
				if t.Scope.Matches(ns) {
					info.Tenant, info.Team = t.Name, t.Team
					if t.CostCenter != "" {
						info.CostCenter = t.CostCenter
					}
					break
				}
			}
		}
		meta.Namespaces[ns] = info
	}
	for ns := range labels.Namespaces {
		add(ns)
	}
	for _, c := range containers {
		add(c.Namespace)
	}
	return meta
}

// warnings names the expected clusters without data in the window, to
// admins; a tenant learns only that some are missing, not which clusters
// the fleet has.
func (s *Snapshot) warnings(a tenancy.Access) []string {
	seen := s.acc.Clusters()
	var missing []string
	for _, cl := range s.e.opts.Clusters {
		if !slices.Contains(seen, cl) {
			missing = append(missing, cl)
		}
	}
	switch {
	case len(missing) == 0:
		return nil
	case !a.Admin:
		return []string{"some of the expected clusters (cost.clusters) have no data in this window: their cost is missing from these figures, not zero"}
	}
	out := make([]string, 0, len(missing))
	for _, cl := range missing {
		out = append(out, fmt.Sprintf("cluster %q is listed in cost.clusters but has no data in this window: its cost is missing from these figures, not zero", cl))
	}
	return out
}

// regions is each cluster's region: the configured one, else the region
// all its nodes agree on.
func (s *Snapshot) regions() map[string]string {
	seen := map[string]map[string]bool{}
	for _, n := range s.acc.Nodes() {
		if seen[n.Cluster] == nil {
			seen[n.Cluster] = map[string]bool{}
		}
		seen[n.Cluster][n.Region] = true
	}
	out := map[string]string{}
	for cl, regions := range seen {
		for r := range regions {
			if len(regions) == 1 && r != "" {
				out[cl] = r
			}
		}
	}
	maps.Copy(out, s.e.opts.ClusterRegions)
	return out
}
