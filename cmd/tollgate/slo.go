package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tollgate-dev/tollgate/internal/atomicfile"
	"github.com/tollgate-dev/tollgate/internal/cmdline"
	"github.com/tollgate-dev/tollgate/internal/udiff"
	"github.com/tollgate-dev/tollgate/slo/alertmanager"
	"github.com/tollgate-dev/tollgate/slo/buckets"
	"github.com/tollgate-dev/tollgate/slo/build"
	"github.com/tollgate-dev/tollgate/slo/catalog"
	"github.com/tollgate-dev/tollgate/slo/rules"
	"github.com/tollgate-dev/tollgate/slo/spec"
	slotenant "github.com/tollgate-dev/tollgate/slo/tenant"
	"github.com/tollgate-dev/tollgate/slo/windows"
	"github.com/tollgate-dev/tollgate/tenancy"
)

const (
	sloLong = `Turn SLO specs kept in Git into Prometheus recording and alerting rules.

Specs are Sloth's: "version: prometheus/v1" files and Kubernetes
"sloth.slok.dev/v1" PrometheusServiceLevel manifests, any number per file.
Tollgate adds a latency SLI from a histogram and a ratio SLI of two
counters, "for:" on alerts and a no-data alert. The rules have the names,
labels and groups of Sloth v0.16.0, so Sloth's Grafana dashboards work
unchanged; each SLO gets multi-window, multi-burn-rate page and ticket
alerts carrying "team" and "severity" labels, which the route tree of
"tollgate slo alertmanager-config" delivers. Sloth's SLO plugins (the core
and contrib ones) are built in.

The platform's own SLOs are built in ("tollgate slo catalog"). With
--tenant, a team's SLI queries are confined to its namespaces by the same
rewriter the gateway uses, so a team's CI cannot write SLOs over another
team's series.

A CI pipeline runs:

  tollgate slo validate specs/
  tollgate slo diff --out rules/slos.yml specs/    # fails when the committed rules are stale

See docs/slo.md for the spec format, the CI recipe and every difference
from Sloth's output.`
	sloExample = `  tollgate slo validate specs/
  tollgate slo generate --out rules/slos.yml specs/
  tollgate slo generate --tenant payments --config tollgate.yaml --out rules/payments.yml specs/payments/
  tollgate slo generate --catalog --out rules/platform.yml
  tollgate slo alertmanager-config --routing routing.yaml --out alertmanager.yml`
)

func newSloCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "slo",
		Short:   "Validate SLO specs and generate Prometheus rules and Alertmanager routes",
		Long:    sloLong,
		Example: sloExample,
	}
	cmd.AddCommand(newSloValidateCmd(), newSloGenerateCmd(), newSloDiffCmd(), newSloCatalogCmd(), newSloAlertmanagerCmd())
	return cmd
}

// sloFlags are the flags of validate, generate and diff: what to read and
// how to generate.
type sloFlags struct {
	catalog           bool
	catalogConfig     string
	slothCompat       bool
	period            string
	windows           []string
	tenant            string
	configPath        string
	team              string
	labels            map[string]string
	disableAlerts     bool
	disableRecordings bool
	formatName        string
	sloPlugins        []string
	noDefaultPlugins  bool
	pluginsPaths      []string

	// format is formatName parsed by run.
	format rules.Format
}

