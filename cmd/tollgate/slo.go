package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tollgate-dev/tollgate/internal/atomicfile"

	"github.com/prometheus/common/model"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/problem"
	"github.com/tollgate-dev/tollgate/internal/udiff"
	"github.com/tollgate-dev/tollgate/proxy/promenforce"
	"github.com/tollgate-dev/tollgate/slo/alertmanager"
	"github.com/tollgate-dev/tollgate/slo/buckets"
	"github.com/tollgate-dev/tollgate/slo/catalog"
	"github.com/tollgate-dev/tollgate/slo/rules"
	"github.com/tollgate-dev/tollgate/slo/spec"
	"github.com/tollgate-dev/tollgate/slo/windows"
	"github.com/tollgate-dev/tollgate/tenancy"
)

func newSloCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "slo",
		Short: "Validate SLO specs and generate Prometheus rules and Alertmanager routes",
		Long: `Turn SLO specs kept in Git into Prometheus recording and alerting rules.

Specs are Sloth's: "version: prometheus/v1" files and Kubernetes
"sloth.slok.dev/v1" PrometheusServiceLevel manifests, any number per file.
Tollgate adds a latency SLI from a histogram and a ratio SLI of two
counters, "for:" on alerts and a no-data alert. The rules have the names,
labels and groups of Sloth v0.12.0, so Sloth's Grafana dashboards work
unchanged; each SLO gets multi-window, multi-burn-rate page and ticket
alerts carrying "team" and "severity" labels, which the route tree of
"tollgate slo alertmanager-config" delivers.

The platform's own SLOs are built in ("tollgate slo catalog"). With
--tenant, a team's SLI queries are confined to its namespaces by the same
rewriter the gateway uses, so a team's CI cannot write SLOs over another
team's series.

A CI pipeline runs:

  tollgate slo validate specs/
  tollgate slo diff --out rules/slos.yml specs/    # fails when the committed rules are stale

See docs/slo.md for the spec format, the CI recipe and every difference
from Sloth's output.`,
		Example: `  tollgate slo validate specs/
  tollgate slo generate --out rules/slos.yml specs/
  tollgate slo generate --tenant payments --config tollgate.yaml --out rules/payments.yml specs/payments/
  tollgate slo generate --catalog --out rules/platform.yml
  tollgate slo alertmanager-config --routing routing.yaml --out alertmanager.yml`,
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
	format            string
}

func (f *sloFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&f.catalog, "catalog", false, "include the built-in platform SLOs (tollgate slo catalog lists them)")
	fs.StringVar(&f.catalogConfig, "catalog-config", "", "YAML file adapting the catalogue's metrics, selectors and targets (implies --catalog; docs/slo-catalog.md)")
	fs.BoolVar(&f.slothCompat, "sloth-compat", false, "write Sloth v0.12.0's expressions and labels exactly, without Tollgate's improvements (docs/slo.md)")
	fs.StringVar(&f.period, "period", "30d", "SLO period; its alert windows come from Sloth's defaults (30d, 28d) or --windows")
	fs.StringArrayVar(&f.windows, "windows", nil, "AlertWindows file or directory (Sloth's format) adding or replacing a period's windows; repeatable")
	fs.StringVar(&f.tenant, "tenant", "", "confine every SLI query to this tenant's namespaces and route its alerts to its team (needs --config)")
	fs.StringVarP(&f.configPath, "config", "c", "", "Tollgate configuration file whose tenancy --tenant refers to")
	fs.StringVar(&f.team, "team", "", "team label of alerts whose spec sets none")
	fs.StringToStringVarP(&f.labels, "label", "l", nil, "extra label of every SLO, k=v; repeatable (Sloth's --extra-labels)")
	fs.BoolVar(&f.disableAlerts, "disable-alerts", false, "leave the alerting rules out")
	fs.BoolVar(&f.disableRecordings, "disable-recordings", false, "leave the recording rules out")
	fs.StringVar(&f.format, "format", string(rules.FormatPrometheus), "output format: prometheus (a rule file) or prometheus-operator (PrometheusRule objects)")
}

// sloRun is the outcome of reading specs and generating their rules.
type sloRun struct {
	set      *spec.Set
	files    []rules.File
	problems problem.List
	format   rules.Format
	compat   bool
}

// errInvalid marks a run whose problems were printed.
var errInvalid = errors.New("the SLO specs have errors")

