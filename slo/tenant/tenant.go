// Package tenant reads, from a Tollgate configuration, the tenants that
// SLO rules are confined to and that Alertmanager routes page.
package tenant

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// Load reads the tenancy of a Tollgate configuration file.
func Load(path string) (*tenancy.Tenancy, error) {
	cfg, ps, err := config.Load(path)
	if err != nil {
		if len(ps) > 0 {
			// The problems are many and long; config check prints them.
			return nil, fmt.Errorf("%s is not valid (tollgate config check %s shows why): %w", path, path, err)
		}
		return nil, err
	}
	return tenancy.New(cfg.Tenancy)
}

// Find returns the tenant of the name, or an error naming source (the
// configuration it was read from) and every tenant it has.
func Find(tn *tenancy.Tenancy, name, source string) (*tenancy.Tenant, error) {
	if t, ok := tn.Tenant(name); ok {
		return t, nil
	}
	var names []string
	for _, t := range tn.Tenants() {
		names = append(names, t.Name)
	}
	return nil, fmt.Errorf("%s has no such tenant; its tenants are: %s", source, strings.Join(names, ", "))
}

// Teams returns the tenants' teams, each once, in configuration order.
func Teams(tn *tenancy.Tenancy) []string {
	var teams []string
	for _, t := range tn.Tenants() {
		if !slices.Contains(teams, t.Team) {
			teams = append(teams, t.Team)
		}
	}
	return teams
}
