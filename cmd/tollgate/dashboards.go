package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/dashboards"
	"github.com/tollgate-dev/tollgate/dashboards/fromconfig"
	"github.com/tollgate-dev/tollgate/dashboards/grafana"
	"github.com/tollgate-dev/tollgate/dashboards/lint"
	"github.com/tollgate-dev/tollgate/internal/config"
)

func newDashboardsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dashboards",
		Short: "Generate, provision and lint each team's Grafana dashboards",
		Long: `Every tenant of the configuration gets a Grafana folder holding three
dashboards, all reading through Tollgate's data sources and limited to the
tenant's namespaces:

  RED         a row per service: request rate by status class, error ratio,
              latency p50/p90/p99; links to the team's logs and SLOs
  SLOs        error budget remaining, burn rate per alert window, SLI over
              time, over the rules of ` + "`tollgate slo generate`" + `
  Chargeback  hourly cost, cost over the range and by namespace, resource
              and cost center, over the tollgate_cost_* gauges

plus a platform overview for SRE across all teams.

Metric conventions are presets, chosen per tenant in the dashboards:
section of the configuration (default prometheus-http):
` + presetHelp() + `
Services are listed per tenant in dashboards.tenants.<tenant>.services, or
discovered from Prometheus (the values of the preset's service label on
the tenant's request metric over the last 24 hours).

Deploy them either way:

  generate   files for Grafana's file provisioning: a folder per team, the
             dashboard providers and the data sources
  provision  through Grafana's HTTP API: folders with per-team permissions,
             dashboards upserted only when changed, --prune, --dry-run

and check any dashboard JSON with ` + "`tollgate dashboards lint`" + `.
docs/dashboards.md explains every panel, UID and rule.`,
		Example: `  tollgate dashboards generate --config tollgate.yaml --out grafana/
  tollgate dashboards provision --config tollgate.yaml --grafana-url https://grafana.example.com --dry-run
  tollgate dashboards lint grafana/teams`,
	}
	cmd.AddCommand(newDashboardsGenerateCmd(), newDashboardsProvisionCmd(), newDashboardsLintCmd())
	return cmd
}

func presetHelp() string {
	var b strings.Builder
	for _, p := range dashboards.Presets() {
		fmt.Fprintf(&b, "  %-16s %s\n", p.Name, p.Summary)
	}
	return b.String()
}

// sourceFlags are how generate and provision find the tenants' services.
type sourceFlags struct {
	configPath string
	prometheus string
	tokenFile  string
	timeout    time.Duration
}

func (f *sourceFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.configPath, "config", "", "Tollgate configuration file (tenancy and the dashboards: section) (required)")
	cmd.Flags().StringVar(&f.prometheus, "prometheus", "", "Prometheus API to discover services from, for tenants that list none (default: upstreams.prometheus)")
	cmd.Flags().StringVar(&f.tokenFile, "prometheus-token-file", "", "file holding a bearer token for --prometheus (say, an admin token when it is Tollgate)")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 2*time.Minute, "time limit of the whole run")
	_ = cmd.MarkFlagRequired("config")
}

// generate loads the configuration and generates the set.
func (f *sourceFlags) generate(ctx context.Context) (*config.File, *dashboards.Set, error) {
	cfg, _, err := config.Load(f.configPath)
	if err != nil {
		return nil, nil, fmt.Errorf("%w; run `tollgate config check %s` for every problem", err, f.configPath)
	}
	disc := &dashboards.Discoverer{URL: f.prometheus, Header: http.Header{}}
	if disc.URL == "" {
		disc.URL = cfg.Upstreams.Prometheus
		if cfg.Upstreams.PrometheusOrgID != "" {
			disc.Header.Set("X-Scope-OrgID", cfg.Upstreams.PrometheusOrgID)
		}
	}
	if f.tokenFile != "" {
		tok, err := readToken(f.tokenFile)
		if err != nil {
			return nil, nil, err
		}
		disc.Header.Set("Authorization", "Bearer "+tok)
	}
	teams, err := fromconfig.Teams(ctx, cfg, disc)
	if err != nil {
		return nil, nil, err
	}
	opts, err := fromconfig.Options(cfg)
	if err != nil {
		return nil, nil, err
	}
	set, err := dashboards.Generate(opts, teams)
	return cfg, set, err
}

func readToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the token: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("token file %s is empty", path)
	}
	return tok, nil
}