// run reads the specs and generates their rules in memory. Problems of the
// specs are returned in the run (with a nil error); errors of the command
// line and of files that cannot be read are returned as errors.
func (f *sloFlags) run(args []string) (*sloRun, error) {
	if f.catalogConfig != "" {
		f.catalog = true
	}
	if len(args) == 0 && !f.catalog {
		return nil, errors.New("give SLO spec files or directories, or --catalog")
	}
	if f.tenant != "" && f.catalog {
		return nil, errors.New("--tenant confines a team's specs; generate the platform catalogue in a separate run, without --tenant")
	}
	format, err := rules.ParseFormat(f.format)
	if err != nil {
		return nil, fmt.Errorf("--format: %w", err)
	}
	period, err := model.ParseDuration(f.period)
	if err != nil || period <= 0 {
		return nil, fmt.Errorf("--period %q: write it like 30d or 28d", f.period)
	}
	r := &sloRun{set: &spec.Set{}, format: format, compat: f.slothCompat}
	if f.catalog {
		cfg := catalog.Config{}
		if f.catalogConfig != "" {
			c, ps, err := catalog.LoadConfig(f.catalogConfig)
			r.problems = append(r.problems, ps...)
			if err != nil {
				if len(ps) == 0 {
					return nil, err
				}
				return r, nil
			}
			cfg = c
		}
		docs, ps, err := catalog.Load(cfg)
		r.problems = append(r.problems, ps...)
		if err != nil {
			return r, nil
		}
		r.set.Documents = append(r.set.Documents, docs...)
	}
	if len(args) > 0 {
		set, ps, err := spec.Load(args...)
		if set == nil {
			return nil, err // nothing could be read: a missing path, say
		}
		r.problems = append(r.problems, ps...)
		r.set.Documents = append(r.set.Documents, set.Documents...)
		if f.catalog {
			for _, p := range r.set.CheckIDs() {
				if strings.Contains(p.Msg, catalog.Source) {
					r.problems = append(r.problems, p)
				}
			}
		}
	}
	if len(r.problems.Errors()) > 0 {
		return r, nil
	}
	cat, ps, err := windows.Load(f.windows...)
	if err != nil {
		if len(ps) == 0 {
			return nil, err
		}
		r.problems = append(r.problems, ps...)
		return r, nil
	}
	ws, err := cat.Get(time.Duration(period))
	if err != nil {
		return nil, fmt.Errorf("--period: %w", err)
	}
	opts := rules.Options{
		Windows: ws, SlothCompat: f.slothCompat, Team: f.team, ExtraLabels: f.labels,
		DisableAlerts: f.disableAlerts, DisableRecordings: f.disableRecordings,
	}
	if f.tenant != "" {
		tn, err := loadTenant(f.configPath, f.tenant)
		if err != nil {
			return nil, err
		}
		if f.team != "" && f.team != tn.Team {
			return nil, fmt.Errorf("--team %s: tenant %s is team %s, which its alerts carry", f.team, tn.Name, tn.Team)
		}
		opts.Tenant, opts.Team = tn.Name, tn.Team
		opts.Scoper = rules.NewScoper(promenforce.New(), tn.Scope.Matcher())
		opts.TenantLabel, opts.OwnsNamespace = tn.Scope.Label(), tn.Scope.Matches
		opts.TenantNamespace = tn.DefaultNamespace
		if opts.TenantNamespace == "" && len(tn.Namespaces) == 1 && !strings.Contains(tn.Namespaces[0], "*") {
			opts.TenantNamespace = tn.Namespaces[0]
		}
	} else if f.configPath != "" {
		return nil, errors.New("--config is only used with --tenant")
	}
	g, err := rules.New(opts)
	if err != nil {
		return nil, err
	}
	files, ps := g.Generate(r.set)
	r.files = files
	r.problems = append(r.problems, ps...)
	return r, nil
}

// loadTenancy reads the tenancy of a Tollgate configuration.
func loadTenancy(path string) (*tenancy.Tenancy, error) {
	cfg, ps, err := config.Load(path)
	if err != nil {
		if len(ps) > 0 {
			return nil, fmt.Errorf("%s is not valid (tollgate config check %s shows why): %w", path, path, err)
		}
		return nil, err
	}
	return tenancy.New(cfg.Tenancy)
}

// loadTenant reads the tenancy of a Tollgate configuration and returns one
// tenant.
func loadTenant(path, name string) (*tenancy.Tenant, error) {
	if path == "" {
		return nil, errors.New("--tenant needs --config, the Tollgate configuration that defines the tenant")
	}
	tn, err := loadTenancy(path)
	if err != nil {
		return nil, err
	}
	t, ok := tn.Tenant(name)
	if !ok {
		var names []string
		for _, t := range tn.Tenants() {
			names = append(names, t.Name)
		}
		return nil, fmt.Errorf("--tenant %s: %s has no such tenant; its tenants are: %s", name, path, strings.Join(names, ", "))
	}
	return t, nil
}

