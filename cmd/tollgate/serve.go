package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/gateway"
	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/httpserver"
)

const (
	serveLong = `Serve the Prometheus HTTP API to tenants, confined to their namespaces.

Point Grafana's Prometheus data source at Tollgate's listen address instead
of Prometheus. Each request is authenticated (trusted headers from an auth
proxy, or a bearer token), the user's groups are mapped to tenants, and every
query, series selector and rules/alerts response is confined to the tenants'
namespaces. Members of tenancy.admin_groups pass through unrewritten; anyone
else gets 403.

With a cost: section it also serves the cost engine to the same tenants:
OpenCost's /allocation API (and /allocation/compute), CSV and FOCUS
downloads, the chargeback page /ui/chargeback, and tollgate_cost_* gauges
on /metrics (docs/cost.md).

Tollgate also serves /-/healthy, /-/ready and its own /metrics. /metrics
names every tenant and, with the cost engine, every namespace's spend, so
on the listen address it is served to admins only (scrape it with an admin
token). With metrics_listen set, /metrics, /-/healthy and /-/ready are also
served without authentication on that second address: give it a port only
Prometheus and the kubelet can reach.
SIGTERM or Ctrl-C fails readiness, then drains in-flight requests.`
	serveExample = `  tollgate config check tollgate.yaml && tollgate serve --config tollgate.yaml
  tollgate serve --config /etc/tollgate/tollgate.yaml --log-format json`
)

func newServeCmd() *cobra.Command {
	var (
		configPath string
		logs       logFlags
	)
	cmd := &cobra.Command{
		Use:     "serve --config FILE",
		Short:   "Serve the label-enforcing query gateway",
		Long:    serveLong,
		Example: serveExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := logs.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			cfg, problems, err := config.Load(configPath)
			if err != nil {
				return err
			}
			for _, p := range problems.Warnings() {
				logger.Warn("configuration", "problem", p.String())
			}
			reg := prometheus.NewRegistry()
			reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
			srv, err := gateway.FromConfig(cfg, nil, logger, reg)
			if err != nil {
				return err
			}
			ln, err := httpserver.Listen(cfg.Listen)
			if err != nil {
				return err
			}
			ctx, stop := context.WithCancel(cmd.Context())
			defer stop()
			var ops chan error
			if cfg.MetricsListen != "" {
				opsLn, err := httpserver.Listen(cfg.MetricsListen)
				if err != nil {
					_ = ln.Close()
					return fmt.Errorf("metrics_listen: %w", err)
				}
				logger.Info("serving metrics and probes", "metrics_listen", opsLn.Addr().String())
				ops = make(chan error, 1)
				go func() {
					err := httpserver.Serve(ctx, opsLn, srv.Operations(), httpserver.Options{Logger: logger})
					stop() // one address down takes the other with it
					ops <- err
				}()
			}
			logger.Info("serving", "listen", ln.Addr().String(), "prometheus", cfg.Upstreams.Prometheus, "tenants", len(cfg.Tenancy.Tenants), "http_server", cfg.Proxy.HTTPServer)
			err = httpserver.Serve(ctx, httpserver.LimitListener(ln, cfg.MaxConnections), srv, httpserver.Options{
				Logger:         logger,
				BeforeShutdown: func() { srv.SetReady(false) },
				IdleTimeout:    time.Duration(cfg.Proxy.IdleTimeout),
				FastHTTP1:      cfg.Proxy.FastHTTP1(),
			})
			stop()
			if ops != nil {
				err = errors.Join(err, <-ops)
			}
			// The audit trail's last records, queued by the last requests.
			flushCtx, cancel := context.WithTimeout(context.Background(), httpserver.ShutdownGrace)
			defer cancel()
			return errors.Join(err, srv.Close(flushCtx))
		},
	}
	cmd.Flags().StringVarP(&configPath, "config", "c", "", "path of the configuration file (required)")
	_ = cmd.MarkFlagRequired("config")
	logs.register(cmd.Flags())
	return cmd
}
