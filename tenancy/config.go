package tenancy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tollgate-dev/tollgate/internal/problem"
	"github.com/tollgate-dev/tollgate/limits"
)

// Config is the `tenancy:` section of the Tollgate configuration file.
type Config struct {
	// Label is the label enforced on every selector, usually "namespace".
	Label string `yaml:"label"`
	// AdminGroups are SSO groups with unrestricted, unrewritten access.
	AdminGroups []string `yaml:"admin_groups"`
	// ClusterLabel is the label naming a series' cluster, enforced for
	// tenants confined to clusters. Default: "cluster".
	ClusterLabel string `yaml:"cluster_label"`
	// Tenants maps SSO groups to the namespaces they may read.
	Tenants []TenantConfig `yaml:"tenants"`
	// AdminLokiOrgIDs are the Loki org IDs admins query. Default: every
	// tenant's org ID.
	AdminLokiOrgIDs []string `yaml:"admin_loki_org_ids"`
	// AdminLimits hold admins (all of them together) to limits; without
	// it admins are not limited: `limits:` is for tenants.
	AdminLimits *limits.Config `yaml:"admin_limits"`
}

// TenantConfig is one entry of `tenancy.tenants`.
type TenantConfig struct {
	Name   string   `yaml:"name"`
	Groups []string `yaml:"groups"`
	// Namespaces are exact namespace names or globs such as "team-payments-*".
	Namespaces []string `yaml:"namespaces"`
	// Clusters, when set, confine the tenant to these values of the
	// cluster label as well: its namespaces are read only in them.
	Clusters   []string `yaml:"clusters"`
	CostCenter string   `yaml:"cost_center"`
	Team       string   `yaml:"team"`
	// LokiOrgID is the Loki tenant (X-Scope-OrgID) holding this tenant's
	// logs. Default: the tenant name.
	LokiOrgID string `yaml:"loki_org_id"`
	// DefaultNamespace is given to pushed streams that carry no namespace
	// label. It must be one of Namespaces, not a glob.
	DefaultNamespace string `yaml:"default_namespace"`
	// Limits override the global `limits:` for this tenant, key by key.
	Limits *limits.Config `yaml:"limits"`
}

