package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/tenancy"
)

// TestClusterConfinedTenantsAreRefused: the engine allocates without
// regard to cluster, so a cluster-confined tenant would see its
// namespaces' cost in every cluster; it is refused instead, on every
// route of the API (Admit runs before routing).
func TestClusterConfinedTenantsAreRefused(t *testing.T) {
	tn, err := tenancy.New(tenancy.Config{Label: "namespace", AdminGroups: []string{"sre"}, Tenants: []tenancy.TenantConfig{
		{Name: "pci", Groups: []string{"pci"}, Namespaces: []string{"pay"}, Clusters: []string{"eu"}},
		{Name: "open", Groups: []string{"open"}, Namespaces: []string{"shop"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	h := &Handler{}
	e := h.Admit(nil, tn.Resolve([]string{"pci"}))
	if e == nil || e.Status != http.StatusForbidden || !strings.Contains(e.Msg, "cost for cluster-confined tenants arrives with multi-cluster cost") || !strings.Contains(e.Msg, "pci") {
		t.Errorf("confined tenant: %+v, want 403", e)
	}
	for _, groups := range [][]string{{"open"}, {"sre", "pci"}} {
		if e := h.Admit(nil, tn.Resolve(groups)); e != nil {
			t.Errorf("%v: refused %s", groups, e.Msg)
		}
	}
}
