package cost_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/cost"
	"github.com/tollgate-dev/tollgate/cost/allocation"
	"github.com/tollgate-dev/tollgate/cost/report"
	"github.com/tollgate-dev/tollgate/cost/source"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// secret marks every name another tenant owns: its namespace, pods,
// containers, controllers, labels, cost center, and the nodes only others
// run on. No answer to payments may contain it, whatever the parameters.
const secret = "zzsecret"

// scopeLoader is a small cluster of three tenants: node-shared runs
// payments (the caller), checkout and kube-system; node-zzsecret (spot,
// with a GPU) runs checkout only; node-zzsecret-c, priced like
// node-shared, runs search only.
//
// moved is the other world of the noninterference property: checkout
// holds one core less on node-shared and search one core more on
// node-zzsecret-c, so checkout's and search's costs differ while every
// cluster-wide total (cost and allocation per resource, shared pool) stays
// the same. Prices and quantities are dyadic fractions, so that those
// totals are equal in floating point too and not only on paper; no node is
// overcommitted in either world (docs/security.md says what an
// overcommitted node discloses).
type scopeLoader struct{ moved bool }

func (l scopeLoader) Load(_ context.Context, acc *allocation.Accumulator, w source.Window, _ func(int, int)) (source.Labels, error) {
	const cpu, ram, gpu = 1.0 / 32, 1.0 / 256, 7.0 / 8
	shared := acc.AddNode(allocation.Node{Name: "node-shared", Cluster: "c", InstanceType: "m6i.xlarge", CapacityType: "on_demand", CPUPrice: cpu, RAMPrice: ram, GPUPrice: gpu})
	private := acc.AddNode(allocation.Node{Name: "node-" + secret, Cluster: "c", InstanceType: "g4dn.xlarge", CapacityType: "spot", CPUPrice: 1.0 / 64, RAMPrice: 3.0 / 1024, GPUPrice: 0.5})
	third := acc.AddNode(allocation.Node{Name: "node-" + secret + "-c", Cluster: "c", InstanceType: "m6i.xlarge", CapacityType: "on_demand", CPUPrice: cpu, RAMPrice: ram, GPUPrice: gpu})
	pay := acc.AddContainer(allocation.Container{Cluster: "c", Node: "node-shared", Namespace: "team-payments-prod", Pod: "pay-api-0", Container: "api", Controller: "pay-api", ControllerKind: "deployment"})
	co1 := acc.AddContainer(allocation.Container{Cluster: "c", Node: "node-shared", Namespace: "team-" + secret, Pod: "pod-" + secret, Container: "c-" + secret, Controller: "d-" + secret, ControllerKind: "statefulset"})
	co2 := acc.AddContainer(allocation.Container{Cluster: "c", Node: "node-" + secret, Namespace: "team-" + secret, Pod: "gpu-" + secret, Container: "g-" + secret, Controller: "j-" + secret, ControllerKind: "job"})
	se := acc.AddContainer(allocation.Container{Cluster: "c", Node: "node-" + secret + "-c", Namespace: "search-" + secret, Pod: "idx-" + secret, Container: "s-" + secret, Controller: "idx-" + secret, ControllerKind: "deployment"})
	dns := acc.AddContainer(allocation.Container{Cluster: "c", Node: "node-shared", Namespace: "kube-system", Pod: "coredns-0", Container: "coredns"})
	co1CPU, co1Use, seCPU, seUse := 2.0, 1.5, 1.0, 0.5
	if l.moved {
		co1CPU, co1Use, seCPU, seUse = 1, 1, 2, 2
	}
	h := w.Resolution.Hours()
	for t := w.Start; t.Before(w.End); t = t.Add(w.Resolution) {
		err := acc.AddStep(t, h,
			[]allocation.NodeSample{
				{Node: shared, Hours: h, CPUCores: 4, RAMBytes: 16 * allocation.GiB},
				{Node: private, Hours: h, CPUCores: 4, RAMBytes: 16 * allocation.GiB, GPUs: 1},
				{Node: third, Hours: h, CPUCores: 4, RAMBytes: 16 * allocation.GiB},
			},
			[]allocation.ContainerSample{
				{Container: pay, Hours: h, CPURequest: 1, CPUUsage: 0.5, RAMRequest: 4 * allocation.GiB, RAMUsage: 5 * allocation.GiB},
				{Container: co1, Hours: h, CPURequest: co1CPU, CPUUsage: co1Use, RAMRequest: 2 * allocation.GiB, RAMUsage: 1 * allocation.GiB},
				{Container: co2, Hours: h, CPURequest: 1, CPUUsage: 1, RAMRequest: 8 * allocation.GiB, RAMUsage: 8 * allocation.GiB, GPURequest: 1},
				{Container: se, Hours: h, CPURequest: seCPU, CPUUsage: seUse, RAMRequest: 2 * allocation.GiB, RAMUsage: 1 * allocation.GiB},
				{Container: dns, Hours: h, CPURequest: 0.5, CPUUsage: 0.125, RAMRequest: 1 * allocation.GiB, RAMUsage: 0.5 * allocation.GiB},
			})
		if err != nil {
			return source.Labels{}, err
		}
	}
	return source.Labels{
		Namespaces: map[string]map[string]string{
			"team-payments-prod": {"team": "payments", "cost_center": "CC-4521", "app": "shop"},
			"team-" + secret:     {"team": "team-" + secret, "cost_center": "CC-" + secret, "app": secret},
			"search-" + secret:   {"team": "team-" + secret + "-s", "cost_center": "CC-4521", "app": "shop"},
		},
		Pods: map[string]map[string]string{
			"team-payments-prod/pay-api-0":        {"app": "pay-api"},
			"team-" + secret + "/pod-" + secret:   {"app": "app-" + secret, secret: "x"},
			"team-" + secret + "/gpu-" + secret:   {"app": "gpu-" + secret},
			"search-" + secret + "/idx-" + secret: {"app": "pay-api"},
		},
	}, nil
}

