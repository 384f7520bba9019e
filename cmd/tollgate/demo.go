package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/demo"
)

// maxDemoHours bounds --hours: the history is generated at startup and kept
// in memory; a week takes about a second and 120 MB.
const maxDemoHours = 7 * 24

const demoLong = `Run Tollgate in front of an embedded Prometheus and a real Loki, with a
synthetic cluster's metrics and logs.

The demo starts:

  - a real Prometheus (TSDB, PromQL engine, rule manager and HTTP API,
    embedded in tollgate-demo-prometheus, a child process) on a free
    loopback port, loaded with a synthetic
    Kubernetes cluster: three teams (payments, checkout, search) in five
    namespaces, plus kube-system and monitoring, with --hours of history and
    live samples every 30s, a recording rule per team namespace and the
    alert HighErrorRate firing everywhere;
  - a real Loki (v3, multi-tenant) as a child process on free loopback
    ports, holding the cluster's logs: an hour of logfmt access-log lines
    per service, and a live line per service every 5s. Each team's logs are
    in its own Loki org, kube-system's and monitoring's in org "platform";
  - Tollgate on --listen, in front of both, configured with one tenant per
    team (with its Loki org), the admin group platform-sre, identity headers
    trusted from loopback, and a bearer token for an admin "ci" generated
    for this run;
  - the cost engine on a priced cluster (on-demand, spot and GPU nodes from
    the embedded price catalogue) with a week of history (--hours at 30s,
    the rest of the week at 5m), and a chargeback page per team: two
    loopback sign-in proxies that set alice's and bob's identity headers,
    standing in for oauth2-proxy, so that a browser can open them.

It then prints the URLs, the token, and curl commands to paste into another
terminal: each team reads only its own namespaces' metrics and logs, and
pushes logs only into them; an admin reads all; requests without an
identity or tenant are refused. The demo's own messages, Tollgate's access
log among them, go to stderr.

Neither server is part of this binary, which is the gateway a container
image ships. The demo runs $TOLLGATE_DEMO_PROMETHEUS if set, else
tollgate-demo-prometheus next to this binary, in the repository's bin/, or on
PATH; ` + "`make demo`" + ` builds it into bin/. It runs $TOLLGATE_LOKI if set, else
.cache/bin/loki of the repository (found from the working directory or from
this binary's location), which ` + "`make loki`" + ` builds and ` + "`make demo`" + ` builds
first. Without Loki the demo runs without logs and says so.

Each team's Grafana dashboards and their provisioning files (data sources
at the gateway) are written to --out, as ` + "`tollgate dashboards generate`" + ` would
write them, and so are, under slo/, the platform SLO catalogue's rules, the
payments team's SLO spec with its tenant-confined rules, and the
Alertmanager configuration routing their pages and tickets, as
` + "`tollgate slo generate`" + ` and ` + "`tollgate slo alertmanager-config`" + ` write them.
They stay there after the demo stops.

The data lives in memory and in temporary directories that are removed on
exit; the token changes on every run. Stop the demo with Ctrl-C (or SIGTERM):
Tollgate drains its requests, then Loki and the demo's Prometheus shut
down.`

const demoExample = `  tollgate demo
  tollgate demo --listen 127.0.0.1:8080 --hours 24
  tollgate demo --log-format json 2>demo.log   # keep the access log apart
  TOLLGATE_LOKI=/usr/local/bin/loki tollgate demo   # a Loki 3 built elsewhere
  go build -o bin/ ./cmd/tollgate ./cmd/tollgate-demo-prometheus && bin/tollgate demo   # what make demo builds
  tollgate demo --out ./grafana-demo   # the teams' dashboards and provisioning files there`

func newDemoCmd() *cobra.Command {
	var (
		listen string
		hours  int
		logs   logFlags
		out    string
	)
	cmd := &cobra.Command{
		Use:     "demo",
		Short:   "Run the gateway over an embedded Prometheus and a real Loki with a synthetic cluster",
		Long:    demoLong,
		Example: demoExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := logs.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if hours < 1 || hours > maxDemoHours {
				return fmt.Errorf("--hours %d: use between 1 and %d", hours, maxDemoHours)
			}
			prom, err := findPrometheus()
			if err != nil {
				return err
			}
			loki, err := findLoki()
			if err != nil {
				return err
			}
			d, err := demo.New(demo.Options{
				Listen:           listen,
				History:          time.Duration(hours) * time.Hour,
				PrometheusBinary: prom,
				LokiBinary:       loki,
				// Debian's prometheus-alertmanager (make deps); without
				// it the demo runs without alerts.
				AlertmanagerBinary: demo.FindAlertmanager(os.Getenv),
				OutputDir:          out,
				Logger:             logger,
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
	cmd.Flags().StringVar(&listen, "listen", demo.DefaultListen, "address of the gateway; Prometheus and Loki always take free loopback ports")
	cmd.Flags().IntVar(&hours, "hours", int(demo.DefaultHistory/time.Hour), "hours of synthetic history to generate at startup")
	cmd.Flags().StringVar(&out, "out", filepath.Join(os.TempDir(), "tollgate-demo"), "folder for the generated files (dashboards, provisioning, slo/ rules and Alertmanager configuration); kept after the demo")
	logs.register(cmd.Flags())
	return cmd
}

// findLoki looks for the Loki binary from this process's environment. Not
// finding one is no error: the demo runs without logs.
func findLoki() (string, error) {
	// Either may fail (a deleted working directory, say); the lookup then
	// has one place less to look.
	wd, _ := os.Getwd()
	exe, _ := os.Executable()
	p, err := demo.FindLoki(demo.LokiLookup{Getenv: os.Getenv, Workdir: wd, Executable: exe})
	if errors.Is(err, demo.ErrLokiNotFound) {
		return "", nil
	}
	return p, err
}

// findPrometheus looks for the demo Prometheus from this process's
// environment. Without it there is no demo.
func findPrometheus() (string, error) {
	// Either may fail; the lookup then has one place less to look.
	wd, _ := os.Getwd()
	exe, _ := os.Executable()
	return demo.FindPrometheus(demo.PrometheusLookup{Getenv: os.Getenv, Executable: exe, Workdir: wd, LookPath: exec.LookPath})
}
