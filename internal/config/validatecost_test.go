package config

import (
	"reflect"
	"strings"
	"testing"
)

// ValidateCost, which `tollgate cost report` checks its settings with,
// reports what Validate reports for the cost section and the Prometheus
// upstream of a whole file, in the same order, and nothing else.
func TestValidateCostMatchesValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		up   Upstreams
		cost Cost
	}{
		{"clean", Upstreams{Prometheus: "http://prometheus:9090"}, Cost{}},
		{"every cost problem", Upstreams{Prometheus: "http://prometheus:9090"}, Cost{PricingFile: "/nonexistent.csv", DefaultPrices: DefaultPrices{RAM: -1},
			Discounts: map[string]float64{"aws": 120, "ibm": 5}, SharedNamespaces: []string{"Kube_System"}, SharedOverheadMonthly: 5,
			Currency: "dollars", MaxQuerySteps: 10, MaxConcurrentPerTenant: -1}},
		{"bad upstream", Upstreams{Prometheus: "ftp://user:pw@prometheus?x=1", PrometheusOrgID: "a\nb"}, Cost{Discounts: map[string]float64{"gcp": -1}}},
		{"no upstream", Upstreams{Loki: "http://loki:3100"}, Cost{}},
	} {
		whole := c.cost
		f := File{Upstreams: c.up, Cost: &whole}
		f.ApplyDefaults()
		var want []string
		for _, p := range f.Validate() {
			if strings.HasPrefix(p.Path, "cost") || strings.HasPrefix(p.Path, "upstreams.prometheus") {
				want = append(want, p.String())
			}
		}
		alone := c.cost
		alone.ApplyDefaults()
		var got []string
		for _, p := range ValidateCost(c.up, &alone) {
			got = append(got, p.String())
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, want)
		}
		if !reflect.DeepEqual(alone, whole) {
			t.Errorf("%s: defaults differ:\n got %+v\nwant %+v", c.name, alone, whole)
		}
	}
}