// FuzzTenantScope: a tenant's allocation answer, in every format, never
// names anything of another tenant, whatever aggregation, filter, sharing,
// step and resolution it asks for; a parameter the engine cannot honour is
// an error, never a wider answer; and the answer does not depend on how
// the other tenants' usage is distributed (noninterference): in a second
// world where checkout and search trade a core between nodes of the same
// price, so that their costs differ and every cluster-wide total is the
// same, payments gets byte for byte the same answer, or the same refusal.
// Whatever a tenant can compute from its answers is then a function of its
// own usage and the cluster's totals, and cannot single out another
// tenant's cost (with three or more tenants; docs/security.md).
func FuzzTenantScope(f *testing.F) {
	for _, seed := range [][7]string{
		{"namespace", "", "", "", "", "true", "false"},
		{"node", "", "true", "", "1h", "false", "true"},
		{"label:app", "", "kube-system", "even", "", "true", "true"},
		{"cluster,controller", `namespace:"team-zzsecret"`, "", "", "2h", "false", "false"},
		{"pod,container", `label[app]:"app-zzsecret"`, "true", "weighted", "", "true", "false"},
		{"cost_center", "", "team-zzsecret", "", "", "false", "false"},
		{"team,node", `node:"node-zzsecret"`, "", "", "", "true", "true"},
		{"label:zzsecret", "", "", "", "30m", "false", "true"},
		// The red team's: the even split of groups that mix tenants
		// (a node, a cost center, a label value), idle per node.
		{"node", "", "true", "even", "", "false", "false"},
		{"cost_center", "", "kube-system", "even", "", "true", "false"},
		{"label:app", "", "true", "even", "6h", "false", "false"},
		{"namespace", "", "", "", "", "false", "true"},
		{"node", "", "true", "", "", "true", "true"},
		{"cluster", "", "true", "weighted", "", "true", "false"},
		{"tenant", "", "true", "", "1h", "true", "false"},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3], seed[4], seed[5], seed[6])
	}
	tn, err := tenancy.New(tenancy.Config{
		Label:       "namespace",
		AdminGroups: []string{"platform-sre"},
		Tenants: []tenancy.TenantConfig{
			{Name: "payments", Groups: []string{"team-payments"}, Namespaces: []string{"team-payments-prod"}, CostCenter: "CC-4521"},
			{Name: "checkout", Groups: []string{"team-checkout"}, Namespaces: []string{"team-" + secret}, CostCenter: "CC-" + secret, Team: "t-" + secret},
			{Name: "search", Groups: []string{"team-search"}, Namespaces: []string{"search-" + secret}},
		},
	})
	if err != nil {
		f.Fatal(err)
	}
	opts := cost.Options{Source: scopeLoader{}, Tenancy: tn, SharedNamespaces: []string{"kube-system"}, OverheadMonthly: 730}
	engine := cost.New(opts)
	opts.Source = scopeLoader{moved: true}
	moved := cost.New(opts)
	access := tn.Resolve([]string{"team-payments"})
	now := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, aggregate, filter, shareNamespaces, shareSplit, step, shareIdle, idleByNode string) {
		v := url.Values{"window": {"2026-11-01T00:00:00Z,2026-11-02T00:00:00Z"}, "resolution": {"1h"}, "includeIdle": {"true"}}
		for k, s := range map[string]string{"aggregate": aggregate, "filter": filter, "shareNamespaces": shareNamespaces,
			"shareSplit": shareSplit, "step": step, "shareIdle": shareIdle, "idleByNode": idleByNode} {
			if s != "" {
				v.Set(k, s)
			}
		}
		q, err := cost.ParseQuery(v, now)
		if err != nil {
			var pe *cost.ParamError
			if !errors.As(err, &pe) {
				t.Fatalf("a refused parameter is not a ParamError (the API would not name it): %v", err)
			}
			return
		}
		// What the caller sent may be echoed back (an error quoting its
		// parameter, a label name as a property key); anything else
		// carrying the marker came from another tenant.
		var inputs []string
		for _, s := range []string{aggregate, filter, shareNamespaces, shareSplit, step, shareIdle, idleByNode} {
			for _, part := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return strings.ContainsRune(",:\"'[]() ", r) }) {
				if strings.Contains(part, secret) {
					inputs = append(inputs, part)
				}
			}
		}
		leaks := func(out string) int {
			out = strings.ToLower(out)
			for _, in := range inputs {
				out = strings.ReplaceAll(out, in, "")
			}
			return strings.Index(out, secret)
		}
		res, err := engine.Compute(context.Background(), q, access, nil)
		res2, err2 := moved.Compute(context.Background(), q, access, nil)
		if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
			t.Fatalf("%v: payments is answered %v in one world and %v in the other, where only other tenants' usage moved", v, err, err2)
		}
		if err != nil {
			if leaks(err.Error()) >= 0 {
				t.Fatalf("the error names another tenant's objects: %v", err)
			}
			return
		}
		for _, format := range []string{"json", "csv", "focus", "table"} {
			var b, b2 bytes.Buffer
			if err := report.Write(&b, format, res); err != nil {
				t.Fatalf("%s: %v", format, err)
			}
			if leaks(b.String()) >= 0 {
				i := strings.Index(strings.ToLower(b.String()), secret)
				lo, hi := max(0, i-200), min(b.Len(), i+100)
				t.Fatalf("%s answer to payments for %v names another tenant's objects:\n…%s…", format, v, b.String()[lo:hi])
			}
			if err := report.Write(&b2, format, res2); err != nil {
				t.Fatalf("%s: %v", format, err)
			}
			if !bytes.Equal(b.Bytes(), b2.Bytes()) {
				t.Fatalf("%s answer to payments for %v depends on how checkout and search spread their usage, which lets it solve for their costs:\n%s", format, v, firstDifference(b.String(), b2.String()))
			}
		}
	})
}

// firstDifference shows where two answers first differ.
func firstDifference(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-160)
	return fmt.Sprintf("at byte %d:\n  …%s…\n  …%s…", i, a[lo:min(len(a), i+40)], b[lo:min(len(b), i+40)])
}
