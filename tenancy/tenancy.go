// Package tenancy maps SSO groups to tenants and tenants to the namespaces
// they may read. It is the single source of truth for "who sees what": the
// query proxy, the cost API and the generators all ask it.
package tenancy

import (
	"encoding/binary"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/prometheus/model/labels"
)

// Tenancy is the compiled `tenancy:` section. It is immutable and safe for
// concurrent use.
type Tenancy struct {
	label     string
	cluster   string
	admins    map[string]bool
	adminOrgs []string
	tenants   []*Tenant
	byGroup   map[string][]*Tenant
	byName    map[string]*Tenant
	// resolved memoizes Resolve by group list: building a scope compiles
	// two regular expressions, a fifth of the gateway's per-request CPU
	// before it was kept. At most maxResolved lists are kept; further
	// ones are resolved every time.
	resolved  sync.Map
	nResolved atomic.Int64
}

// maxResolved bounds the group lists whose access is kept.
const maxResolved = 4096

// Tenant is one team: a name, the groups that belong to it and its namespaces.
type Tenant struct {
	Name       string
	Groups     []string
	Namespaces []string // as configured: exact names and globs
	CostCenter string
	Team       string
	// LokiOrgID is the Loki tenant holding the tenant's logs.
	LokiOrgID string
	// DefaultNamespace, if set, is given to pushed streams without one.
	DefaultNamespace string
	// Clusters confine the tenant to these clusters, sorted; empty means
	// every cluster.
	Clusters []string
	// Scope is the tenant's own namespaces.
	Scope Scope
	// ClusterScope is the tenant's clusters on the cluster label; it is
	// empty when the tenant is not confined to clusters.
	ClusterScope Scope
}

// New compiles a validated configuration. It returns the validation problems
// as an error when there are any errors among them.
func New(cfg Config) (*Tenancy, error) {
	if err := cfg.Validate().Err(); err != nil {
		return nil, err
	}
	t := &Tenancy{
		label:   cfg.Label,
		cluster: cfg.EffectiveClusterLabel(),
		admins:  map[string]bool{},
		byGroup: map[string][]*Tenant{},
		byName:  map[string]*Tenant{},
	}
	for _, g := range cfg.AdminGroups {
		t.admins[g] = true
	}
	t.adminOrgs = slices.Clone(cfg.AdminLokiOrgIDs)
	for _, tc := range cfg.Tenants {
		tn := &Tenant{
			Name:             tc.Name,
			Groups:           slices.Clone(tc.Groups),
			Namespaces:       slices.Clone(tc.Namespaces),
			CostCenter:       tc.CostCenter,
			Team:             tc.Team,
			LokiOrgID:        tc.LokiOrgID,
			DefaultNamespace: tc.DefaultNamespace,
			Clusters:         sortedUnique(tc.Clusters),
			Scope:            NewScope(cfg.Label, tc.Namespaces),
			ClusterScope:     NewScope(cfg.EffectiveClusterLabel(), tc.Clusters),
		}
		if tn.Team == "" {
			tn.Team = tn.Name
		}
		if tn.LokiOrgID == "" {
			tn.LokiOrgID = tn.Name
		}
		t.tenants = append(t.tenants, tn)
		t.byName[tn.Name] = tn
		for _, g := range tc.Groups {
			t.byGroup[g] = append(t.byGroup[g], tn)
		}
	}
	return t, nil
}

// Label is the enforced label name.
func (t *Tenancy) Label() string { return t.label }

// ClusterLabel is the label enforced for tenants confined to clusters.
func (t *Tenancy) ClusterLabel() string { return t.cluster }

// Tenants returns every configured tenant in configuration order.
func (t *Tenancy) Tenants() []*Tenant { return slices.Clone(t.tenants) }

// Tenant returns the tenant with the given name.
func (t *Tenancy) Tenant(name string) (*Tenant, bool) {
	tn, ok := t.byName[name]
	return tn, ok
}

// Access is what an identity may read, resolved from its groups.
type Access struct {
	// Admin means unrestricted access: queries pass unrewritten.
	Admin bool
	// Tenants the identity belongs to, sorted by name.
	Tenants []*Tenant
	// Scope is the union of the tenants' namespaces. It is empty for admins
	// and for identities without any tenant.
	Scope Scope
	// Clusters confine Scope to these clusters: every selector carries
	// Clusters' matcher as well as Scope's. It is empty for admins and for
	// identities whose tenants are not confined to clusters.
	Clusters Scope
	// Refused, when set, says why the identity may read nothing although
	// it belongs to tenants: their cluster confinements differ, which one
	// namespace matcher ANDed with one cluster matcher cannot express.
	Refused string
	// LokiOrgIDs are the Loki tenants the identity queries, sorted: its
	// tenants' org IDs, or for admins tenancy.admin_loki_org_ids (default:
	// every tenant's).
	LokiOrgIDs []string
	// writable are the tenants the identity may push as.
	writable []*Tenant
	// label is Label's answer, joined once by resolve.
	label string
}