func (f *sloFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&f.catalog, "catalog", false, "include the built-in platform SLOs (tollgate slo catalog lists them)")
	fs.StringVar(&f.catalogConfig, "catalog-config", "", "YAML file adapting the catalogue's metrics, selectors and targets (implies --catalog; docs/slo-catalog.md)")
	fs.BoolVar(&f.slothCompat, "sloth-compat", false, "write Sloth v0.16.0's output exactly, without Tollgate's improvements (docs/slo.md)")
	fs.StringVar(&f.period, "period", "30d", "SLO period; its alert windows come from Sloth's defaults (30d, 28d) or --windows")
	fs.StringArrayVar(&f.windows, "windows", nil, "AlertWindows file or directory (Sloth's format) adding or replacing a period's windows; repeatable")
	fs.StringVar(&f.tenant, "tenant", "", "confine every SLI query to this tenant's namespaces and route its alerts to its team (needs --config)")
	fs.StringVarP(&f.configPath, "config", "c", "", "Tollgate configuration file whose tenancy --tenant refers to")
	fs.StringVar(&f.team, "team", "", "team label of alerts whose spec sets none")
	fs.StringToStringVarP(&f.labels, "label", "l", nil, "extra label of every SLO, k=v; repeatable (Sloth's --extra-labels)")
	fs.BoolVar(&f.disableAlerts, "disable-alerts", false, "leave the alerting rules out")
	fs.BoolVar(&f.disableRecordings, "disable-recordings", false, "leave the recording rules out")
	fs.StringVar(&f.formatName, "format", string(rules.FormatPrometheus), "output format: prometheus (a rule file) or prometheus-operator (PrometheusRule objects)")
	fs.StringArrayVarP(&f.sloPlugins, "slo-plugins", "s", nil, `SLO plugin for every SLO whose chain does not override it, in Sloth's JSON: '{"id": "...", "priority": 0, "config": {...}}'; repeatable`)
	fs.BoolVar(&f.noDefaultPlugins, "disable-default-slo-plugins", false, "leave out Sloth's default plugins (SLI, metadata and alert rules); the SLOs' chains and --slo-plugins write the rules")
	fs.StringArrayVarP(&f.pluginsPaths, "plugins-path", "p", nil, "refused: Tollgate does not run plugins given as Go source; its SLO plugins are built in")
}

// run reads the specs and generates their rules in memory. Problems of the
// specs are returned in the build (with a nil error); errors of the command
// line and of files that cannot be read are returned as errors. Each input
// is read only once those before it are valid, so that the errors come in
// the order of the pipeline: specs, alert windows, tenant.
func (f *sloFlags) run(args []string) (*build.Build, error) {
	period, err := f.check(args)
	if err != nil {
		return nil, err
	}
	b, err := build.Read(build.Sources{Catalog: f.catalog, CatalogConfig: f.catalogConfig, Paths: args})
	if err != nil || b.Failed() {
		return b, err
	}
	cat, ps, err := windows.Load(f.windows...)
	if err != nil {
		if len(ps) == 0 {
			return nil, err
		}
		b.Problems = append(b.Problems, ps...)
		return b, nil
	}
	ws, err := cat.Get(period)
	if err != nil {
		return nil, fmt.Errorf("--period: %w", err)
	}
	opts, err := f.options(ws)
	if err != nil {
		return nil, err
	}
	if err := b.Generate(opts); err != nil {
		return nil, err
	}
	return b, nil
}

// check checks the flags that need no file, parses --format into f.format
// and returns the period.
func (f *sloFlags) check(args []string) (time.Duration, error) {
	if f.catalogConfig != "" {
		f.catalog = true
	}
	if len(args) == 0 && !f.catalog {
		return 0, errors.New("give SLO spec files or directories, or --catalog")
	}
	if f.tenant != "" && f.catalog {
		return 0, errors.New("--tenant confines a team's specs; generate the platform catalogue in a separate run, without --tenant")
	}
	if len(f.pluginsPaths) > 0 {
		return 0, errors.New("--plugins-path: Tollgate does not run plugins given as Go source (Sloth interprets them at generation time); " +
			"Sloth's core and contrib SLO plugins are built in and are declared in the specs' chains or with --slo-plugins, " +
			"and SLI plugins are written as events, raw, ratio or latency SLIs (docs/slo.md, Sloth v0.16 plugins)")
	}
	format, err := rules.ParseFormat(f.formatName)
	if err != nil {
		return 0, fmt.Errorf("--format: %w", err)
	}
	f.format = format
	period, err := model.ParseDuration(f.period)
	if err != nil || period <= 0 {
		return 0, fmt.Errorf("--period %q: write it like 30d or 28d", f.period)
	}
	return time.Duration(period), nil
}