const (
	dashboardsGenerateLong = `Generate every team's dashboards and the platform overview, and write
them with Grafana's provisioning files:

  DIR/teams/<tenant>/red.json, slo.json, cost.json   one folder per team
  DIR/platform/overview.json                         for platform SRE
  DIR/provisioning/dashboards/tollgate.yaml          a file provider per folder
  DIR/provisioning/datasources/tollgate.yaml         Prometheus and Loki at Tollgate

Copy DIR/provisioning/* into Grafana's conf/provisioning/ and mount DIR's
teams/ and platform/ at --grafana-path. The data sources point at
dashboards.url, once with the signed-in user's OAuth token forwarded and
once with a Tollgate bearer token for service accounts
($TOLLGATE_GRAFANA_TOKEN in Grafana's environment).

Output is deterministic: the same configuration writes the same bytes,
and only files whose content changed are rewritten. Dashboards of
tenants no longer configured are removed from DIR/teams; nothing outside
teams/, platform/ and provisioning/ is touched. File provisioning cannot
set folder permissions: run ` + "`tollgate dashboards provision`" + ` for those.`
	dashboardsGenerateExample = `  # Services listed in the configuration (dashboards.tenants.<tenant>.services)
  tollgate dashboards generate --config tollgate.yaml --out grafana/

  # Services discovered through Tollgate with an admin token
  tollgate dashboards generate --config tollgate.yaml --out grafana/ \
    --prometheus http://tollgate:9091 --prometheus-token-file /run/secrets/tollgate-ci

  # Check the result
  tollgate dashboards lint grafana/teams grafana/platform`
)

func newDashboardsGenerateCmd() *cobra.Command {
	var (
		src         sourceFlags
		out         string
		grafanaPath string
	)
	cmd := &cobra.Command{
		Use:     "generate --config FILE --out DIR",
		Short:   "Write the dashboards and Grafana's provisioning files into a directory",
		Long:    dashboardsGenerateLong,
		Example: dashboardsGenerateExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), src.timeout)
			defer cancel()
			cfg, set, err := src.generate(ctx)
			if err != nil {
				return err
			}
			files, err := dashboards.Files(set, fromconfig.FileOptions(cfg, grafanaPath))
			if err != nil {
				return err
			}
			res, err := dashboards.WriteDir(out, files)
			w := cmd.OutOrStdout()
			for _, f := range res.Written {
				fmt.Fprintln(w, "wrote", filepath.Join(out, f))
			}
			for _, f := range res.Removed {
				fmt.Fprintln(w, "removed", filepath.Join(out, f), "(no longer generated)")
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%d dashboards in %d folders: %d files written, %d unchanged, %d removed, in %s\n",
				len(set.Dashboards), len(set.Folders), len(res.Written), len(res.Unchanged), len(res.Removed), out)
			return nil
		},
	}
	src.register(cmd)
	cmd.Flags().StringVar(&out, "out", "", "directory to write into (created if missing) (required)")
	cmd.Flags().StringVar(&grafanaPath, "grafana-path", dashboards.DefaultGrafanaPath, "where Grafana will find DIR's teams/ and platform/ (the providers' paths)")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

const (
	dashboardsProvisionLong = `Generate every team's dashboards and bring a Grafana up to date through
its HTTP API:

  - a folder per tenant, with a stable UID (tg_<tenant>), whose permission
    list becomes exactly: the Grafana team named like the tenant's team
    View, the admin teams (dashboards.admin_teams, default
    tenancy.admin_groups) Edit. Grafana replaces the whole list, so the
    default "every Viewer views" entries are gone: only the team sees it;
  - each dashboard saved into its folder (folderUid) with a commit message,
    only when its stored content or folder differs from the generated one,
    so that a second run writes nothing and adds no version. An update
    sends the stored version: if someone saved meanwhile, Grafana answers
    412 and the dashboard is reported, not overwritten;
  - with --prune, generated dashboards that are no longer generated are
    deleted: those tagged tollgate-managed whose UID starts with tg_ and
    that sit in that UID's tg_ folder (a copy a user saved keeps the tag
    but not the UID, and one moved or imported elsewhere is theirs: both
    are kept).

A missing Grafana team fails its folder and skips its dashboards (they
would otherwise be readable by every Viewer); the other teams go on.
Every failure is printed with the folder or dashboard and Grafana's HTTP
status, and the exit status is 1.

The token is a Grafana service account token with the Admin role (folder
permissions need it), read from --token-file or $GRAFANA_TOKEN.`
	dashboardsProvisionExample = `  # What would change?
  GRAFANA_TOKEN=glsa_... tollgate dashboards provision --config tollgate.yaml \
    --grafana-url https://grafana.example.com --dry-run

  # In CI, deleting dashboards of removed teams
  tollgate dashboards provision --config tollgate.yaml --grafana-url https://grafana.example.com \
    --token-file /run/secrets/grafana-token --prune --message "deploy $CI_COMMIT_SHA"`
)

