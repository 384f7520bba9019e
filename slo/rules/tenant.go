package rules

import (
	"strings"

	"github.com/tollgate-dev/tollgate/promenforce"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// ForTenant returns opts confined to a tenant of the gateway's tenancy:
// every SLI query ANDed with the tenant's namespace matcher by the
// gateway's own rewriter, alerts carrying the tenant's team, and the SLO
// series labelled with a namespace the tenant can read them in.
//
// That namespace is the tenant's default_namespace or, when it has none
// and exactly one namespace that is not a glob, that namespace: the only
// one its series could carry. Otherwise a spec must set the label itself,
// and the generator warns where it does not.
//
// It is the one mapping from a tenant to generator options: the command
// and the demo both use it, so that they generate the same rules.
func ForTenant(opts Options, t *tenancy.Tenant) Options {
	opts.Tenant, opts.Team = t.Name, t.Team
	opts.Scoper = NewScoper(promenforce.New(), t.Scope.Matcher())
	opts.TenantLabel, opts.OwnsNamespace = t.Scope.Label(), t.Scope.Matches
	opts.TenantNamespace = t.DefaultNamespace
	if opts.TenantNamespace == "" && len(t.Namespaces) == 1 && !strings.Contains(t.Namespaces[0], "*") {
		opts.TenantNamespace = t.Namespaces[0]
	}
	return opts
}