// options are the generator's options for the period's windows: those the
// flags give, confined to --tenant when it is set.
func (f *sloFlags) options(ws windows.Windows) (rules.Options, error) {
	opts := rules.Options{
		Windows: ws, SlothCompat: f.slothCompat, Team: f.team, ExtraLabels: f.labels,
		DisableAlerts: f.disableAlerts, DisableRecordings: f.disableRecordings,
		DisableDefaultPlugins: f.noDefaultPlugins,
	}
	for i, v := range f.sloPlugins {
		p, ps := spec.CommandLinePlugin(fmt.Sprintf("--slo-plugins[%d]", i), v)
		if len(ps) > 0 {
			return rules.Options{}, ps.Err()
		}
		opts.Plugins = append(opts.Plugins, p)
	}
	if f.tenant == "" {
		if f.configPath != "" {
			return rules.Options{}, errors.New("--config is only used with --tenant")
		}
		return opts, nil
	}
	tn, err := f.loadTenant()
	if err != nil {
		return rules.Options{}, err
	}
	if f.team != "" && f.team != tn.Team {
		return rules.Options{}, fmt.Errorf("--team %s: tenant %s is team %s, which its alerts carry", f.team, tn.Name, tn.Team)
	}
	return rules.ForTenant(opts, tn), nil
}

// loadTenant reads --tenant from the tenancy of --config.
func (f *sloFlags) loadTenant() (*tenancy.Tenant, error) {
	if f.configPath == "" {
		return nil, errors.New("--tenant needs --config, the Tollgate configuration that defines the tenant")
	}
	tn, err := slotenant.Load(f.configPath)
	if err != nil {
		return nil, err
	}
	t, err := slotenant.Find(tn, f.tenant, f.configPath)
	if err != nil {
		return nil, fmt.Errorf("--tenant %s: %w", f.tenant, err)
	}
	return t, nil
}

// writeOut writes data to stdout when out is "" or "-", else to the file
// out, and then says so with wrote on stderr.
func writeOut(cmd *cobra.Command, out string, data []byte, wrote string) error {
	if out == "" || out == "-" {
		_, err := cmd.OutOrStdout().Write(data)
		return err
	}
	if err := atomicfile.Write(out, data, 0o644); err != nil {
		return err
	}
	fmt.Fprint(cmd.ErrOrStderr(), wrote)
	return nil
}

const (
	sloValidateLong = `Check SLO specs and print every problem at once, each with file, line,
column, key and SLO ID, and a fix: unknown keys (with a "did you mean"), a
query without {{.window}}, PromQL that does not parse, an objective out of
range, duplicate SLO IDs, an error query equal to the total query, and
everything generation would refuse (with --tenant, a query the tenant may
not run). Warnings are printed but do not fail.

SPEC is a file or a directory, read recursively (*.yaml, *.yml).

With --prometheus, every latency SLI is also checked against the server:
its threshold must be one of the "le" values of the histogram series it
selects (else the SLI has no samples and its alerts never fire: an error),
and a selector matching no series at all is a warning. The URL may be
Prometheus, Thanos, Mimir, or Tollgate itself with --prometheus-token-file.

Exit status: 0 when the specs are valid, 1 otherwise.`
	sloValidateExample = `  tollgate slo validate specs/
  tollgate slo validate --tenant payments --config tollgate.yaml specs/payments/
  tollgate slo validate --catalog --catalog-config slo-catalog.yaml
  tollgate slo validate --prometheus http://prometheus:9090 specs/`
)

func newSloValidateCmd() *cobra.Command {
	var f sloFlags
	var promURL, promTokenFile string
	cmd := &cobra.Command{
		Use:     "validate [flags] SPEC...",
		Short:   "Check SLO specs; print every error with file, line and SLO",
		Long:    sloValidateLong,
		Example: sloValidateExample,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := f.run(args)
			if err != nil {
				return err
			}
			if promURL != "" && r.Problems.Err() == nil {
				checker, err := bucketChecker(promURL, promTokenFile)
				if err != nil {
					return err
				}
				ps, err := checker.Check(cmd.Context(), r.Set.SLOs())
				if err != nil {
					return err
				}
				r.Problems = append(r.Problems, ps...)
			}
			out := cmd.OutOrStdout()
			if r.Print(out) {
				return &exitError{code: 1, err: fmt.Errorf("%s in the SLO specs", r.ErrorCount())}
			}
			if err := r.Verify(); err != nil {
				return err
			}
			fmt.Fprintf(out, "valid: %s\n", r.Summary())
			return nil
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().StringVar(&promURL, "prometheus", "", "check latency thresholds against the histogram buckets this Prometheus-compatible API holds")
	cmd.Flags().StringVar(&promTokenFile, "prometheus-token-file", "", "file holding a bearer token for --prometheus (e.g. a Tollgate token)")
	return cmd
}

// bucketChecker builds the --prometheus check.
func bucketChecker(rawURL, tokenFile string) (*buckets.Checker, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--prometheus %q: give the API's base URL, like http://prometheus:9090", rawURL)
	}
	c := &buckets.Checker{URL: u, Client: &http.Client{Timeout: 30 * time.Second}}
	if tokenFile != "" {
		b, err := os.ReadFile(tokenFile)
		if err != nil {
			return nil, fmt.Errorf("--prometheus-token-file: %w", err)
		}
		c.Token = strings.TrimSpace(string(b))
	}
	return c, nil
}

