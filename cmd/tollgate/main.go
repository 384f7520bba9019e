// Command tollgate is the multi-tenant observability and FinOps gateway.
// Each subcommand lives in its own file; this one only assembles them.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "tollgate:", err)
		os.Exit(exitCode(err))
	}
}

// exitError carries a specific exit status (e.g. 1 for "check failed").
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	if e, ok := err.(*exitError); ok {
		return e.code
	}
	return 1
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "tollgate",
		Short: "Multi-tenant observability and FinOps gateway",
		Long: `Tollgate sits between Grafana and your Prometheus-compatible backend
(Prometheus, Thanos Query, Mimir) and Loki. It authenticates every request,
maps the user's SSO groups to tenants, and rewrites every PromQL and LogQL
query through the backends' own parsers so that a team only ever reads its
own namespaces; log pushes are checked stream by stream.

Start with the demo (` + "`make demo`" + ` also builds the Loki it runs):

  tollgate demo

then write a configuration (see README.md, "Configuration") and run:

  tollgate config check tollgate.yaml
  tollgate serve --config tollgate.yaml`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCmd(), newConfigCmd(), newTokenCmd(), newDemoCmd(), newCostCmd(), newDashboardsCmd(), newSloCmd(), newVersionCmd())
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), "tollgate", version)
			return err
		},
	}
}
