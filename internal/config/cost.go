package config

import (
	"strings"

	"github.com/tollgate-dev/tollgate/internal/problem"
)

// ApplyDefaults fills in the cost section's optional settings left zero.
func (c *Cost) ApplyDefaults() {
	if c.Cluster == "" {
		c.Cluster = DefaultCluster
	}
	if c.Currency == "" {
		c.Currency = "USD"
	}
	if c.MetricsInterval == 0 {
		c.MetricsInterval = Duration(DefaultCostMetricsInterval)
	}
	if c.MaxQuerySteps == 0 {
		c.MaxQuerySteps = DefaultCostMaxQuerySteps
	}
	if c.MaxConcurrentPerTenant == 0 {
		c.MaxConcurrentPerTenant = DefaultCostMaxConcurrentPerTenant
	}
}

// ValidateCost checks what the cost engine reads on its own, outside the
// gateway (`tollgate cost report`): a cost section, with its defaults
// applied, and the Prometheus upstream. Its problems are the ones
// Validate reports for the same keys, in the same order.
func ValidateCost(up Upstreams, c *Cost) problem.List {
	var ps problem.List
	if up.Prometheus == "" {
		costNeedsPrometheus(&ps)
	} else {
		checkURL(&ps, "upstreams.prometheus", up.Prometheus)
	}
	checkOrgID(&ps, up.PrometheusOrgID)
	return append(ps, c.validate()...)
}

func costNeedsPrometheus(ps *problem.List) {
	ps.Add("cost", "needs upstreams.prometheus", "the cost engine reads kube-state-metrics and cAdvisor series from Prometheus: set upstreams.prometheus, or remove the cost section")
}

// checkOrgID refuses an org ID that would split the X-Scope-OrgID header.
func checkOrgID(ps *problem.List, id string) {
	if strings.ContainsAny(id, "\r\n") {
		ps.Add("upstreams.prometheus_org_id", "contains a line break", "give the Mimir/Cortex tenant ID on one line")
	}
}