const (
	sloGenerateLong = `Generate the recording and alerting rules of SLO specs.

The output starts with a "generated, do not edit" header and depends only
on the specs and flags: groups in input order (files as given, directories
in lexical order), labels sorted. A Prometheus rule file holds every group
in one document; --format prometheus-operator writes one PrometheusRule per
spec document, named after its PrometheusServiceLevel (or its service).

Per SLO, Sloth's three groups: sloth-slo-sli-recordings-<id> (the error
ratio over each alert window and the period), sloth-slo-meta-recordings-<id>
(objective, budget, burn rates, sloth_slo_info) and sloth-slo-alerts-<id>
(page and ticket). Without --sloth-compat, SLIs give no sample instead of
NaN when there is no traffic, and alerts carry team and severity.

Nothing is written when a spec has an error; the errors are printed as by
validate, and the exit status is 1.`
	sloGenerateExample = `  tollgate slo generate --out rules/slos.yml specs/
  tollgate slo generate --catalog --catalog-config slo-catalog.yaml --out rules/platform.yml
  tollgate slo generate --tenant payments --config tollgate.yaml --out rules/payments.yml specs/payments/
  tollgate slo generate --format prometheus-operator specs/ | kubectl apply -f -
  tollgate slo generate --period 7d --windows windows/7d.yaml specs/
  tollgate slo generate --sloth-compat specs/    # Sloth v0.16.0's exact output
  tollgate slo generate -s '{"id": "sloth.dev/contrib/rule_intervals/v1", "config": {"interval": {"default": "1m"}}}' specs/`
)

func newSloGenerateCmd() *cobra.Command {
	var f sloFlags
	var out string
	cmd := &cobra.Command{
		Use:     "generate [flags] [SPEC...]",
		Short:   "Generate Prometheus rules (or PrometheusRule objects) from SLO specs",
		Long:    sloGenerateLong,
		Example: sloGenerateExample,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := f.run(args)
			if err != nil {
				return err
			}
			if r.Print(cmd.ErrOrStderr()) {
				return &exitError{code: 1, err: fmt.Errorf("%s in the SLO specs; nothing written", r.ErrorCount())}
			}
			data, err := r.Render(f.format)
			if err != nil {
				return err
			}
			return writeOut(cmd, out, data, fmt.Sprintf("wrote %s: %s\n", out, r.Summary()))
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().StringVarP(&out, "out", "o", "", "file to write (default: stdout)")
	return cmd
}

const (
	sloDiffLong = `Generate the rules in memory, as generate would with the same flags, and
compare them with FILE. When they differ, print a unified diff and exit 1:
the committed rules are stale, or were edited by hand. Run it in CI with
exactly the flags that generate the committed file.

Exit status, as diff(1)'s: 0 when FILE is up to date, 1 when it differs
or is missing, 2 when the comparison could not be made (the specs have
errors, a flag is wrong, a file cannot be read), so that CI can tell
"regenerate the rules" from "fix the specs".`
	sloDiffExample = `  tollgate slo diff --out rules/slos.yml specs/
  tollgate slo diff --catalog --out rules/platform.yml
  tollgate slo diff --tenant payments --config tollgate.yaml --out rules/payments.yml specs/payments/`
)

func newSloDiffCmd() *cobra.Command {
	var f sloFlags
	var out string
	cmd := &cobra.Command{
		Use:     "diff --out FILE [flags] [SPEC...]",
		Short:   "Fail when committed rules differ from what the specs generate",
		Long:    sloDiffLong,
		Example: sloDiffExample,
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.diff(cmd, out, args)
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().StringVarP(&out, "out", "o", "", "the committed rule file that generate writes (required)")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: 2, err: err} })
	return cmd
}