// Label returns the tenant names joined with "+", the tenant label of
// metrics and the access log. Resolve joins it once per group list.
func (a Access) Label() string {
	if a.label != "" || len(a.Tenants) == 0 {
		return a.label
	}
	return strings.Join(a.TenantNames(), "+")
}

// Allowed reports whether the identity may read anything at all.
func (a Access) Allowed() bool { return a.Admin || (a.Refused == "" && !a.Scope.Empty()) }

// ClusterConfined reports whether the identity reads only some clusters.
func (a Access) ClusterConfined() bool { return !a.Admin && !a.Clusters.Empty() }

// TenantNames returns the sorted names of the identity's tenants.
func (a Access) TenantNames() []string {
	names := make([]string, len(a.Tenants))
	for i, tn := range a.Tenants {
		names[i] = tn.Name
	}
	return names
}

// Resolve maps an identity's groups to its access. Group names are compared
// exactly: case-insensitive matching of principals has caused privilege
// escalation in other label proxies.
func (t *Tenancy) Resolve(groups []string) Access {
	k := memoKey(groups)
	if v, ok := t.resolved.Load(k); ok {
		return v.(Access)
	}
	a := t.resolve(groups)
	if t.nResolved.Add(1) <= maxResolved {
		t.resolved.Store(k, a)
	}
	return a
}

// memoKey encodes a group list unambiguously: each name is preceded by its
// length. Joining with a separator would let one group whose name holds
// the separator ("a\x00b", which a token can carry) share the memo entry,
// and so the access, of the two groups "a" and "b".
func memoKey(groups []string) string {
	n := 0
	for _, g := range groups {
		n += len(g) + binary.MaxVarintLen64
	}
	k := make([]byte, 0, n)
	for _, g := range groups {
		k = binary.AppendUvarint(k, uint64(len(g)))
		k = append(k, g...)
	}
	return string(k)
}

// resolve is Resolve without the memo. The Access it returns is shared
// by every later request of the same groups: nothing changes it.
func (t *Tenancy) resolve(groups []string) Access {
	var a Access
	seen := map[string]bool{}
	var patterns []string
	for _, g := range groups {
		if t.admins[g] {
			a.Admin = true
		}
		for _, tn := range t.byGroup[g] {
			if seen[tn.Name] {
				continue
			}
			seen[tn.Name] = true
			a.Tenants = append(a.Tenants, tn)
			patterns = append(patterns, tn.Namespaces...)
		}
	}
	sort.Slice(a.Tenants, func(i, j int) bool { return a.Tenants[i].Name < a.Tenants[j].Name })
	a.label = strings.Join(a.TenantNames(), "+")
	if a.Admin {
		a.LokiOrgIDs = t.adminOrgs
		if len(a.LokiOrgIDs) == 0 {
			a.LokiOrgIDs = orgIDs(t.tenants)
		}
		a.LokiOrgIDs = sortedUnique(a.LokiOrgIDs)
		// Admins push as whichever tenant owns a stream's namespace.
		a.writable = t.tenants
	} else {
		a.LokiOrgIDs = sortedUnique(orgIDs(a.Tenants))
		if a.Refused = mixedClusters(a.Tenants); a.Refused != "" {
			return a
		}
		a.Scope = NewScope(t.label, patterns)
		if len(a.Tenants) > 0 {
			a.Clusters = a.Tenants[0].ClusterScope
		}
		a.writable = a.Tenants
	}
	return a
}

// mixedClusters returns why tenants sorted by name cannot be combined, or
// "" when they share one cluster confinement (or none). Two tenants
// confined to different clusters would need "namespace A in cluster X or
// namespace B in cluster Y", which one namespace matcher ANDed with one
// cluster matcher cannot say; their union would let each read the other's
// namespaces in its clusters, so the identity is refused instead.
func mixedClusters(ts []*Tenant) string {
	if len(ts) < 2 {
		return ""
	}
	first := ts[0].Clusters
	for _, tn := range ts[1:] {
		if !slices.Equal(tn.Clusters, first) {
			parts := make([]string, len(ts))
			for i, x := range ts {
				parts[i] = fmt.Sprintf("%s (%s)", x.Name, clusterList(x.Clusters))
			}
			return "its tenants " + strings.Join(parts, ", ") + " are confined to different clusters, " +
				"which Tollgate cannot combine in one query; an identity must belong to tenants with the same tenancy.tenants[].clusters"
		}
	}
	return ""
}

