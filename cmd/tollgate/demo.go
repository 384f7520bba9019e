package main

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/demo"
)

// maxDemoHours bounds --hours: the history is generated at startup and kept
// in memory; a week takes about a second and 120 MB.
const maxDemoHours = 7 * 24

func newDemoCmd() *cobra.Command {
	var (
		listen string
		hours  int
		logs   logFlags
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the gateway over an embedded Prometheus with a synthetic cluster",
		Long: `Run Tollgate in front of an embedded Prometheus, with nothing else to install.

The demo starts, in this one process:

  - a real Prometheus (TSDB, PromQL engine, rule manager and HTTP API) on a
    free loopback port, loaded with a synthetic Kubernetes cluster: three
    teams (payments, checkout, search) in five namespaces, plus kube-system
    and monitoring, with --hours of history and live samples every 30s, a
    recording rule per team namespace and the alert HighErrorRate firing
    everywhere;
  - Tollgate on --listen, configured with one tenant per team, the admin
    group platform-sre, identity headers trusted from loopback, and a bearer
    token for an admin "ci" generated for this run.

It then prints both URLs, the token, and curl commands to paste into another
terminal: each team reads only its own namespaces, an admin reads all, and
requests without an identity or tenant are refused. Logs, including
Tollgate's access log, go to stderr.

The data lives in memory and in a temporary directory that is removed on
exit; the token changes on every run. Stop the demo with Ctrl-C (or SIGTERM):
Tollgate drains its requests, then the embedded Prometheus shuts down.`,
		Example: `  tollgate demo
  tollgate demo --listen 127.0.0.1:8080 --hours 24
  tollgate demo --log-format json 2>demo.log   # keep the access log apart`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := logs.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if hours < 1 || hours > maxDemoHours {
				return fmt.Errorf("--hours %d: use between 1 and %d", hours, maxDemoHours)
			}
			d, err := demo.New(demo.Options{
				Listen:  listen,
				History: time.Duration(hours) * time.Hour,
				Logger:  logger,
			})
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			err = d.Run(ctx, cmd.OutOrStdout())
			switch {
			case errors.Is(err, syscall.EADDRINUSE):
				return fmt.Errorf("%w; is another Tollgate running? Pick another address with --listen", err)
			case errors.Is(err, context.Canceled) && ctx.Err() != nil:
				// Interrupted while starting: that is a stop, not a failure.
				return nil
			}
			return err
		},
	}
	cmd.Flags().StringVar(&listen, "listen", demo.DefaultListen, "address of the gateway; the embedded Prometheus always takes a free loopback port")
	cmd.Flags().IntVar(&hours, "hours", int(demo.DefaultHistory/time.Hour), "hours of synthetic history to generate at startup")
	logs.register(cmd.Flags())
	return cmd
}