// diff compares the committed rule file out with the rules the specs
// generate. The exit status is diff(1)'s: 1 when they differ, 2 when they
// cannot be compared.
func (f *sloFlags) diff(cmd *cobra.Command, out string, args []string) error {
	trouble := func(err error) error { return &exitError{code: 2, err: err} }
	if out == "" {
		return trouble(errors.New("--out: give the committed rule file to compare with"))
	}
	r, err := f.run(args)
	if err != nil {
		return trouble(err)
	}
	if r.Print(cmd.ErrOrStderr()) {
		return trouble(fmt.Errorf("%s in the SLO specs", r.ErrorCount()))
	}
	want, err := r.Render(f.format)
	if err != nil {
		return trouble(err)
	}
	have, err := os.ReadFile(out)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return trouble(fmt.Errorf("reading the committed rules: %w", err))
	}
	if bytes.Equal(have, want) {
		fmt.Fprintf(cmd.OutOrStdout(), "%s is up to date: %s\n", out, r.Summary())
		return nil
	}
	fmt.Fprint(cmd.OutOrStdout(), udiff.Diff(out+" (committed)", out+" (generated)", have, want))
	why := "is stale"
	if have == nil {
		why = "does not exist"
	}
	regenerate := cmdline.Line([]string{"tollgate", "slo", "generate"}, cmd.Flags(), args)
	return &exitError{code: 1, err: fmt.Errorf("%s %s; regenerate it: %s", out, why, regenerate)}
}

const (
	sloCatalogLong = `List the platform's own SLOs, which "generate --catalog" includes: one per
row of the platform strategy's "Platform SLOs That Matter" table, and
Tollgate's own availability and latency. Each reads the metrics of the
exporter that measures it (Tekton, Argo CD, Envoy, Prometheus, Kyverno,
Tollgate). Where a platform's exporters differ, a small file adapts
metric names, selectors, thresholds and targets: docs/slo-catalog.md.

--spec prints the catalogue as the SLO spec it is generated from, to read,
or to copy and change.`
	sloCatalogExample = `  tollgate slo catalog
  tollgate slo catalog --catalog-config slo-catalog.yaml
  tollgate slo catalog --spec > platform-slos.yaml`
)

func newSloCatalogCmd() *cobra.Command {
	var (
		configPath string
		asSpec     bool
	)
	cmd := &cobra.Command{
		Use:     "catalog",
		Short:   "List the built-in platform SLOs",
		Long:    sloCatalogLong,
		Example: sloCatalogExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadCatalogConfig(cmd.ErrOrStderr(), configPath)
			if err != nil {
				return err
			}
			if asSpec {
				data, err := catalog.Spec(cfg)
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(data)
				return err
			}
			docs, ps, err := catalog.Load(cfg)
			if err != nil {
				return fmt.Errorf("the catalogue does not load: %w", ps.Err())
			}
			return catalog.WriteTable(cmd.OutOrStdout(), docs)
		},
	}
	cmd.Flags().StringVar(&configPath, "catalog-config", "", "YAML file adapting the catalogue (docs/slo-catalog.md)")
	cmd.Flags().BoolVar(&asSpec, "spec", false, "print the catalogue as an SLO spec")
	return cmd
}

// loadCatalogConfig reads --catalog-config, printing its problems on
// stderr; without one, the catalogue is as built in.
func loadCatalogConfig(stderr io.Writer, path string) (catalog.Config, error) {
	if path == "" {
		return catalog.Config{}, nil
	}
	c, ps, err := catalog.LoadConfig(path)
	for _, p := range ps {
		fmt.Fprintln(stderr, p.String())
	}
	if err != nil {
		return catalog.Config{}, &exitError{code: 1, err: fmt.Errorf("%s is not valid", path)}
	}
	return c, nil
}

