package config

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/problem"
)

// ApplyDefaults fills in the cost section's optional settings left zero.
func (c *Cost) ApplyDefaults() {
	if c.Cluster == "" {
		c.Cluster = DefaultCluster
	}
	if c.ClusterLabel == "" {
		c.ClusterLabel = DefaultCostClusterLabel
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

// DefaultCostClusterLabel is the label naming a series' cluster.
const DefaultCostClusterLabel = "cluster"

// CostClusters are the cost section's keys for a backend holding several
// clusters' series (Thanos Query, Mimir).
type CostClusters struct {
	// ClusterLabel names the label that says a series' cluster (default
	// "cluster"); series without it belong to cost.cluster.
	ClusterLabel string `yaml:"cluster_label"`
	// Clusters are the clusters expected in the data: one missing from a
	// window is a warning in the answer, never a silent zero.
	Clusters []string `yaml:"clusters"`
	// ClusterRegions map a cluster to its region, for the FOCUS export's
	// RegionId and RegionName when its nodes carry no region label.
	ClusterRegions map[string]string `yaml:"cluster_regions"`
}

// labelNameRE is a Prometheus label name that PromQL accepts unquoted.
var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func (c *CostClusters) validate() problem.List {
	var ps problem.List
	if c.ClusterLabel != "" && !labelNameRE.MatchString(c.ClusterLabel) {
		ps.Add("cost.cluster_label", fmt.Sprintf("%q is not a Prometheus label name", c.ClusterLabel), "give a label name such as cluster (letters, digits and _; not starting with a digit)")
	}
	seen := map[string]bool{}
	for i, cl := range c.Clusters {
		switch {
		case strings.TrimSpace(cl) == "" || strings.ContainsAny(cl, "/\r\n"):
			ps.Add(fmt.Sprintf("cost.clusters[%d]", i), fmt.Sprintf("%q is not a cluster name", cl), "give the value of the cluster label, without / or line breaks")
		case seen[cl]:
			ps.Add(fmt.Sprintf("cost.clusters[%d]", i), fmt.Sprintf("%q is listed twice", cl), "list each cluster once")
		}
		seen[cl] = true
	}
	for _, cl := range slices.Sorted(maps.Keys(c.ClusterRegions)) {
		if region := c.ClusterRegions[cl]; strings.TrimSpace(region) == "" || strings.ContainsAny(region, "\r\n") {
			ps.Add("cost.cluster_regions."+cl, fmt.Sprintf("%q is not a region", region), "give the provider's region code, e.g. eu-west-1")
		}
	}
	return ps
}
