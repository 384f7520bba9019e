package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/limits"
	"github.com/tollgate-dev/tollgate/tenancy"
)

const (
	configCheckLong = `Validate a configuration file and print every problem at once, each with
file, line and column, what is wrong and how to fix it. Unknown keys are
errors. Warnings (such as a namespace granted to two tenants) are printed but
do not fail the check.

Exit status: 0 when the file is valid, 1 when it has errors.`
	configCheckExample = `  tollgate config check tollgate.yaml
  tollgate config check deploy/tollgate.example.yaml`
)

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Work with the configuration file",
	}
	cmd.AddCommand(&cobra.Command{
		Use:     "check FILE",
		Short:   "Validate a configuration file without serving",
		Long:    configCheckLong,
		Example: configCheckExample,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			cfg, problems, err := config.Load(args[0])
			for _, p := range problems {
				fmt.Fprintln(out, p.String())
			}
			if err != nil {
				if len(problems) == 0 {
					fmt.Fprintln(out, err)
				}
				return &exitError{code: 1, err: fmt.Errorf("%s is not valid", args[0])}
			}
			tn, err := tenancy.New(cfg.Tenancy)
			if err != nil {
				return err
			}
			printConfigSummary(out, args[0], cfg, tn)
			printGuardSummary(out, cfg)
			return nil
		},
	})
	return cmd
}

// printConfigSummary says what a valid configuration sets up: listen
// address, backends, tenants and the cost engine.
func printConfigSummary(out io.Writer, path string, cfg *config.File, tn *tenancy.Tenancy) {
	fmt.Fprintf(out, "%s is valid: listen %s", path, cfg.Listen)
	if cfg.Upstreams.Prometheus != "" {
		fmt.Fprintf(out, ", prometheus %s", cfg.Upstreams.Prometheus)
	}
	if cfg.Upstreams.Loki != "" {
		fmt.Fprintf(out, ", loki %s", cfg.Upstreams.Loki)
	}
	if cfg.Upstreams.Alertmanager != "" {
		fmt.Fprintf(out, ", alertmanager %s", cfg.Upstreams.Alertmanager)
	}
	if cfg.Upstreams.RemoteWrite != "" {
		fmt.Fprintf(out, ", remote write %s", cfg.Upstreams.RemoteWrite)
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, "enforced label %q; admin groups: %s\n", tn.Label(), strings.Join(cfg.Tenancy.AdminGroups, ", "))
	for _, t := range tn.Tenants() {
		fmt.Fprintf(out, "  tenant %-16s groups %-28s namespaces %-44s loki org %s\n", t.Name, strings.Join(t.Groups, ","), strings.Join(t.Namespaces, ","), t.LokiOrgID)
	}
	if c := cfg.Cost; c != nil {
		prices := "embedded catalogue"
		if c.PricingFile != "" {
			prices = c.PricingFile + " over the embedded catalogue"
		}
		var discounts []string
		for p, pct := range c.Discounts {
			discounts = append(discounts, fmt.Sprintf("%s %g%%", p, pct))
		}
		slices.Sort(discounts)
		fmt.Fprintf(out, "cost engine: cluster %s, %s, prices from %s, discounts [%s], shared namespaces [%s], overhead %.2f/month\n",
			c.Cluster, c.Currency, prices, strings.Join(discounts, ", "), strings.Join(c.SharedNamespaces, ", "), c.SharedOverheadMonthly)
	}
}

// printGuardSummary says where the audit trail goes and which limits
// hold.
func printGuardSummary(out io.Writer, cfg *config.File) {
	if a := cfg.Audit; a != nil {
		var sinks []string
		if a.File != "" {
			sinks = append(sinks, "file "+a.File)
		}
		if a.Stdout {
			sinks = append(sinks, "stdout")
		}
		if a.LokiOrgID != "" {
			sinks = append(sinks, "loki org "+a.LokiOrgID)
		}
		mode := "fail open (records dropped and counted when the queue is full)"
		if a.FailClosed {
			mode = "fail closed (503 while a sink is failing)"
		}
		fmt.Fprintf(out, "audit trail: %s; %s\n", strings.Join(sinks, ", "), mode)
	}
	describe := func(c limits.Config) string { return c.String() }
	fmt.Fprintf(out, "limits: every tenant %s\n", describe(cfg.Limits))
	for _, t := range cfg.Tenancy.Tenants {
		if t.Limits != nil && !t.Limits.Empty() {
			fmt.Fprintf(out, "  tenant %-16s %s\n", t.Name, describe(cfg.Limits.Over(t.Limits)))
		}
	}
	if a := cfg.Tenancy.AdminLimits; a != nil {
		fmt.Fprintf(out, "  admins %s\n", describe(*a))
	} else {
		fmt.Fprintf(out, "  admins none (tenancy.admin_limits is not set)\n")
	}
}
