package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tollgate-dev/tollgate/cost"
	"github.com/tollgate-dev/tollgate/cost/report"
	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/tenancy"
)

func newCostCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cost",
		Short: "Cost allocation and chargeback reports",
	}
	cmd.AddCommand(newCostReportCmd())
	return cmd
}

type costReportFlags struct {
	configPath, prometheus, orgID      string
	window, aggregate, resolution      string
	step, filter, shareNamespaces      string
	shareSplit, format, output         string
	progress                           string
	accumulate, includeIdle, shareIdle bool
	idleByNode                         bool
	costCfg                            config.Cost
	discounts                          map[string]string
}

// costReportLong is the help text of `cost report`.
const costReportLong = `Read a window of kube-state-metrics and cAdvisor series from Prometheus,
price the nodes, and allocate their cost the way OpenCost does: each
container costs max(request, usage) of CPU and RAM, and its GPU requests, at
its node's hourly prices; what the nodes cost beyond that is idle. The
answer is the same as the gateway's /allocation API for an admin
(docs/cost.md explains every figure and lists every query sent).

Settings come from --config (its upstreams.prometheus, cost: section and
tenancy, which maps namespaces to tenants, teams and cost centers) or from
the flags alone; flags given explicitly win over the file.

The flags mirror the API's parameters: --window is window (today,
yesterday, week, lastweek, month, lastmonth, 24h, 7d, 2w, or start,end in
RFC3339 or Unix seconds), --aggregate is aggregate (namespace, tenant, team,
cost_center, node, pod, container, controller, controllerKind, deployment,
statefulset, daemonset, job, cluster, label:<name>, comma-separated for
several), --include-idle is includeIdle,
--share-idle shareIdle, --idle-by-node idleByNode, --share-namespaces
shareNamespaces (true for the configured shared namespaces, or a list),
--share-split shareSplit (weighted or even), --filter filter
(namespace:"a","b"+label[team]!:"x"), --step step, --resolution resolution.

Formats: table (for people), json (OpenCost's /allocation response), csv
(one line per allocation and step), focus (FOCUS 1.2 CSV for FinOps tools,
Tollgate's own columns prefixed x_). A progress bar goes to stderr while a
long window is read (--progress always|never|auto, auto meaning when stderr
is a terminal).`

const costReportExample = `  # Last week by cost center, idle and platform namespaces shared
  tollgate cost report --config tollgate.yaml --window 7d --aggregate cost_center --share-idle --share-namespaces true

  # Last month's FOCUS export for the FinOps tool
  tollgate cost report --config tollgate.yaml --window lastmonth --step 1d --format focus -o focus.csv

  # Without a configuration: straight at a Prometheus, idle per node
  tollgate cost report --prometheus http://prometheus:9090 --window 24h --aggregate node --include-idle --idle-by-node

  # How much of the cluster sat idle yesterday, with a 20% AWS discount
  tollgate cost report --prometheus http://prometheus:9090 --window yesterday --aggregate cluster --include-idle --discount aws=20`