const (
	sloAlertmanagerLong = `Write an Alertmanager configuration for the alerts "tollgate slo generate"
writes: severity=page to platform SRE's pager (or a team's own, per the
routing file), severity=ticket to a ticket receiver, grouped by SLO
(sloth_id), with a page silencing the same SLO's ticket. Alerts that are
not SLO alerts go to the routing file's default_receiver.

The routing file names the receivers, in Alertmanager's own receiver
format:

  pager:  {name: platform-sre-pager, pagerduty_configs: [{routing_key: ...}]}
  ticket: {name: platform-tickets, webhook_configs: [{url: https://...}]}
  teams:                       # teams paged directly for their own SLOs
    - team: payments
      pager: {name: payments-pager, opsgenie_configs: [{api_key: ...}]}
  group_wait: 30s              # optional; also group_interval,
                               # page_repeat_interval, ticket_repeat_interval

Without a routing file, --pager-webhook and --ticket-webhook send both to
webhooks. With --config, the teams must be teams of the tenancy. Check the
result with: amtool check-config FILE.`
	sloAlertmanagerExample = `  tollgate slo alertmanager-config --routing routing.yaml --config tollgate.yaml --out alertmanager.yml
  tollgate slo alertmanager-config --pager-webhook http://pager-bridge:8080/page --ticket-webhook http://jira-bridge:8080/ticket
  amtool config routes test --config.file alertmanager.yml severity=page team=payments sloth_id=payments-api-availability`
)

func newSloAlertmanagerCmd() *cobra.Command {
	var f alertmanagerFlags
	cmd := &cobra.Command{
		Use:     "alertmanager-config",
		Short:   "Write the Alertmanager route tree that delivers SLO pages and tickets",
		Long:    sloAlertmanagerLong,
		Example: sloAlertmanagerExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			routing, err := f.routing(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if err := f.checkTeams(cmd.ErrOrStderr(), routing); err != nil {
				return err
			}
			var b bytes.Buffer
			if err := alertmanager.Write(&b, routing); err != nil {
				return err
			}
			return writeOut(cmd, f.out, b.Bytes(), fmt.Sprintf("wrote %s; check it with: amtool check-config %s\n", f.out, f.out))
		},
	}
	cmd.Flags().StringVar(&f.routingPath, "routing", "", "routing file naming the pager, ticket and team receivers")
	cmd.Flags().StringVarP(&f.configPath, "config", "c", "", "Tollgate configuration whose tenancy the routing's teams must belong to")
	cmd.Flags().StringVar(&f.pagerURL, "pager-webhook", "", "webhook URL receiving pages (without --routing)")
	cmd.Flags().StringVar(&f.ticketURL, "ticket-webhook", "", "webhook URL receiving tickets (without --routing)")
	cmd.Flags().StringVarP(&f.out, "out", "o", "", "file to write (default: stdout)")
	return cmd
}

// alertmanagerFlags are the flags of alertmanager-config.
type alertmanagerFlags struct {
	routingPath, configPath, out string
	pagerURL, ticketURL          string
}

// routing is the routing the flags give: a routing file, whose problems
// are printed on stderr, or two webhooks.
func (f *alertmanagerFlags) routing(stderr io.Writer) (alertmanager.Routing, error) {
	switch {
	case f.routingPath != "" && (f.pagerURL != "" || f.ticketURL != ""):
		return alertmanager.Routing{}, errors.New("give either --routing or --pager-webhook and --ticket-webhook")
	case f.routingPath != "":
		r, ps, err := alertmanager.LoadRouting(f.routingPath)
		for _, p := range ps {
			fmt.Fprintln(stderr, p.String())
		}
		if err != nil {
			if len(ps) == 0 {
				return alertmanager.Routing{}, err
			}
			return alertmanager.Routing{}, &exitError{code: 1, err: fmt.Errorf("%s is not valid", f.routingPath)}
		}
		return r, nil
	case f.pagerURL != "" && f.ticketURL != "":
		return alertmanager.Webhooks(f.pagerURL, f.ticketURL), nil
	}
	return alertmanager.Routing{}, errors.New("give --routing FILE, or --pager-webhook URL and --ticket-webhook URL")
}

// checkTeams checks, with --config, that the routing's teams are teams of
// its tenancy, printing the problems on stderr.
func (f *alertmanagerFlags) checkTeams(stderr io.Writer, routing alertmanager.Routing) error {
	if f.configPath == "" {
		return nil
	}
	tn, err := slotenant.Load(f.configPath)
	if err != nil {
		return err
	}
	if ps := routing.Validate(slotenant.Teams(tn)); ps.Err() != nil {
		for _, p := range ps {
			fmt.Fprintln(stderr, f.routingPath+": "+p.String())
		}
		return &exitError{code: 1, err: fmt.Errorf("the routing does not fit the tenancy of %s", f.configPath)}
	}
	return nil
}