func newDashboardsProvisionCmd() *cobra.Command {
	var (
		src        sourceFlags
		grafanaURL string
		tokenFile  string
		orgID      int
		prune      bool
		dryRun     bool
		message    string
	)
	cmd := &cobra.Command{
		Use:     "provision --config FILE --grafana-url URL",
		Short:   "Create or update the folders, permissions and dashboards through Grafana's API",
		Long:    dashboardsProvisionLong,
		Example: dashboardsProvisionExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Trimmed like a token file: a secret mounted as an
			// environment variable often ends with a newline, which no
			// HTTP header may carry.
			token := strings.TrimSpace(os.Getenv("GRAFANA_TOKEN"))
			if tokenFile != "" {
				var err error
				if token, err = readToken(tokenFile); err != nil {
					return err
				}
			}
			if token == "" {
				return errors.New("no Grafana token: give --token-file or set GRAFANA_TOKEN to a service account token with the Admin role")
			}
			client, err := grafana.NewClient(grafana.ClientOptions{URL: grafanaURL, Token: token, OrgID: orgID, UserAgent: "tollgate/" + version})
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), src.timeout)
			defer cancel()
			cfg, set, err := src.generate(ctx)
			if err != nil {
				return err
			}
			p := grafana.New(client, grafana.Options{Prune: prune, DryRun: dryRun, Message: message})
			start := time.Now()
			res, err := p.Provision(ctx, set)
			audited := auditProvision(cmd.ErrOrStderr(), cfg, provisionRun{grafanaURL: grafanaURL, orgID: orgID, prune: prune, dryRun: dryRun, start: start, res: res, err: err})
			return errors.Join(reportProvision(cmd.OutOrStdout(), res, err, dryRun, len(set.Dashboards)), audited)
		},
	}
	src.register(cmd)
	cmd.Flags().StringVar(&grafanaURL, "grafana-url", "", "Grafana's base URL, e.g. https://grafana.example.com (required)")
	cmd.Flags().StringVar(&tokenFile, "token-file", "", "file holding the Grafana service account token (default: $GRAFANA_TOKEN)")
	cmd.Flags().IntVar(&orgID, "org-id", 0, "Grafana organisation to provision into (default: the token's)")
	cmd.Flags().BoolVar(&prune, "prune", false, "delete generated dashboards that are no longer generated")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would change and change nothing")
	cmd.Flags().StringVar(&message, "message", "", "commit message of the dashboard versions written (default names Tollgate)")
	_ = cmd.MarkFlagRequired("grafana-url")
	return cmd
}

func reportProvision(w io.Writer, res grafana.Result, err error, dryRun bool, total int) error {
	prefix := ""
	if dryRun {
		prefix = "would "
	}
	for _, c := range res.Changes {
		fmt.Fprintln(w, prefix+c.String())
	}
	verb := "made"
	if dryRun {
		verb = "would make"
	}
	fmt.Fprintf(w, "%s %d changes; %d of %d dashboards unchanged\n", verb, len(res.Changes), res.Unchanged, total)
	if err != nil {
		var errs interface{ Unwrap() []error }
		n := 1
		if errors.As(err, &errs) {
			n = len(errs.Unwrap())
		}
		fmt.Fprintln(w, err)
		return &exitError{code: 1, err: fmt.Errorf("provisioning failed for %d folders or dashboards (above)", n)}
	}
	return nil
}

const (
	dashboardsLintLong = `Check dashboards, generated or written by hand, and print every problem
with its file, panel and target:

  promql              every Prometheus target parses once Grafana's variables
                      are substituted (with their current values, All as
                      their allValue, built-ins such as $__rate_interval)
  logql               every Loki target parses the same way, through Loki's
                      own parser and validation
  rate-interval       rate() and irate() use [$__rate_interval]; increase()
                      [$__rate_interval] or [$__range]
  logql-range         log ranges use [$__auto]
  undefined-variable  every $variable a query uses is defined
  variable-query      label_values() and query_result() variables parse
  panel-title, panel-description, panel-unit, panel-targets
                      every panel with queries has a title, a description
                      and a unit (for the panel types that show numbers)
  datasource-variable the dashboard has a data source variable
  panel-datasource    every query reads through a data source variable
  uid, schema-version, panel-id
                      the UID is at most 40 characters of [a-zA-Z0-9_-], a
                      schemaVersion is set, panel ids are unique

A directory stands for every .json file under it. The API's export format
({"dashboard": ..., "meta": ...}) is read too.

Exit status: 0 when no file has a problem, 1 otherwise.`
	dashboardsLintExample = `  tollgate dashboards lint grafana/teams/payments/red.json
  tollgate dashboards lint grafana/        # every dashboard under it
  tollgate dashboards lint ~/Downloads/*.json`
)

func newDashboardsLintCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "lint FILE...",
		Short:   "Check Grafana dashboard JSON files",
		Long:    dashboardsLintLong,
		Example: dashboardsLintExample,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := jsonFiles(args)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			var problems int
			for _, f := range files {
				data, err := os.ReadFile(f)
				if err != nil {
					return fmt.Errorf("reading %s: %w", f, err)
				}
				for _, p := range lint.Lint(f, data) {
					fmt.Fprintln(w, p)
					problems++
				}
			}
			if problems > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d problems in %d dashboards", problems, len(files))}
			}
			fmt.Fprintf(w, "%d dashboards checked, no problems\n", len(files))
			return nil
		},
	}
}

// jsonFiles expands directories into the .json files under them, sorted.
func jsonFiles(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() && strings.HasSuffix(p, ".json") {
				found = append(found, p)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s holds no .json file", a)
		}
		slices.Sort(found)
		out = append(out, found...)
	}
	return out, nil
}
