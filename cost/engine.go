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
	"slices"
	"time"

	"github.com/tollgate-dev/tollgate/cost/allocation"
	"github.com/tollgate-dev/tollgate/cost/source"
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
	Logger          *slog.Logger
}

// Engine answers allocation queries.
type Engine struct{ opts Options }

// New builds an Engine.
func New(opts Options) *Engine {
	if opts.Currency == "" {
		opts.Currency = "USD"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Engine{opts: opts}
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
	// overhead when shared namespaces are shared).
	NodeCost float64
	Nodes    []allocation.Node
}

// Compute answers q for a caller with access a. Tenants see only their
// namespaces' allocations, with their share of idle and shared costs.
func (e *Engine) Compute(ctx context.Context, q Query, a tenancy.Access, progress func(done, total int)) (*Result, error) {
	if _, err := e.sharedFor(q, a); err != nil {
		return nil, err // before reading anything
	}
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
	return &Result{Query: q, Sets: sets, Currency: s.e.opts.Currency, NodeCost: s.acc.TotalNodeCost(), Nodes: s.acc.Nodes()}, nil
}

// sharedFor resolves shareNamespaces. A tenant may share only configured
// namespaces: sharing another tenant's namespace would reveal its cost
// through the tenant's sharedCost.
func (e *Engine) sharedFor(q Query, a tenancy.Access) ([]string, error) {
	if q.ShareNamespaces == nil {
		return nil, nil
	}
	if slices.Equal(q.ShareNamespaces, ShareConfigured) {
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
