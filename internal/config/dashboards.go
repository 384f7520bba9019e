package config

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/tollgate-dev/tollgate/dashboards"
	"github.com/tollgate-dev/tollgate/internal/problem"
	"github.com/tollgate-dev/tollgate/slo/windows"
)

// Dashboards configures `tollgate dashboards`: the generated Grafana
// dashboards and provisioning. Every key is optional.
type Dashboards struct {
	// URL is Tollgate's URL as Grafana's server reaches it, which the
	// generated data sources point at (default: http:// and listen).
	URL string `yaml:"url"`
	// Preset is the metric convention of tenants that name none (default
	// prometheus-http).
	Preset string `yaml:"preset"`
	// AdminTeams are the Grafana teams given Edit on every team's folder
	// (default: tenancy.admin_groups, for Grafana teams synced from the
	// same SSO groups).
	AdminTeams []string `yaml:"admin_teams"`
	// SLOPeriod is the period of the teams' SLOs (default 30d); it names
	// the period's recording rule the SLO dashboards read.
	SLOPeriod Period `yaml:"slo_period"`
	// LogServiceLabel is the Loki stream label naming the service, which
	// the RED dashboards' "Logs of <service>" links filter on (default: the
	// preset's: service, or service_name for otel). Log agents differ:
	// Promtail's Kubernetes example sets app, Alloy's often container.
	LogServiceLabel string `yaml:"log_service_label"`
	// Tenants set a tenant's preset and services, by tenant name. A tenant
	// without services has them discovered from Prometheus.
	Tenants map[string]DashboardTenant `yaml:"tenants"`
}

// DashboardTenant is one entry of dashboards.tenants.
type DashboardTenant struct {
	Preset          string   `yaml:"preset"`
	Services        []string `yaml:"services"`
	LogServiceLabel string   `yaml:"log_service_label"`
}

// Period is a duration written in Prometheus's notation, days included
// ("30d", "4w"), as SLO periods are.
type Period time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (p *Period) UnmarshalYAML(n *yaml.Node) error {
	v, err := model.ParseDuration(n.Value)
	if err != nil || v <= 0 {
		return fmt.Errorf("line %d: %q is not a period; write it like 30d or 28d", n.Line, n.Value)
	}
	*p = Period(v)
	return nil
}

// DefaultSLOPeriod is Sloth's default SLO period.
const DefaultSLOPeriod = 30 * 24 * time.Hour

func (d *Dashboards) applyDefaults(f *File) {
	if d.URL == "" {
		d.URL = listenURL(f.Listen)
	}
	if d.Preset == "" {
		d.Preset = dashboards.DefaultPreset
	}
	if d.AdminTeams == nil {
		d.AdminTeams = slices.Clone(f.Tenancy.AdminGroups)
	}
	if d.SLOPeriod == 0 {
		d.SLOPeriod = Period(DefaultSLOPeriod)
	}
}

// listenURL is the URL of a listen address, an unspecified host (":9091",
// "0.0.0.0:9091") read as loopback.
func listenURL(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return ""
	}
	if ip, err := netip.ParseAddr(host); host == "" || (err == nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// Service names go into PromQL and LogQL strings and into Grafana row
// titles: the characters of Kubernetes names and of most service labels.
var serviceRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.:-]*$`)

func (d *Dashboards) validate(f *File) problem.List {
	var ps problem.List
	if d.URL != "" {
		checkURL(&ps, "dashboards.url", d.URL)
	}
	presets := dashboards.PresetNames()
	if !slices.Contains(presets, d.Preset) {
		ps.Add("dashboards.preset", fmt.Sprintf("unknown preset %q", d.Preset), "use one of "+strings.Join(presets, ", "))
	}
	for i, t := range d.AdminTeams {
		if strings.TrimSpace(t) == "" {
			ps.Add(fmt.Sprintf("dashboards.admin_teams[%d]", i), "is empty", "name a Grafana team, or remove the entry")
		}
	}
	if _, err := windows.Default().Get(time.Duration(d.SLOPeriod)); err != nil {
		var periods []string
		for _, p := range windows.Default().Periods() {
			periods = append(periods, days(p))
		}
		ps.Add("dashboards.slo_period", fmt.Sprintf("%s is not an SLO period with known alert windows", days(time.Duration(d.SLOPeriod))), "use "+strings.Join(periods, " or ")+", the period your SLO rules were generated with")
	}
	checkLabelName(&ps, "dashboards.log_service_label", d.LogServiceLabel)
	tenants := map[string]bool{}
	var names []string
	for _, t := range f.Tenancy.Tenants {
		tenants[t.Name] = true
		names = append(names, t.Name)
	}
	keys := make([]string, 0, len(d.Tenants))
	for k := range d.Tenants {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, name := range keys {
		t := d.Tenants[name]
		path := "dashboards.tenants." + name
		if !tenants[name] {
			ps.Add(path, fmt.Sprintf("%q is not a tenant of tenancy.tenants", name), "use one of "+strings.Join(names, ", "))
		}
		if t.Preset != "" && !slices.Contains(presets, t.Preset) {
			ps.Add(path+".preset", fmt.Sprintf("unknown preset %q", t.Preset), "use one of "+strings.Join(presets, ", "))
		}
		checkLabelName(&ps, path+".log_service_label", t.LogServiceLabel)
		seen := map[string]bool{}
		for i, s := range t.Services {
			sp := fmt.Sprintf("%s.services[%d]", path, i)
			switch {
			case !serviceRE.MatchString(s):
				ps.Add(sp, fmt.Sprintf("%q is not a service name", s), "use letters, digits and _ . : -, as in the service label of the metrics")
			case seen[s]:
				ps.Add(sp, fmt.Sprintf("service %q is listed twice", s), "remove one")
			}
			seen[s] = true
		}
	}
	return ps
}

// lokiLabelRE is a Loki stream label name.
var lokiLabelRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func checkLabelName(ps *problem.List, path, name string) {
	if name != "" && !lokiLabelRE.MatchString(name) {
		ps.Add(path, fmt.Sprintf("%q is not a label name", name), "use letters, digits and _, not starting with a digit, as the label appears on the log streams (app, container, service_name)")
	}
}

// days prints a period in days, as SLO periods are written ("28d", not
// Prometheus's "4w").
func days(d time.Duration) string {
	return strconv.FormatFloat(d.Hours()/24, 'f', -1, 64) + "d"
}
