package lokiproxy

import (
	"testing"

	"github.com/tollgate-dev/tollgate/tenancy"
)

func TestPushClusters(t *testing.T) {
	tn, err := tenancy.New(tenancy.Config{
		Label: "namespace", AdminGroups: []string{"sre"},
		Tenants: []tenancy.TenantConfig{
			{Name: "pci", Groups: []string{"pci"}, Namespaces: []string{"pay"}, Clusters: []string{"eu"}, LokiOrgID: "pci-org"},
			{Name: "multi", Groups: []string{"multi"}, Namespaces: []string{"pay"}, Clusters: []string{"eu", "us"}, LokiOrgID: "multi-org"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	pci, multi := tn.Resolve([]string{"pci"}), tn.Resolve([]string{"multi"})
	proto := func(s ...string) []byte { return protoPush(s...) }
	const ct = "application/x-protobuf"
	runPushCases(t, smallLimits(), []pushCase{
		{"own cluster", pci, pushReq(proto(`{namespace="pay", cluster="eu"}`), ct), 204, "", "pci-org", `{cluster="eu", namespace="pay"}`},
		{"the only cluster is set", pci, pushReq(proto(`{namespace="pay", app="a"}`), ct), 204, "", "pci-org", `{app="a", cluster="eu", namespace="pay"}`},
		{"another cluster", pci, pushReq(proto(`{namespace="pay", cluster="us"}`), ct), 403, `cluster "us" is not one of your clusters eu`, "", ""},
		{"cluster named twice", pci, pushReq(proto(`{namespace="pay", cluster="eu", cluster="us"}`), ct), 400, "twice", "", ""},
		{"one of several clusters", multi, pushReq(proto(`{namespace="pay", cluster="us"}`), ct), 204, "", "multi-org", `{cluster="us", namespace="pay"}`},
		{"several clusters, none given", multi, pushReq(proto(`{namespace="pay"}`), ct), 403, "several clusters: eu, us", "", ""},
		{"json, another cluster", pci, jsonReq(`{"streams":[{"stream":{"namespace":"pay","cluster":"us"},"values":[["1","x"]]}]}`), 403, "not one of your clusters", "", ""},
		{"admins are not confined", tn.Resolve([]string{"sre", "pci"}), pushReq(proto(`{namespace="pay", cluster="us"}`), ct), 400, "different Loki tenants", "", ""},
	})
}
