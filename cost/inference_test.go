package cost_test

import (
	"context"
	"errors"
	"math"
	"net/url"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/cost"
	"github.com/tollgate-dev/tollgate/cost/allocation"
	"github.com/tollgate-dev/tollgate/cost/source"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// redTeamLoader is the cluster of the red team's report: payments and
// checkout share node-a with kube-system; checkout also runs on node-b.
// node-a's size and price are public (its instance type's).
type redTeamLoader struct{}

const nodeACPUPrice = 0.03 // $ per core-hour

func (redTeamLoader) Load(_ context.Context, acc *allocation.Accumulator, w source.Window, _ func(int, int)) (source.Labels, error) {
	a := acc.AddNode(allocation.Node{Name: "node-a", Cluster: "c", CPUPrice: nodeACPUPrice, RAMPrice: 0.004})
	b := acc.AddNode(allocation.Node{Name: "node-b", Cluster: "c", CPUPrice: 0.02, RAMPrice: 0.003})
	pay := acc.AddContainer(allocation.Container{Cluster: "c", Node: "node-a", Namespace: "team-payments-prod", Pod: "pay-api-0", Container: "api"})
	co1 := acc.AddContainer(allocation.Container{Cluster: "c", Node: "node-a", Namespace: "team-checkout-prod", Pod: "web-0", Container: "web"})
	co2 := acc.AddContainer(allocation.Container{Cluster: "c", Node: "node-b", Namespace: "team-checkout-prod", Pod: "cart-0", Container: "cart"})
	dns := acc.AddContainer(allocation.Container{Cluster: "c", Node: "node-a", Namespace: "kube-system", Pod: "coredns-0", Container: "coredns"})
	h := w.Resolution.Hours()
	for t := w.Start; t.Before(w.End); t = t.Add(w.Resolution) {
		err := acc.AddStep(t, h,
			[]allocation.NodeSample{{Node: a, Hours: h, CPUCores: 8, RAMBytes: 32 * allocation.GiB}, {Node: b, Hours: h, CPUCores: 4, RAMBytes: 16 * allocation.GiB}},
			[]allocation.ContainerSample{
				{Container: pay, Hours: h, CPURequest: 1.5, CPUUsage: 0.7, RAMRequest: 4 * allocation.GiB, RAMUsage: 3 * allocation.GiB},
				{Container: co1, Hours: h, CPURequest: 2.5, CPUUsage: 2.9, RAMRequest: 6 * allocation.GiB, RAMUsage: 5 * allocation.GiB},
				{Container: co2, Hours: h, CPURequest: 1, CPUUsage: 0.4, RAMRequest: 2 * allocation.GiB, RAMUsage: 1 * allocation.GiB},
				{Container: dns, Hours: h, CPURequest: 0.25, CPUUsage: 0.1, RAMRequest: 1 * allocation.GiB, RAMUsage: 0.5 * allocation.GiB},
			})
		if err != nil {
			return source.Labels{}, err
		}
	}
	return source.Labels{}, nil
}

// TestTenantCannotDeriveOthersCost replays the red team's derivations from
// a tenant's own /allocation answers. Before the fix both worked: payments
// solved for checkout's exact cost and for the cores the others held on
// node-a. Now the answers they need are refused to tenants, while admins
// still get them.
func TestTenantCannotDeriveOthersCost(t *testing.T) {
	tn, err := tenancy.New(tenancy.Config{
		Label:       "namespace",
		AdminGroups: []string{"platform-sre"},
		Tenants: []tenancy.TenantConfig{
			{Name: "payments", Groups: []string{"team-payments"}, Namespaces: []string{"team-payments-prod"}},
			{Name: "checkout", Groups: []string{"team-checkout"}, Namespaces: []string{"team-checkout-prod"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	engine := cost.New(cost.Options{Source: redTeamLoader{}, Tenancy: tn, SharedNamespaces: []string{"kube-system"}, OverheadMonthly: 73})
	payments, admin := tn.Resolve([]string{"team-payments"}), tenancy.Access{Admin: true}
	now := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	ask := func(a tenancy.Access, kv ...string) (allocation.Set, error) {
		t.Helper()
		v := url.Values{"window": {"2026-11-01T00:00:00Z,2026-11-02T00:00:00Z"}, "resolution": {"1h"}, "accumulate": {"true"}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		q, err := cost.ParseQuery(v, now)
		if err != nil {
			t.Fatal(err)
		}
		res, err := engine.Compute(context.Background(), q, a, nil)
		if err != nil {
			return allocation.Set{}, err
		}
		return res.Sets[0], nil
	}
	must := func(s allocation.Set, err error) allocation.Set {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

	t.Run("weighted and even split", func(t *testing.T) {
		// Weighted: sharedCost = S·P/T, with S the shared pool and T
		// the cost of all receiving groups.
		weighted := must(ask(payments, "aggregate", "tenant", "shareNamespaces", "true")).Get("payments")
		own := weighted.TotalCost() - weighted.SharedCost
		// Even: S/G per group; G = 2, the tenants of the configuration.
		even, err := ask(payments, "aggregate", "tenant", "shareNamespaces", "true", "shareSplit", "even")
		if err == nil {
			pool := 2 * even.Get("payments").SharedCost
			total := pool * own / weighted.SharedCost
			derived := total - own
			truth := must(ask(admin, "aggregate", "tenant")).Get("checkout").TotalCost()
			t.Fatalf("shareSplit=even answered a tenant: from it payments derives the shared pool %.4f and checkout's cost %.4f (the admin's figure: %.4f, equal: %v)",
				pool, derived, truth, near(derived, truth))
		}
		if !errors.Is(err, cost.ErrForbidden) {
			t.Fatalf("shareSplit=even for a tenant: %v, want a 403 (ErrForbidden)", err)
		}
		// Admins keep the option.
		if s := must(ask(admin, "aggregate", "tenant", "shareNamespaces", "true", "shareSplit", "even")); !near(s.Get("payments").SharedCost, s.Get("checkout").SharedCost) {
			t.Errorf("admin's even split: payments %v, checkout %v", s.Get("payments").SharedCost, s.Get("checkout").SharedCost)
		}
	})

	t.Run("idle by node", func(t *testing.T) {
		// payments' share of node-a's CPU idle = (K − A)·p/A, with K what
		// node-a's 8 cores cost (public) and A what is allocated on it.
		s, err := ask(payments, "aggregate", "namespace", "includeIdle", "true", "idleByNode", "true")
		if err == nil {
			own, idle := s.Get("team-payments-prod"), s.Get(allocation.Idle)
			k := 8 * nodeACPUPrice * 24
			allocated := k * own.CPUCost / (idle.CPUCost + own.CPUCost)
			others := allocated/(nodeACPUPrice*24) - own.CPUCoreHours/24
			t.Fatalf("idleByNode answered a tenant: from it payments derives that the others hold %.4f cores on node-a (they hold %.4f: checkout 2.9, kube-system 0.25)", others, 2.9+0.25)
		}
		if !errors.Is(err, cost.ErrForbidden) {
			t.Fatalf("idleByNode for a tenant: %v, want a 403 (ErrForbidden)", err)
		}
		must(ask(admin, "aggregate", "node", "includeIdle", "true", "idleByNode", "true"))
	})
}