func clusterList(cs []string) string {
	if len(cs) == 0 {
		return "all clusters"
	}
	return "clusters " + strings.Join(cs, ", ")
}

func orgIDs(ts []*Tenant) []string {
	out := make([]string, len(ts))
	for i, tn := range ts {
		out[i] = tn.LokiOrgID
	}
	return out
}

func sortedUnique(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// Owners returns the tenants, among those the identity may write as, whose
// namespaces include ns. For admins that is every tenant.
func (a Access) Owners(ns string) []*Tenant {
	var out []*Tenant
	for _, tn := range a.writable {
		if tn.Scope.Matches(ns) {
			out = append(out, tn)
		}
	}
	return out
}

// DefaultNamespace returns the namespace given to pushed streams that carry
// none: the identity's tenants' default_namespace, when they configure
// exactly one between them.
func (a Access) DefaultNamespace() (string, bool) {
	var defaults []string
	for _, tn := range a.Tenants {
		if tn.DefaultNamespace != "" {
			defaults = append(defaults, tn.DefaultNamespace)
		}
	}
	defaults = sortedUnique(defaults)
	if len(defaults) != 1 {
		return "", false
	}
	return defaults[0], true
}

// Scope is a set of namespaces, given as exact names and globs, on one label.
// The zero Scope is empty and matches nothing.
type Scope struct {
	label   string
	exact   []string // sorted, deduplicated
	globs   []string // sorted, deduplicated
	matcher *labels.Matcher
	re      *regexp.Regexp
}

// NewScope builds a scope over label from namespace names and globs. Entries
// must already be validated (see Config.Validate).
func NewScope(label string, patterns []string) Scope {
	s := Scope{label: label}
	for _, p := range patterns {
		if strings.Contains(p, "*") {
			s.globs = append(s.globs, p)
		} else {
			s.exact = append(s.exact, p)
		}
	}
	slices.Sort(s.exact)
	s.exact = slices.Compact(s.exact)
	slices.Sort(s.globs)
	s.globs = slices.Compact(s.globs)
	if s.Empty() {
		return s
	}
	var m *labels.Matcher
	var err error
	if len(s.exact) == 1 && len(s.globs) == 0 {
		m, err = labels.NewMatcher(labels.MatchEqual, label, s.exact[0])
	} else {
		m, err = labels.NewMatcher(labels.MatchRegexp, label, s.regexp())
	}
	if err != nil {
		// The alternation is built from escaped literals and ".*", so it
		// always compiles; reaching this is a programming error.
		panic(fmt.Sprintf("tenancy: building matcher for %v: %v", patterns, err))
	}
	s.matcher = m
	s.re = regexp.MustCompile("^(?:" + s.regexp() + ")$")
	return s
}

// regexp returns the unanchored alternation of the scope's namespaces.
// Literal parts are escaped, so a namespace can never widen the match.
func (s Scope) regexp() string {
	alts := make([]string, 0, len(s.exact)+len(s.globs))
	for _, e := range s.exact {
		alts = append(alts, regexp.QuoteMeta(e))
	}
	for _, g := range s.globs {
		parts := strings.Split(g, "*")
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(p)
		}
		alts = append(alts, strings.Join(parts, ".*"))
	}
	return strings.Join(alts, "|")
}

// Empty reports whether the scope selects no namespace at all.
func (s Scope) Empty() bool { return len(s.exact) == 0 && len(s.globs) == 0 }

// Label returns the enforced label name.
func (s Scope) Label() string { return s.label }

// Matcher returns the matcher to AND into every selector: an equality
// matcher for a single namespace, an anchored alternation otherwise.
// It returns nil for an empty scope.
func (s Scope) Matcher() *labels.Matcher { return s.matcher }

// Matches reports whether a namespace belongs to the scope. The empty string
// never matches: a series without the label belongs to nobody.
func (s Scope) Matches(namespace string) bool {
	if s.re == nil || namespace == "" {
		return false
	}
	return s.re.MatchString(namespace)
}

// Namespaces returns the exact names and globs of the scope, sorted.
func (s Scope) Namespaces() []string {
	return append(slices.Clone(s.exact), s.globs...)
}

// HasMatcher reports whether ms contains a matcher equal to m: the check
// that a rewritten selector carries a scope's matcher.
func HasMatcher(ms []*labels.Matcher, m *labels.Matcher) bool {
	for _, x := range ms {
		if x.Type == m.Type && x.Name == m.Name && x.Value == m.Value {
			return true
		}
	}
	return false
}