var (
	// Tenant names end up in metric labels, folder UIDs and URLs, so they are
	// restricted to the same alphabet as Kubernetes names.
	tenantNameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	// A namespace is a DNS-1123 label; a glob may add '*' anywhere.
	namespaceGlobRE = regexp.MustCompile(`^[a-z0-9*]([-a-z0-9*]*[a-z0-9*])?$`)
	// Loki org IDs: the characters Loki accepts in a tenant ID, without '|'
	// (which joins several IDs in one header).
	orgIDRE = regexp.MustCompile(`^[a-zA-Z0-9!._*'()-]{1,150}$`)
	// Label names are restricted to the legacy Prometheus charset so that the
	// same label can be enforced in PromQL and LogQL (Loki has no UTF-8 names).
	labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// DefaultClusterLabel is the cluster label when tenancy.cluster_label is
// not set: the external label Thanos and Prometheus setups usually use.
const DefaultClusterLabel = "cluster"

// maxClusterName bounds a cluster name; label values have no limit of
// their own, but a cluster name is an identifier, not a payload.
const maxClusterName = 253

// EffectiveClusterLabel is ClusterLabel with its default applied.
func (c Config) EffectiveClusterLabel() string {
	if c.ClusterLabel == "" {
		return DefaultClusterLabel
	}
	return c.ClusterLabel
}

// Validate checks the section and returns every problem found, each with the
// path of the offending key so that the loader can point at its line.
func (c Config) Validate() problem.List {
	var ps problem.List
	switch {
	case c.Label == "":
		ps.Add("tenancy.label", "is missing", `set it to the label that carries the namespace on every series, usually "namespace"`)
	case !labelNameRE.MatchString(c.Label):
		ps.Add("tenancy.label", fmt.Sprintf("%q is not a valid label name", c.Label), "use letters, digits and underscores, not starting with a digit")
	case strings.HasPrefix(c.Label, "__"):
		ps.Add("tenancy.label", fmt.Sprintf("%q is a reserved label name", c.Label), "labels starting with __ are internal to Prometheus; use the namespace label")
	}
	for i, g := range c.AdminGroups {
		if strings.TrimSpace(g) == "" {
			ps.Add(fmt.Sprintf("tenancy.admin_groups[%d]", i), "is empty", "remove the entry or name an SSO group")
		}
	}
	if len(c.Tenants) == 0 {
		ps.Add("tenancy.tenants", "no tenants are configured", "add at least one tenant with name, groups and namespaces; until then only admins can use Tollgate")
	}
	for i, id := range c.AdminLokiOrgIDs {
		if msg := checkOrgID(id); msg != "" {
			ps.Add(fmt.Sprintf("tenancy.admin_loki_org_ids[%d]", i), msg, "use letters, digits and !-_.*'(), at most 150 characters")
		}
	}
	ps = append(ps, c.AdminLimits.Validate("tenancy.admin_limits")...)
	c.validateClusterLabel(&ps)
	names := map[string]int{}
	owners := map[string]int{}
	for i := range c.Tenants {
		c.validateTenant(i, names, owners, &ps)
	}
	return ps
}

// validateTenant checks tenancy.tenants[i]; names and owners carry what
// the tenants before it declared (names and namespaces), for duplicates.
func (c Config) validateTenant(i int, names, owners map[string]int, ps *problem.List) {
	t := c.Tenants[i]
	path := fmt.Sprintf("tenancy.tenants[%d]", i)
	switch {
	case t.Name == "":
		ps.Add(path+".name", "is missing", "give the tenant a short lowercase name such as \"payments\"")
	case !tenantNameRE.MatchString(t.Name) || len(t.Name) > 63:
		ps.Add(path+".name", fmt.Sprintf("%q is not a valid tenant name", t.Name), "use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit")
	default:
		if j, dup := names[t.Name]; dup {
			ps.Add(path+".name", fmt.Sprintf("tenant %q is already defined at tenancy.tenants[%d]", t.Name, j), "merge the two entries or rename one")
		}
		names[t.Name] = i
	}
	if len(t.Groups) == 0 {
		ps.Add(path+".groups", "no groups are configured", "list the SSO groups whose members belong to this tenant; without any, nobody can reach it")
	}
	for j, g := range t.Groups {
		if strings.TrimSpace(g) == "" || g != strings.TrimSpace(g) {
			ps.Add(fmt.Sprintf("%s.groups[%d]", path, j), fmt.Sprintf("group %q is empty or has surrounding spaces", g), "group names are compared exactly; write the name as your identity provider sends it")
		}
	}
	if len(t.Namespaces) == 0 {
		ps.Add(path+".namespaces", "no namespaces are configured", "list the namespaces this tenant may read, e.g. [team-payments-prod] or [\"team-payments-*\"]")
	}
	for j, ns := range t.Namespaces {
		nsPath := fmt.Sprintf("%s.namespaces[%d]", path, j)
		if msg, fix := checkNamespace(ns); msg != "" {
			ps.Add(nsPath, msg, fix)
			continue
		}
		if prev, ok := owners[ns]; ok && c.Tenants[prev].Name != t.Name && clustersOverlap(c.Tenants[prev].Clusters, t.Clusters) {
			ps.Warn(nsPath, fmt.Sprintf("namespace %q is also granted to tenant %q", ns, c.Tenants[prev].Name), "this is allowed, but both tenants will read it; remove one entry if that is not intended")
		}
		owners[ns] = i
	}
	for j, cl := range t.Clusters {
		if msg, fix := checkCluster(cl); msg != "" {
			ps.Add(fmt.Sprintf("%s.clusters[%d]", path, j), msg, fix)
		}
	}
	if t.LokiOrgID != "" {
		if msg := checkOrgID(t.LokiOrgID); msg != "" {
			ps.Add(path+".loki_org_id", msg, "use letters, digits and !-_.*'(), at most 150 characters; leave it out to use the tenant name")
		}
	}
	*ps = append(*ps, t.Limits.Validate(path+".limits")...)
	if t.DefaultNamespace != "" && (strings.Contains(t.DefaultNamespace, "*") || !slices.Contains(t.Namespaces, t.DefaultNamespace)) {
		ps.Add(path+".default_namespace", fmt.Sprintf("%q is not one of the tenant's namespaces (globs excluded)", t.DefaultNamespace), "name one of the exact namespaces listed in namespaces, or leave it out to refuse pushed streams without a namespace label")
	}
}

// clustersOverlap reports whether two tenants' cluster confinements share
// a cluster; a tenant without clusters reads them all. The same namespace
// name in disjoint clusters is two namespaces.
func clustersOverlap(a, b []string) bool {
	if len(a) == 0 || len(b) == 0 {
		return true
	}
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// validateClusterLabel checks tenancy.cluster_label. The default is only
// checked against the namespace label when some tenant uses clusters, so
// that a configuration without clusters never fails on a key it omits.
func (c Config) validateClusterLabel(ps *problem.List) {
	used := c.ClusterLabel != ""
	for _, t := range c.Tenants {
		used = used || len(t.Clusters) > 0
	}
	if !used {
		return
	}
	l := c.EffectiveClusterLabel()
	switch {
	case !labelNameRE.MatchString(l):
		ps.Add("tenancy.cluster_label", fmt.Sprintf("%q is not a valid label name", l), "use letters, digits and underscores, not starting with a digit; leave it out for \"cluster\"")
	case strings.HasPrefix(l, "__"):
		ps.Add("tenancy.cluster_label", fmt.Sprintf("%q is a reserved label name", l), "labels starting with __ are internal to Prometheus; use the label naming the cluster, usually \"cluster\"")
	case l == c.Label:
		ps.Add("tenancy.cluster_label", fmt.Sprintf("%q is also tenancy.label", l), "the cluster and the namespace must be two different labels; set cluster_label to the label naming the cluster")
	}
}

// checkCluster checks one tenants[].clusters entry: an exact cluster name
// (a label value), never a pattern, so that it cannot widen the match.
func checkCluster(cl string) (msg, fix string) {
	switch {
	case cl == "":
		return "is empty", "remove the entry or name a cluster as its series' cluster label carries it"
	case !utf8.ValidString(cl) || len(cl) > maxClusterName || strings.ContainsFunc(cl, unicode.IsControl):
		return fmt.Sprintf("%q is not a valid cluster name", cl), "use valid UTF-8 without control characters, at most 253 bytes"
	case cl != strings.TrimSpace(cl):
		return fmt.Sprintf("cluster %q has surrounding spaces", cl), "cluster names are compared exactly; write the name as the cluster label carries it"
	case strings.Contains(cl, "*"):
		return fmt.Sprintf("%q is a pattern", cl), "list each cluster by its exact name; globs are not accepted for clusters"
	}
	return "", ""
}

func checkOrgID(id string) string {
	switch {
	case id == "." || id == "..":
		return fmt.Sprintf("%q is not a valid Loki org ID", id)
	case !orgIDRE.MatchString(id):
		return fmt.Sprintf("%q is not a valid Loki org ID", id)
	}
	return ""
}

func checkNamespace(ns string) (msg, fix string) {
	switch {
	case ns == "":
		return "is empty", "remove the entry or name a namespace"
	case len(ns) > 63:
		return fmt.Sprintf("%q is longer than 63 characters", ns), "Kubernetes namespace names are at most 63 characters"
	case !namespaceGlobRE.MatchString(ns):
		return fmt.Sprintf("%q is not a namespace name or glob", ns), "use lowercase letters, digits and '-', and '*' as a wildcard (\"team-payments-*\"); regular expressions are not accepted"
	case strings.Trim(ns, "*") == "":
		return fmt.Sprintf("%q matches every namespace", ns), "a tenant that may read everything is an admin: add its group to tenancy.admin_groups instead"
	}
	return "", ""
}