// print writes the problems and says whether there were errors.
func (r *sloRun) print(w io.Writer) bool {
	for _, p := range r.problems {
		fmt.Fprintln(w, p.String())
	}
	return len(r.problems.Errors()) > 0
}

// render writes the generated rules.
func (r *sloRun) render() ([]byte, error) {
	managedBy := "tollgate"
	if r.compat {
		managedBy = "sloth"
	}
	var b bytes.Buffer
	if err := rules.Write(&b, r.files, rules.WriteOptions{Format: r.format, ManagedBy: managedBy}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func errorCount(ps problem.List) string {
	return count(len(ps.Errors()), "error")
}

// count writes "1 SLO", "2 SLOs".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func (r *sloRun) summary() string {
	n, groups := 0, 0
	for _, f := range r.files {
		n += len(f.SLOs)
		groups += len(f.Groups())
	}
	return count(n, "SLO") + ", " + count(groups, "rule group")
}

func newSloValidateCmd() *cobra.Command {
	var f sloFlags
	var promURL, promTokenFile string
	cmd := &cobra.Command{
		Use:   "validate [flags] SPEC...",
		Short: "Check SLO specs; print every error with file, line and SLO",
		Long: `Check SLO specs and print every problem at once, each with file, line,
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

Exit status: 0 when the specs are valid, 1 otherwise.`,
		Example: `  tollgate slo validate specs/
  tollgate slo validate --tenant payments --config tollgate.yaml specs/payments/
  tollgate slo validate --catalog --catalog-config slo-catalog.yaml
  tollgate slo validate --prometheus http://prometheus:9090 specs/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := f.run(args)
			if err != nil {
				return err
			}
			if promURL != "" && r.problems.Err() == nil {
				checker, err := bucketChecker(promURL, promTokenFile)
				if err != nil {
					return err
				}
				ps, err := checker.Check(cmd.Context(), r.set.SLOs())
				if err != nil {
					return err
				}
				r.problems = append(r.problems, ps...)
			}
			out := cmd.OutOrStdout()
			if r.print(out) {
				return &exitError{code: 1, err: fmt.Errorf("%s in the SLO specs", errorCount(r.problems))}
			}
			// The generator's output is valid by construction; parsing it
			// again is cheap and turns a generator bug into a clear error.
			p := promenforce.New().Parser()
			for _, file := range r.files {
				for _, g := range file.Groups() {
					for _, rule := range g.Rules {
						if _, err := p.ParseExpr(rule.Expr); err != nil {
							return fmt.Errorf("generated rule %s in group %s does not parse (a Tollgate bug; please report it): %w", rule.Record+rule.Alert, g.Name, err)
						}
					}
				}
			}
			fmt.Fprintf(out, "valid: %s\n", r.summary())
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

func newSloGenerateCmd() *cobra.Command {
	var f sloFlags
	var out string
	cmd := &cobra.Command{
		Use:   "generate [flags] [SPEC...]",
		Short: "Generate Prometheus rules (or PrometheusRule objects) from SLO specs",
		Long: `Generate the recording and alerting rules of SLO specs.

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
validate, and the exit status is 1.`,
		Example: `  tollgate slo generate --out rules/slos.yml specs/
  tollgate slo generate --catalog --catalog-config slo-catalog.yaml --out rules/platform.yml
  tollgate slo generate --tenant payments --config tollgate.yaml --out rules/payments.yml specs/payments/
  tollgate slo generate --format prometheus-operator specs/ | kubectl apply -f -
  tollgate slo generate --period 7d --windows windows/7d.yaml specs/
  tollgate slo generate --sloth-compat specs/    # Sloth v0.12.0's exact output`,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := f.run(args)
			if err != nil {
				return err
			}
			if r.print(cmd.ErrOrStderr()) {
				return &exitError{code: 1, err: fmt.Errorf("%s in the SLO specs; nothing written", errorCount(r.problems))}
			}
			data, err := r.render()
			if err != nil {
				return err
			}
			if out == "" || out == "-" {
				_, err := cmd.OutOrStdout().Write(data)
				return err
			}
			if err := atomicfile.Write(out, data, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s: %s\n", out, r.summary())
			return nil
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().StringVarP(&out, "out", "o", "", "file to write (default: stdout)")
	return cmd
}

func newSloDiffCmd() *cobra.Command {
	var f sloFlags
	var out string
	cmd := &cobra.Command{
		Use:   "diff --out FILE [flags] [SPEC...]",
		Short: "Fail when committed rules differ from what the specs generate",
		Long: `Generate the rules in memory, as generate would with the same flags, and
compare them with FILE. When they differ, print a unified diff and exit 1:
the committed rules are stale, or were edited by hand. Run it in CI with
exactly the flags that generate the committed file.

Exit status, as diff(1)'s: 0 when FILE is up to date, 1 when it differs
or is missing, 2 when the comparison could not be made (the specs have
errors, a flag is wrong, a file cannot be read), so that CI can tell
"regenerate the rules" from "fix the specs".`,
		Example: `  tollgate slo diff --out rules/slos.yml specs/
  tollgate slo diff --catalog --out rules/platform.yml
  tollgate slo diff --tenant payments --config tollgate.yaml --out rules/payments.yml specs/payments/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			trouble := func(err error) error { return &exitError{code: 2, err: err} }
			if out == "" {
				return trouble(errors.New("--out: give the committed rule file to compare with"))
			}
			r, err := f.run(args)
			if err != nil {
				return trouble(err)
			}
			if r.print(cmd.ErrOrStderr()) {
				return trouble(fmt.Errorf("%s in the SLO specs", errorCount(r.problems)))
			}
			want, err := r.render()
			if err != nil {
				return trouble(err)
			}
			have, err := os.ReadFile(out)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				return trouble(fmt.Errorf("reading the committed rules: %w", err))
			}
			if bytes.Equal(have, want) {
				fmt.Fprintf(cmd.OutOrStdout(), "%s is up to date: %s\n", out, r.summary())
				return nil
			}
			fmt.Fprint(cmd.OutOrStdout(), udiff.Diff(out+" (committed)", out+" (generated)", have, want))
			why := "is stale"
			if have == nil {
				why = "does not exist"
			}
			return &exitError{code: 1, err: fmt.Errorf("%s %s; regenerate it: %s", out, why, regenerateCommand(cmd, args))}
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().StringVarP(&out, "out", "o", "", "the committed rule file that generate writes (required)")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: 2, err: err} })
	return cmd
}

// regenerateCommand is the generate command line equivalent to a diff.
func regenerateCommand(cmd *cobra.Command, args []string) string {
	parts := []string{"tollgate", "slo", "generate"}
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		switch v := fl.Value.(type) {
		case pflag.SliceValue:
			for _, s := range v.GetSlice() {
				parts = append(parts, "--"+fl.Name, shellWord(s))
			}
		default:
			switch fl.Value.Type() {
			case "bool":
				if fl.Value.String() == "true" {
					parts = append(parts, "--"+fl.Name)
				} else {
					parts = append(parts, "--"+fl.Name+"=false")
				}
			case "stringToString":
				// String() is "[k=v,...]", which the flag does not read
				// back: one k=v per flag, in key order.
				m, _ := cmd.Flags().GetStringToString(fl.Name)
				for _, k := range slices.Sorted(maps.Keys(m)) {
					parts = append(parts, "--"+fl.Name, shellWord(k+"="+m[k]))
				}
			default:
				parts = append(parts, "--"+fl.Name, shellWord(fl.Value.String()))
			}
		}
	})
	for _, a := range args {
		parts = append(parts, shellWord(a))
	}
	return strings.Join(parts, " ")
}

// shellWord quotes a word for a POSIX shell when it needs it.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func newSloCatalogCmd() *cobra.Command {
	var (
		configPath string
		asSpec     bool
	)
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "List the built-in platform SLOs",
		Long: `List the platform's own SLOs, which "generate --catalog" includes: one per
row of the platform strategy's "Platform SLOs That Matter" table, and
Tollgate's own availability and latency. Each reads the metrics of the
exporter that measures it (Tekton, Argo CD, Envoy, Prometheus, Kyverno,
Tollgate). Where a platform's exporters differ, a small file adapts
metric names, selectors, thresholds and targets: docs/slo-catalog.md.

--spec prints the catalogue as the SLO spec it is generated from, to read,
or to copy and change.`,
		Example: `  tollgate slo catalog
  tollgate slo catalog --catalog-config slo-catalog.yaml
  tollgate slo catalog --spec > platform-slos.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := catalog.Config{}
			if configPath != "" {
				c, ps, err := catalog.LoadConfig(configPath)
				for _, p := range ps {
					fmt.Fprintln(cmd.ErrOrStderr(), p.String())
				}
				if err != nil {
					return &exitError{code: 1, err: fmt.Errorf("%s is not valid", configPath)}
				}
				cfg = c
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
			rows := map[string]catalog.Entry{}
			for _, e := range catalog.Entries() {
				rows[e.ID()] = e
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SLO ID\tOBJECTIVE\tTARGET (SEED TABLE)\tSLI\tMETRICS\tEXPORTER")
			for _, d := range docs {
				for _, s := range d.SLOs {
					e := rows[s.ID]
					fmt.Fprintf(tw, "%s\t%s%%\t%s: %s\t%s\t%s\t%s\n", s.ID, spec.FormatFloat(s.Objective), e.Row, e.Target, sliSummary(s), sliMetrics(s), firstClause(e.Exporter))
				}
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&configPath, "catalog-config", "", "YAML file adapting the catalogue (docs/slo-catalog.md)")
	cmd.Flags().BoolVar(&asSpec, "spec", false, "print the catalogue as an SLO spec")
	return cmd
}

func sliSummary(s *spec.SLO) string {
	switch {
	case s.SLI.Latency != nil:
		return "latency <= " + spec.FormatFloat(s.SLI.Latency.Threshold) + "s"
	case s.SLI.Ratio != nil:
		return "ratio"
	}
	return s.SLI.Kind()
}

func sliMetrics(s *spec.SLO) string {
	switch {
	case s.SLI.Latency != nil:
		return s.SLI.Latency.Metric + s.SLI.Latency.Selector
	case s.SLI.Ratio != nil:
		return s.SLI.Ratio.Errors + " / " + s.SLI.Ratio.Total
	}
	return ""
}

func firstClause(s string) string {
	if i := strings.IndexAny(s, "(;:"); i > 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}

func newSloAlertmanagerCmd() *cobra.Command {
	var (
		routingPath, configPath, out string
		pagerURL, ticketURL          string
	)
	cmd := &cobra.Command{
		Use:   "alertmanager-config",
		Short: "Write the Alertmanager route tree that delivers SLO pages and tickets",
		Long: `Write an Alertmanager configuration for the alerts "tollgate slo generate"
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
result with: amtool check-config FILE.`,
		Example: `  tollgate slo alertmanager-config --routing routing.yaml --config tollgate.yaml --out alertmanager.yml
  tollgate slo alertmanager-config --pager-webhook http://pager-bridge:8080/page --ticket-webhook http://jira-bridge:8080/ticket
  amtool config routes test --config.file alertmanager.yml severity=page team=payments sloth_id=payments-api-availability`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var routing alertmanager.Routing
			switch {
			case routingPath != "" && (pagerURL != "" || ticketURL != ""):
				return errors.New("give either --routing or --pager-webhook and --ticket-webhook")
			case routingPath != "":
				r, ps, err := alertmanager.LoadRouting(routingPath)
				for _, p := range ps {
					fmt.Fprintln(cmd.ErrOrStderr(), p.String())
				}
				if err != nil {
					if len(ps) == 0 {
						return err
					}
					return &exitError{code: 1, err: fmt.Errorf("%s is not valid", routingPath)}
				}
				routing = r
			case pagerURL != "" && ticketURL != "":
				routing = alertmanager.Webhooks(pagerURL, ticketURL)
			default:
				return errors.New("give --routing FILE, or --pager-webhook URL and --ticket-webhook URL")
			}
			if configPath != "" {
				tn, err := loadTenancy(configPath)
				if err != nil {
					return err
				}
				var teams []string
				for _, t := range tn.Tenants() {
					if !slices.Contains(teams, t.Team) {
						teams = append(teams, t.Team)
					}
				}
				if ps := routing.Validate(teams); ps.Err() != nil {
					for _, p := range ps {
						fmt.Fprintln(cmd.ErrOrStderr(), routingPath+": "+p.String())
					}
					return &exitError{code: 1, err: fmt.Errorf("the routing does not fit the tenancy of %s", configPath)}
				}
			}
			var b bytes.Buffer
			if err := alertmanager.Write(&b, routing); err != nil {
				return err
			}
			if out == "" || out == "-" {
				_, err := cmd.OutOrStdout().Write(b.Bytes())
				return err
			}
			if err := atomicfile.Write(out, b.Bytes(), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s; check it with: amtool check-config %s\n", out, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&routingPath, "routing", "", "routing file naming the pager, ticket and team receivers")
	cmd.Flags().StringVarP(&configPath, "config", "c", "", "Tollgate configuration whose tenancy the routing's teams must belong to")
	cmd.Flags().StringVar(&pagerURL, "pager-webhook", "", "webhook URL receiving pages (without --routing)")
	cmd.Flags().StringVar(&ticketURL, "ticket-webhook", "", "webhook URL receiving tickets (without --routing)")
	cmd.Flags().StringVarP(&out, "out", "o", "", "file to write (default: stdout)")
	return cmd
}
