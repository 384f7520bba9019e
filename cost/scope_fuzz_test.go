package cost_test

import (
	"bytes"
	"context"
	"errors"
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
// containers, controllers, labels, cost center, and the node only it runs
// on. No answer to payments may contain it, whatever the parameters.
const secret = "zzsecret"

// scopeLoader is a small cluster: node-shared runs payments, checkout and
// kube-system; node-zzsecret runs checkout only.
type scopeLoader struct{}

func (scopeLoader) Load(_ context.Context, acc *allocation.Accumulator, w source.Window, _ func(int, int)) (source.Labels, error) {
	shared := acc.AddNode(allocation.Node{Name: "node-shared", Cluster: "c", InstanceType: "m6i.xlarge", CapacityType: "on_demand", CPUPrice: 0.03, RAMPrice: 0.004, GPUPrice: 0.9})
	private := acc.AddNode(allocation.Node{Name: "node-" + secret, Cluster: "c", InstanceType: "g4dn.xlarge", CapacityType: "spot", CPUPrice: 0.02, RAMPrice: 0.003, GPUPrice: 0.5})
	pay := acc.AddContainer(allocation.Container{Cluster: "c", Node: "node-shared", Namespace: "team-payments-prod", Pod: "pay-api-0", Container: "api", Controller: "pay-api", ControllerKind: "deployment"})
	co1 := acc.AddContainer(allocation.Container{Cluster: "c", Node: "node-shared", Namespace: "team-" + secret, Pod: "pod-" + secret, Container: "c-" + secret, Controller: "d-" + secret, ControllerKind: "statefulset"})
	co2 := acc.AddContainer(allocation.Container{Cluster: "c", Node: "node-" + secret, Namespace: "team-" + secret, Pod: "gpu-" + secret, Container: "g-" + secret, Controller: "j-" + secret, ControllerKind: "job"})
	dns := acc.AddContainer(allocation.Container{Cluster: "c", Node: "node-shared", Namespace: "kube-system", Pod: "coredns-0", Container: "coredns"})
	h := w.Resolution.Hours()
	for t := w.Start; t.Before(w.End); t = t.Add(w.Resolution) {
		err := acc.AddStep(t, h,
			[]allocation.NodeSample{
				{Node: shared, Hours: h, CPUCores: 4, RAMBytes: 16 * allocation.GiB},
				{Node: private, Hours: h, CPUCores: 4, RAMBytes: 16 * allocation.GiB, GPUs: 1},
			},
			[]allocation.ContainerSample{
				{Container: pay, Hours: h, CPURequest: 1, CPUUsage: 0.5, RAMRequest: 4 * allocation.GiB, RAMUsage: 5 * allocation.GiB},
				{Container: co1, Hours: h, CPURequest: 2, CPUUsage: 2.5, RAMRequest: 2 * allocation.GiB, RAMUsage: 1 * allocation.GiB},
				{Container: co2, Hours: h, CPURequest: 1, CPUUsage: 1, RAMRequest: 8 * allocation.GiB, RAMUsage: 8 * allocation.GiB, GPURequest: 1},
				{Container: dns, Hours: h, CPURequest: 0.5, CPUUsage: 0.1, RAMRequest: 1 * allocation.GiB, RAMUsage: 0.5 * allocation.GiB},
			})
		if err != nil {
			return source.Labels{}, err
		}
	}
	return source.Labels{
		Namespaces: map[string]map[string]string{
			"team-payments-prod": {"team": "payments", "cost_center": "CC-4521"},
			"team-" + secret:     {"team": "team-" + secret, "cost_center": "CC-" + secret, "app": secret},
		},
		Pods: map[string]map[string]string{
			"team-payments-prod/pay-api-0":      {"app": "pay-api"},
			"team-" + secret + "/pod-" + secret: {"app": "app-" + secret, secret: "x"},
			"team-" + secret + "/gpu-" + secret: {"app": "gpu-" + secret},
		},
	}, nil
}

// FuzzTenantScope: a tenant's allocation answer, in every format, never
// names anything of another tenant, whatever aggregation, filter, sharing,
// step and resolution it asks for; and a parameter the engine cannot
// honour is an error, never a wider answer.
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
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3], seed[4], seed[5], seed[6])
	}
	tn, err := tenancy.New(tenancy.Config{
		Label:       "namespace",
		AdminGroups: []string{"platform-sre"},
		Tenants: []tenancy.TenantConfig{
			{Name: "payments", Groups: []string{"team-payments"}, Namespaces: []string{"team-payments-prod"}, CostCenter: "CC-4521"},
			{Name: "checkout", Groups: []string{"team-checkout"}, Namespaces: []string{"team-" + secret}, CostCenter: "CC-" + secret, Team: "t-" + secret},
		},
	})
	if err != nil {
		f.Fatal(err)
	}
	engine := cost.New(cost.Options{Source: scopeLoader{}, Tenancy: tn, SharedNamespaces: []string{"kube-system"}, OverheadMonthly: 730})
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
		if err != nil {
			if leaks(err.Error()) >= 0 {
				t.Fatalf("the error names another tenant's objects: %v", err)
			}
			return
		}
		for _, format := range []string{"json", "csv", "focus", "table"} {
			var b bytes.Buffer
			if err := report.Write(&b, format, res); err != nil {
				t.Fatalf("%s: %v", format, err)
			}
			if leaks(b.String()) >= 0 {
				i := strings.Index(strings.ToLower(b.String()), secret)
				lo, hi := max(0, i-200), min(b.Len(), i+100)
				t.Fatalf("%s answer to payments for %v names another tenant's objects:\n…%s…", format, v, b.String()[lo:hi])
			}
		}
	})
}