func newCostReportCmd() *cobra.Command {
	var f costReportFlags
	cmd := &cobra.Command{
		Use:     "report",
		Short:   "Allocate a window's node spend to namespaces, teams or cost centers",
		Long:    costReportLong,
		Example: costReportExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCostReport(cmd, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.configPath, "config", "c", "", "Tollgate configuration file to read upstreams.prometheus, cost and tenancy from")
	fl.StringVar(&f.prometheus, "prometheus", "", "base URL of the Prometheus API (overrides upstreams.prometheus)")
	fl.StringVar(&f.orgID, "org-id", "", "X-Scope-OrgID to send (Mimir, Cortex)")
	fl.StringVar(&f.window, "window", "7d", "window: today, yesterday, week, lastweek, month, lastmonth, 24h, 7d, 2w, or start,end")
	fl.StringVar(&f.aggregate, "aggregate", "namespace", "properties to group by, comma-separated; label:<name> for a label")
	fl.StringVar(&f.resolution, "resolution", "", "sampling step of the inputs (default 5m for windows up to 2 days, else 1h)")
	fl.StringVar(&f.step, "step", "", "length of each reported period, e.g. 1d (default: the whole window)")
	fl.BoolVar(&f.accumulate, "accumulate", false, "merge all periods into one")
	fl.BoolVar(&f.includeIdle, "include-idle", false, "report idle cost as __idle__ (per node when aggregating by node)")
	fl.BoolVar(&f.shareIdle, "share-idle", false, "spread idle over the allocations in proportion to their cost")
	fl.BoolVar(&f.idleByNode, "idle-by-node", false, "compute and share idle per node instead of per cluster")
	fl.StringVar(&f.shareNamespaces, "share-namespaces", "", "true for the configured shared namespaces, or a comma-separated list")
	fl.StringVar(&f.shareSplit, "share-split", "weighted", "how shared cost is split: weighted or even")
	fl.StringVar(&f.filter, "filter", "", `only these allocations, e.g. namespace:"a","b"+label[team]!:"x"`)
	fl.StringVarP(&f.format, "format", "f", "table", "output format: "+strings.Join(report.Formats(), ", "))
	fl.StringVarP(&f.output, "output", "o", "", "write to this file instead of stdout")
	fl.StringVar(&f.progress, "progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), always or never")
	fl.StringVar(&f.costCfg.Cluster, "cluster", "", "cluster name in the allocations (default cost.cluster, else cluster-one)")
	fl.StringVar(&f.costCfg.PricingFile, "pricing-file", "", "CSV price file overriding the embedded catalogue (cost.pricing_file)")
	fl.StringSliceVar(&f.costCfg.SharedNamespaces, "shared-namespaces", nil, "namespaces --share-namespaces=true shares (cost.shared_namespaces)")
	fl.Float64Var(&f.costCfg.SharedOverheadMonthly, "overhead-monthly", 0, "fixed monthly cost shared with the shared namespaces (cost.shared_overhead_monthly)")
	fl.StringToStringVar(&f.discounts, "discount", nil, "percent off on-demand prices per provider, e.g. aws=20,gcp=10 (cost.discounts)")
	return cmd
}

func runCostReport(cmd *cobra.Command, f *costReportFlags) error {
	engine, err := f.engine(cmd.Flags())
	if err != nil {
		return err
	}
	q, err := f.request().Query(time.Now())
	if err == nil && f.format == "focus" {
		err = q.CheckFOCUS()
	}
	if err != nil {
		return flagError(err)
	}
	if !slices.Contains(report.Formats(), f.format) {
		return fmt.Errorf("--format %q: use %s", f.format, strings.Join(report.Formats(), ", "))
	}
	if !slices.Contains([]string{"auto", "always", "never"}, f.progress) {
		return fmt.Errorf("--progress %q: use auto, always or never", f.progress)
	}

	bar := newProgressBar(cmd.ErrOrStderr(), f.progress)
	res, err := engine.Compute(cmd.Context(), q, tenancy.Access{Admin: true}, bar.update)
	bar.done()
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if f.output != "" {
		file, err := os.Create(f.output)
		if err != nil {
			return fmt.Errorf("creating the output file: %w", err)
		}
		defer file.Close()
		out = file
	}
	if err := report.Write(out, f.format, res); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	if f.format != "table" {
		// The table prints them itself; CSV and FOCUS have no place for them.
		for _, w := range res.Warnings {
			fmt.Fprintln(cmd.ErrOrStderr(), "warning: "+w)
		}
	}
	return nil
}

// engine builds the cost engine from --config, if given, and the flags
// given explicitly, which win over the file.
func (f *costReportFlags) engine(fl *pflag.FlagSet) (*cost.Engine, error) {
	var file config.File
	if f.configPath != "" {
		loaded, _, err := config.Load(f.configPath)
		if err != nil {
			return nil, err
		}
		file = *loaded
	}
	up := file.Upstreams
	if fl.Changed("prometheus") || up.Prometheus == "" {
		up.Prometheus = f.prometheus
	}
	if fl.Changed("org-id") {
		up.PrometheusOrgID = f.orgID
	}
	if up.Prometheus == "" {
		return nil, errors.New("no Prometheus to read: give --prometheus URL or --config FILE")
	}
	cc, err := f.costSection(fl, file.Cost)
	if err != nil {
		return nil, err
	}
	// The same defaults and checks as the file's cost section.
	cc.ApplyDefaults()
	if errs := config.ValidateCost(up, &cc).Errors(); len(errs) > 0 {
		return nil, fmt.Errorf("%s", errs[0].String())
	}
	var tn *tenancy.Tenancy
	if f.configPath != "" {
		if tn, err = tenancy.New(file.Tenancy); err != nil {
			return nil, err
		}
	}
	return cost.FromConfig(&cc, up, tn, nil, nil)
}

// costSection is the file's cost section, if any, with the flags given
// explicitly written over it.
func (f *costReportFlags) costSection(fl *pflag.FlagSet, fromFile *config.Cost) (config.Cost, error) {
	var cc config.Cost
	if fromFile != nil {
		cc = *fromFile
	}
	if fl.Changed("cluster") {
		cc.Cluster = f.costCfg.Cluster
	}
	if fl.Changed("pricing-file") {
		cc.PricingFile = f.costCfg.PricingFile
	}
	if fl.Changed("shared-namespaces") {
		cc.SharedNamespaces = f.costCfg.SharedNamespaces
	}
	if fl.Changed("overhead-monthly") {
		cc.SharedOverheadMonthly = f.costCfg.SharedOverheadMonthly
	}
	if fl.Changed("discount") {
		cc.Discounts = map[string]float64{}
		for p, v := range f.discounts {
			var pct float64
			if _, err := fmt.Sscan(v, &pct); err != nil {
				return cc, fmt.Errorf("--discount %s=%s: give a percentage, e.g. aws=20", p, v)
			}
			cc.Discounts[p] = pct
		}
	}
	return cc, nil
}

// request is the allocation the flags ask for, in the API's terms.
func (f *costReportFlags) request() cost.Request {
	return cost.Request{Window: f.window, Resolution: f.resolution, Step: f.step, Aggregate: f.aggregate,
		Accumulate: f.accumulate, IncludeIdle: f.includeIdle, ShareIdle: f.shareIdle, IdleByNode: f.idleByNode,
		ShareNamespaces: f.shareNamespaces, ShareSplit: f.shareSplit, Filter: f.filter}
}

// flagError names the flag for a bad API parameter.
func flagError(err error) error {
	var pe *cost.ParamError
	if !errors.As(err, &pe) {
		return err
	}
	flag := map[string]string{"includeIdle": "include-idle", "shareIdle": "share-idle", "idleByNode": "idle-by-node",
		"shareNamespaces": "share-namespaces", "shareSplit": "share-split"}[pe.Param]
	if flag == "" {
		flag = pe.Param
	}
	return fmt.Errorf("--%s: %s", flag, pe.Msg)
}

// progressBar draws "reading Prometheus [####......] 3/7" on a terminal.
type progressBar struct {
	w       io.Writer
	enabled bool
	drawn   bool
}

func newProgressBar(w io.Writer, mode string) *progressBar {
	enabled := mode == "always"
	if mode == "auto" {
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				enabled = true
			}
		}
	}
	return &progressBar{w: w, enabled: enabled}
}

func (p *progressBar) update(done, total int) {
	if !p.enabled || total < 2 {
		return
	}
	const width = 30
	n := done * width / total
	fmt.Fprintf(p.w, "\rreading Prometheus [%s%s] %d/%d chunks", strings.Repeat("#", n), strings.Repeat(".", width-n), done, total)
	p.drawn = true
}

func (p *progressBar) done() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}
