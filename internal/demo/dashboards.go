package demo

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tollgate-dev/tollgate/dashboards"
	"github.com/tollgate-dev/tollgate/dashboards/fromconfig"
	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/demo/synth"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// outputComponents are the components writing into the output folder, run
// after the gateway: none without a folder.
func outputComponents(dir string, gw *Gateway, cluster synth.Cluster, logger *slog.Logger) []Component {
	if dir == "" {
		return nil
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return []Component{NewDashboards(dir, gw, cluster, logger.With("component", "dashboards"))}
}

// Dashboards writes every demo team's Grafana dashboards and the
// provisioning files into the output folder, exactly as `tollgate
// dashboards generate` writes them for the gateway's configuration, with
// the data sources pointing at the running gateway. Nothing is served: the
// files are for a Grafana the user runs, and stay after the demo stops.
type Dashboards struct {
	dir     string
	gateway *Gateway
	cluster synth.Cluster
	logger  *slog.Logger
	set     *dashboards.Set
	res     dashboards.WriteResult
}

// NewDashboards returns the component; Start runs after the gateway's.
func NewDashboards(dir string, gw *Gateway, cluster synth.Cluster, logger *slog.Logger) *Dashboards {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Dashboards{dir: dir, gateway: gw, cluster: cluster, logger: logger}
}

// Name implements Component.
func (d *Dashboards) Name() string { return "dashboards" }

// Dir is where the files are written.
func (d *Dashboards) Dir() string { return d.dir }

// Start implements Component: it generates and writes the files.
func (d *Dashboards) Start(ctx context.Context) error {
	dir, err := filepath.Abs(d.dir)
	if err != nil {
		return fmt.Errorf("demo output folder: %w", err)
	}
	d.dir = dir
	cfg := *d.gateway.cfg
	cfg.Dashboards.URL = d.gateway.URL()
	// The cluster's services are known: no Prometheus discovery.
	services, err := tenantServices(d.cluster, cfg.Tenancy)
	if err != nil {
		return err
	}
	cfg.Dashboards.Tenants = map[string]config.DashboardTenant{}
	for name, svcs := range services {
		cfg.Dashboards.Tenants[name] = config.DashboardTenant{Services: svcs}
	}
	teams, err := fromconfig.Teams(ctx, &cfg, nil)
	if err != nil {
		return err
	}
	opts, err := fromconfig.Options(&cfg)
	if err != nil {
		return err
	}
	if d.set, err = dashboards.Generate(opts, teams); err != nil {
		return err
	}
	// The providers point at the files where they are, for a Grafana on
	// this machine.
	files, err := dashboards.Files(d.set, fromconfig.FileOptions(&cfg, d.dir))
	if err != nil {
		return err
	}
	if d.res, err = dashboards.WriteDir(d.dir, files); err != nil {
		return fmt.Errorf("writing the demo's dashboards: %w", err)
	}
	d.logger.Info("dashboards written", "dir", d.dir, "dashboards", len(d.set.Dashboards), "written", len(d.res.Written), "unchanged", len(d.res.Unchanged))
	return nil
}

// tenantServices lists each tenant's services: those of the cluster's
// namespaces in its scope, in cluster order.
func tenantServices(c synth.Cluster, tc tenancy.Config) (map[string][]string, error) {
	t, err := tenancy.New(tc)
	if err != nil {
		return nil, fmt.Errorf("demo tenancy: %w", err)
	}
	out := map[string][]string{}
	for _, tn := range t.Tenants() {
		for _, ns := range c.Namespaces {
			if !tn.Scope.Matches(ns.Name) {
				continue
			}
			for _, s := range ns.Services {
				if !slices.Contains(out[tn.Name], s) {
					out[tn.Name] = append(out[tn.Name], s)
				}
			}
		}
	}
	return out, nil
}

// Stop implements Component. The files stay: they are the demo's output.
func (d *Dashboards) Stop() error { return nil }

// Section implements Component.
func (d *Dashboards) Section() Section {
	var teams []string
	for _, f := range d.set.Folders {
		if f.UID != dashboards.PlatformFolderUID {
			teams = append(teams, f.Title)
		}
	}
	return Section{
		Title: "Grafana dashboards (files; they stay after the demo stops)",
		Lines: []string{
			fmt.Sprintf("Written to %s: %d dashboards; files: %d written, %d unchanged", d.dir, len(d.set.Dashboards), len(d.res.Written), len(d.res.Unchanged)),
			fmt.Sprintf("Teams:    %s/teams/<team>/red.json, slo.json, cost.json for %s", d.dir, strings.Join(teams, ", ")),
			"Platform: " + filepath.Join(d.dir, "platform", "overview.json"),
			"Grafana:  copy " + filepath.Join(d.dir, "provisioning") + "/* into Grafana's conf/provisioning/ (data sources at " + d.gateway.URL() + ")",
			"Check:    tollgate dashboards lint " + d.dir,
		},
	}
}
