package tenancy

import (
	"strings"
	"testing"
)

// clusterTenancy has two tenants owning the same namespace name in two
// clusters, one tenant confined to both, and one confined to none.
func clusterTenancy(t *testing.T) *Tenancy {
	t.Helper()
	tn, err := New(Config{
		Label:       "namespace",
		AdminGroups: []string{"platform-sre"},
		Tenants: []TenantConfig{
			{Name: "pci-payments", Groups: []string{"pci", "finance"}, Namespaces: []string{"team-payments-prod"}, Clusters: []string{"prod-eu"}},
			{Name: "us-payments", Groups: []string{"us", "finance"}, Namespaces: []string{"team-payments-prod"}, Clusters: []string{"prod-us"}},
			{Name: "pci-audit", Groups: []string{"pci-audit"}, Namespaces: []string{"audit"}, Clusters: []string{"prod-eu"}},
			{Name: "both", Groups: []string{"both"}, Namespaces: []string{"shared"}, Clusters: []string{"prod-us", "prod-eu", "prod-eu"}},
			{Name: "search", Groups: []string{"search"}, Namespaces: []string{"team-search-prod"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

func TestResolveClusters(t *testing.T) {
	tn := clusterTenancy(t)
	cases := []struct {
		name     string
		groups   []string
		allowed  bool
		clusters string // the cluster matcher, "" for none
		refused  string // a part of the reason, "" for none
	}{
		{"confined to one cluster", []string{"pci"}, true, `cluster="prod-eu"`, ""},
		{"confined to two clusters, deduplicated", []string{"both"}, true, `cluster=~"prod-eu|prod-us"`, ""},
		{"not confined", []string{"search"}, true, "", ""},
		{"two tenants with the same confinement", []string{"pci", "pci-audit"}, true, `cluster="prod-eu"`, ""},
		{"same namespace in two clusters is refused", []string{"finance"}, false, "", "pci-payments (clusters prod-eu), us-payments (clusters prod-us)"},
		{"confined and unconfined is refused", []string{"pci", "search"}, false, "", "search (all clusters)"},
		{"one cluster and two clusters is refused", []string{"pci", "both"}, false, "", "both (clusters prod-eu, prod-us)"},
		{"admins are never confined", []string{"pci", "platform-sre"}, true, "", ""},
		{"admins of mixed tenants are not refused", []string{"finance", "platform-sre"}, true, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Twice: the second answer comes from the memo.
			for range 2 {
				a := tn.Resolve(tc.groups)
				if a.Allowed() != tc.allowed {
					t.Errorf("Allowed = %v, want %v", a.Allowed(), tc.allowed)
				}
				got := ""
				if a.ClusterConfined() {
					got = a.Clusters.Matcher().String()
				}
				if got != tc.clusters {
					t.Errorf("cluster matcher = %q, want %q", got, tc.clusters)
				}
				if tc.refused == "" && a.Refused != "" || !strings.Contains(a.Refused, tc.refused) {
					t.Errorf("Refused = %q, want it to contain %q", a.Refused, tc.refused)
				}
				if tc.refused != "" && (!a.Scope.Empty() || len(a.Owners("team-payments-prod")) != 0 || len(a.Owners("team-search-prod")) != 0) {
					t.Errorf("a refused identity has a scope %v or may write", a.Scope.Namespaces())
				}
			}
		})
	}
}

// The memo must not let one group list's access stand for another's: a
// group whose name joins two others ("pci\x00search" is a valid claim)
// must not get the refusal, nor the access, of {"pci", "search"}.
func TestResolveClustersMemoKey(t *testing.T) {
	tn := clusterTenancy(t)
	if a := tn.Resolve([]string{"pci", "search"}); a.Refused == "" {
		t.Fatal("pci+search was not refused")
	}
	for _, g := range [][]string{{"pci\x00search"}, {"pcisearch"}, {"pci"}} {
		a := tn.Resolve(g)
		if g[0] == "pci" {
			if a.Refused != "" || !a.ClusterConfined() || !a.Allowed() {
				t.Errorf("%q: refused %q, confined %v", g, a.Refused, a.ClusterConfined())
			}
			continue
		}
		if a.Allowed() || a.Refused != "" {
			t.Errorf("%q shares an entry: allowed %v, refused %q", g, a.Allowed(), a.Refused)
		}
	}
	if a := tn.Resolve([]string{"search", "pci"}); a.Refused == "" {
		t.Error("search+pci (other order) was not refused")
	}
}

func TestValidateClusters(t *testing.T) {
	base := func() Config {
		return Config{Label: "namespace", Tenants: []TenantConfig{{Name: "a", Groups: []string{"g"}, Namespaces: []string{"ns"}}}}
	}
	cases := []struct {
		name  string
		edit  func(*Config)
		key   string // "" for valid
		words string
	}{
		{"clusters with the default label", func(c *Config) { c.Tenants[0].Clusters = []string{"prod-eu", "PCI_1.eu"} }, "", ""},
		{"empty cluster", func(c *Config) { c.Tenants[0].Clusters = []string{"prod-eu", ""} }, "tenancy.tenants[0].clusters[1]", "is empty"},
		{"glob cluster", func(c *Config) { c.Tenants[0].Clusters = []string{"prod-*"} }, "tenancy.tenants[0].clusters[0]", "is a pattern"},
		{"spaced cluster", func(c *Config) { c.Tenants[0].Clusters = []string{" prod"} }, "tenancy.tenants[0].clusters[0]", "surrounding spaces"},
		{"invalid UTF-8", func(c *Config) { c.Tenants[0].Clusters = []string{"\xff"} }, "tenancy.tenants[0].clusters[0]", "not a valid cluster name"},
		{"control character", func(c *Config) { c.Tenants[0].Clusters = []string{"eu\x00us"} }, "tenancy.tenants[0].clusters[0]", "not a valid cluster name"},
		{"bad cluster label", func(c *Config) { c.ClusterLabel = "k8s.cluster" }, "tenancy.cluster_label", "not a valid label name"},
		{"reserved cluster label", func(c *Config) { c.ClusterLabel = "__cluster" }, "tenancy.cluster_label", "reserved"},
		{"cluster label is the namespace label", func(c *Config) { c.ClusterLabel = "namespace" }, "tenancy.cluster_label", "also tenancy.label"},
		{"default cluster label is the namespace label", func(c *Config) {
			c.Label = "cluster"
			c.Tenants[0].Clusters = []string{"x"}
		}, "tenancy.cluster_label", "also tenancy.label"},
		{"namespace label cluster without clusters is fine", func(c *Config) { c.Label = "cluster" }, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.edit(&c)
			err := c.Validate().Err()
			if tc.key == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.key) || !strings.Contains(err.Error(), tc.words) {
				t.Fatalf("error %v, want %s: %s", err, tc.key, tc.words)
			}
		})
	}
}

// The same namespace name granted to two tenants is a warning only where
// both can read it: not when they are confined to disjoint clusters,
// where the name means two namespaces.
func TestSharedNamespaceWarnsOnlyWhereClustersOverlap(t *testing.T) {
	warned := func(a, b []string) bool {
		cfg := Config{Label: "namespace", Tenants: []TenantConfig{
			{Name: "ledger-eu", Groups: []string{"eu"}, Namespaces: []string{"team-ledger"}, Clusters: a},
			{Name: "ledger-us", Groups: []string{"us"}, Namespaces: []string{"team-ledger"}, Clusters: b},
		}}
		for _, p := range cfg.Validate() {
			if strings.Contains(p.Msg, `namespace "team-ledger" is also granted to tenant "ledger-eu"`) {
				return true
			}
		}
		return false
	}
	for _, c := range []struct {
		a, b []string
		want bool
	}{
		{[]string{"prod-eu"}, []string{"prod-us"}, false},
		{[]string{"prod-eu"}, []string{"prod-eu", "prod-us"}, true},
		{nil, []string{"prod-us"}, true},
		{nil, nil, true},
	} {
		if got := warned(c.a, c.b); got != c.want {
			t.Errorf("clusters %v and %v: warned %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
