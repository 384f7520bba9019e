// Package dashboards generates each team's Grafana dashboards (RED per
// service, SLOs, chargeback) and the platform overview, built on
// grafana-tools/sdk's types. Every dashboard reads through Tollgate's data
// sources, so it can only ever show what its viewer may read; its
// variables and queries are limited to the team's namespaces as well, so
// that an SRE (whom Tollgate does not confine) sees the same dashboard.
//
// Output is deterministic: UIDs derive from the tenant and the kind of
// dashboard, panel IDs and grid positions are numbered per dashboard (the
// SDK's package-global counters are never used), and the JSON is encoded
// canonically. Same input, same bytes. See encode.go and build.go for what
// is worked around in the SDK, and docs/dashboards.md.
package dashboards

import (
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/tollgate-dev/tollgate/slo/windows"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// Kind is a kind of dashboard; it ends the dashboard's UID.
type Kind string

const (
	KindRED        Kind = "red"
	KindSLO        Kind = "slo"
	KindChargeback Kind = "cost"
	KindOverview   Kind = "overview"
)

// ManagedTag marks every generated dashboard; provisioning prunes only
// dashboards that carry it (and a generated UID).
const ManagedTag = "tollgate-managed"

// TeamTag is the tag shared by a tenant's dashboards; each links to the
// others through it.
func TeamTag(tenant string) string { return "team:" + tenant }

// Datasources name the Grafana data sources the dashboards read through.
type Datasources struct {
	PrometheusUID, PrometheusName string
	LokiUID, LokiName             string
}

// DefaultDatasources are the data sources of the generated provisioning
// file and of deploy/grafana/datasources.yaml.
var DefaultDatasources = Datasources{
	PrometheusUID: "tollgate-prometheus", PrometheusName: "Prometheus (Tollgate)",
	LokiUID: "tollgate-loki", LokiName: "Loki (Tollgate)",
}

// Options are the settings shared by every team.
type Options struct {
	// Label is the enforced namespace label (tenancy.label).
	Label string
	// SLOWindows are the SLO period and alert windows the SLO rules were
	// generated with; their windows name the rules the SLO dashboard reads.
	SLOWindows windows.Windows
	// Currency is the ISO 4217 code of the cost metrics (default USD).
	Currency    string
	Datasources Datasources
	// AdminTeams are the Grafana teams given Edit on every team's folder.
	AdminTeams []string
}

// Team is one tenant's input.
type Team struct {
	// Tenant is the tenant's name.
	Tenant string
	// GrafanaTeam is the Grafana team given View on the tenant's folder
	// (tenancy's team, which defaults to the tenant's name).
	GrafanaTeam string
	// Namespaces are the tenant's namespaces: names and globs.
	Namespaces []string
	Preset     Preset
	// Services get a row each on the RED dashboard.
	Services []string
}

// TeamsFromTenancy returns a Team per tenant in configuration order, with
// the default preset and no services.
func TeamsFromTenancy(t *tenancy.Tenancy) []Team {
	p, _ := LookupPreset(DefaultPreset)
	var out []Team
	for _, tn := range t.Tenants() {
		out = append(out, Team{Tenant: tn.Name, GrafanaTeam: tn.Team, Namespaces: tn.Namespaces, Preset: p})
	}
	return out
}

// Folder is a Grafana folder and who may read and edit it.
type Folder struct {
	UID, Title string
	// Viewers and Editors are Grafana team names.
	Viewers, Editors []string
}

// Dashboard is one generated dashboard.
type Dashboard struct {
	UID, Title string
	Kind       Kind
	// Tenant is "" for the platform overview.
	Tenant string
	Folder string // the folder's UID
	// JSON is the canonical dashboard model.
	JSON []byte
}

// File is the dashboard's path inside a generated directory.
func (d Dashboard) File() string {
	if d.Tenant == "" {
		return "platform/" + string(d.Kind) + ".json"
	}
	return "teams/" + d.Tenant + "/" + string(d.Kind) + ".json"
}

// Set is everything generated: folders and dashboards in a stable order
// (teams in configuration order, then the platform).
type Set struct {
	Folders    []Folder
	Dashboards []Dashboard
}

// Generate builds every team's dashboards and the platform overview.
func Generate(opts Options, teams []Team) (*Set, error) {
	if opts.Label == "" {
		return nil, errors.New("generating dashboards: no namespace label; set tenancy.label")
	}
	if opts.SLOWindows.Period <= 0 {
		return nil, errors.New("generating dashboards: no SLO period and windows")
	}
	if opts.Currency == "" {
		opts.Currency = "USD"
	}
	if opts.Datasources == (Datasources{}) {
		opts.Datasources = DefaultDatasources
	}
	set := &Set{}
	seen := map[string]string{}
	add := func(d Dashboard) error {
		if err := checkUID(d.UID); err != nil {
			return err
		}
		if prev, dup := seen[d.UID]; dup {
			return fmt.Errorf("dashboards %q and %q would both have UID %q; rename one tenant", prev, d.Title, d.UID)
		}
		seen[d.UID] = d.Title
		set.Dashboards = append(set.Dashboards, d)
		return nil
	}
	for _, t := range teams {
		if len(t.Namespaces) == 0 {
			return nil, fmt.Errorf("tenant %s has no namespaces", t.Tenant)
		}
		tc := teamCtx{Team: t, opts: opts, scope: scopeRegexp(opts.Label, t.Namespaces)}
		folder := Folder{UID: FolderUID(t.Tenant), Title: t.Tenant, Viewers: []string{t.GrafanaTeam}, Editors: slices.Clone(opts.AdminTeams)}
		if err := checkUID(folder.UID); err != nil {
			return nil, err
		}
		if prev, dup := seen[folder.UID]; dup {
			return nil, fmt.Errorf("folder of tenant %s and %q would both have UID %q; rename one tenant", t.Tenant, prev, folder.UID)
		}
		seen[folder.UID] = "folder " + t.Tenant
		set.Folders = append(set.Folders, folder)
		for _, build := range []func() (Dashboard, error){tc.red, tc.slo, tc.chargeback} {
			d, err := build()
			if err != nil {
				return nil, fmt.Errorf("tenant %s: %w", t.Tenant, err)
			}
			d.Tenant, d.Folder = t.Tenant, folder.UID
			if err := add(d); err != nil {
				return nil, err
			}
		}
	}
	set.Folders = append(set.Folders, Folder{UID: PlatformFolderUID, Title: "Platform", Editors: slices.Clone(opts.AdminTeams)})
	ov, err := overview(opts, teams)
	if err != nil {
		return nil, err
	}
	ov.Folder = PlatformFolderUID
	if err := add(ov); err != nil {
		return nil, err
	}
	return set, nil
}

// teamCtx is one team's generation.
type teamCtx struct {
	Team
	opts Options
	// scope is the regexp matching exactly the team's namespaces.
	scope string
}

// nsSel is the namespace matcher of every team query.
func (t teamCtx) nsSel() string { return re(t.opts.Label, "$namespace") }

func (t teamCtx) tags(k Kind) []string {
	return []string{ManagedTag, TeamTag(t.Tenant), string(k)}
}

// scopeRegexp is the regexp of the tenant's namespaces, built by tenancy
// exactly as the proxy builds the tenant's matcher.
func scopeRegexp(label string, namespaces []string) string {
	m := tenancy.NewScope(label, namespaces).Matcher()
	if m.Type == labels.MatchEqual {
		return regexp.QuoteMeta(m.Value)
	}
	return m.Value
}
