package amproxy

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/tenancy"
)

func amAccess(t *testing.T, groups ...string) tenancy.Access {
	t.Helper()
	tn, err := tenancy.New(tenancy.Config{
		Label: "namespace",
		Tenants: []tenancy.TenantConfig{
			{Name: "pci", Groups: []string{"pci"}, Namespaces: []string{"pay"}, Clusters: []string{"eu"}},
			{Name: "multi", Groups: []string{"multi"}, Namespaces: []string{"pay"}, Clusters: []string{"eu", "us"}},
			{Name: "open", Groups: []string{"open"}, Namespaces: []string{"pay"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tn.Resolve(groups)
}

func TestKeepAlertsClusters(t *testing.T) {
	raw := []json.RawMessage{
		json.RawMessage(`{"labels":{"namespace":"pay","cluster":"eu"}}`),
		json.RawMessage(`{"labels":{"namespace":"pay","cluster":"us"}}`),
		json.RawMessage(`{"labels":{"namespace":"pay"}}`),
		json.RawMessage(`{"labels":{"namespace":"other","cluster":"eu"}}`),
	}
	for groups, want := range map[string]int{"pci": 1, "multi": 2, "open": 3} {
		kept, err := keepAlerts(raw, "namespace", amAccess(t, groups))
		if err != nil {
			t.Fatal(err)
		}
		if len(kept) != want {
			t.Errorf("%s: kept %d alerts %s, want %d", groups, len(kept), kept, want)
		}
	}
	kept, _ := keepAlerts(raw, "namespace", amAccess(t, "pci"))
	if string(kept[0]) != string(raw[0]) {
		t.Errorf("pci kept %s", kept[0])
	}
}

func TestConfineSilenceClusters(t *testing.T) {
	tr, f := true, false
	ns := matcher{Name: "namespace", Value: "pay"}
	for _, tc := range []struct {
		name   string
		groups string
		ms     []matcher
		want   string // the cluster matcher added or kept; "" for refused
		words  string // in the refusal
	}{
		{"one cluster is added", "pci", []matcher{ns}, `cluster="eu"`, ""},
		{"own cluster is kept", "pci", []matcher{ns, {Name: "cluster", Value: "eu", IsEqual: &tr}}, `cluster="eu"`, ""},
		{"another cluster", "pci", []matcher{ns, {Name: "cluster", Value: "us"}}, "", "not confined to your clusters (eu)"},
		{"negative cluster", "pci", []matcher{ns, {Name: "cluster", Value: "us", IsEqual: &f}}, "", "negative"},
		{"regex wider than the clusters", "multi", []matcher{ns, {Name: "cluster", Value: "eu|us|ap", IsRegex: true}}, "", "not confined"},
		{"regex of own clusters", "multi", []matcher{ns, {Name: "cluster", Value: "eu|us", IsRegex: true}}, `cluster=~"eu|us"`, ""},
		{"several clusters need a matcher", "multi", []matcher{ns}, "", "several clusters (eu, us)"},
		{"cluster twice", "pci", []matcher{ns, {Name: "cluster", Value: "eu"}, {Name: "cluster", Value: "us", IsRegex: true}}, "", "2 matchers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := amAccess(t, tc.groups)
			ms, err := confineSilence(tc.ms, "namespace", a)
			if tc.want == "" {
				if err == nil || !strings.Contains(err.Msg, tc.words) {
					t.Fatalf("got %v, %v; want a refusal saying %q", ms, err, tc.words)
				}
				return
			}
			if err != nil {
				t.Fatal(err.Msg)
			}
			var got []string
			for _, m := range ms {
				if m.Name == "cluster" {
					got = append(got, m.String())
				}
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("cluster matchers %v, want %s", got, tc.want)
			}
			if !silenceMine(ms, "namespace", a) {
				t.Error("the confined silence is not the tenant's")
			}
		})
	}
	// A silence of the namespace without a cluster matcher silences it in
	// every cluster: not a confined tenant's, though an unconfined one's.
	if silenceMine([]matcher{ns}, "namespace", amAccess(t, "pci")) || !silenceMine([]matcher{ns}, "namespace", amAccess(t, "open")) {
		t.Error("silence without a cluster matcher")
	}
}
