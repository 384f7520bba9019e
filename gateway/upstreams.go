package gateway

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/proxy"
	"github.com/tollgate-dev/tollgate/proxy/amproxy"
	"github.com/tollgate-dev/tollgate/proxy/ingest"
	"github.com/tollgate-dev/tollgate/proxy/lokiproxy"
	"github.com/tollgate-dev/tollgate/proxy/promproxy"
	"github.com/tollgate-dev/tollgate/proxy/remotewrite"
)

// writeOptions configures the Prometheus API's remote-write endpoint: the
// receiver (upstreams.remote_write, or the Prometheus upstream's
// /api/v1/write) and the push path's limits.
func writeOptions(cfg *config.File) (promproxy.WriteOptions, error) {
	p := cfg.Proxy
	o := promproxy.WriteOptions{
		Label:      cfg.Tenancy.Label,
		MaxBytes:   p.MaxPushBytes,
		Concurrent: p.MaxConcurrentPushes,
		Limits: remotewrite.Limits{
			Decompressed: ingest.Limit{Max: p.MaxPushDecompressedBytes, Key: "proxy.max_push_decompressed_bytes"},
			Series:       ingest.Limit{Max: p.MaxRemoteWriteSeries, Key: "proxy.max_remote_write_series"},
			Samples:      ingest.Limit{Max: p.MaxRemoteWriteSamples, Key: "proxy.max_remote_write_samples"},
			Labels:       ingest.Limit{Max: p.MaxRemoteWriteLabelPairs, Key: "proxy.max_remote_write_label_pairs"},
		},
	}
	if cfg.Upstreams.RemoteWrite != "" {
		u, err := url.Parse(cfg.Upstreams.RemoteWrite)
		if err != nil {
			return o, fmt.Errorf("upstreams.remote_write: %w", err)
		}
		o.URL = u
	}
	return o, nil
}

// alertmanagerAPI is Alertmanager's API v2 for upstreams.alertmanager.
func alertmanagerAPI(cfg *config.File, transport http.RoundTripper, logger *slog.Logger) (proxy.API, error) {
	u, err := url.Parse(cfg.Upstreams.Alertmanager)
	if err != nil {
		return nil, fmt.Errorf("upstreams.alertmanager: %w", err)
	}
	return amproxy.New(amproxy.Options{
		Upstream:         u,
		Label:            cfg.Tenancy.Label,
		Transport:        transport,
		MaxBodyBytes:     cfg.Proxy.MaxBodyBytes,
		MaxFilteredBytes: cfg.Proxy.MaxFilteredResponseBytes,
		Timeout:          time.Duration(cfg.Proxy.UpstreamTimeout),
		Logger:           logger,
	}), nil
}

// prometheusAPI is the Prometheus API for upstreams.prometheus, remote
// write included.
func prometheusAPI(cfg *config.File, transport http.RoundTripper, logger *slog.Logger, cacher proxy.Cacher) (proxy.API, error) {
	up, err := url.Parse(cfg.Upstreams.Prometheus)
	if err != nil {
		return nil, fmt.Errorf("upstreams.prometheus: %w", err)
	}
	write, err := writeOptions(cfg)
	if err != nil {
		return nil, err
	}
	return promproxy.New(promproxy.Options{
		Upstream:         up,
		Dialect:          promDialect(cfg, up, transport, logger),
		Label:            cfg.Tenancy.Label,
		Transport:        transport,
		MaxBodyBytes:     cfg.Proxy.MaxBodyBytes,
		Timeout:          time.Duration(cfg.Proxy.UpstreamTimeout),
		ExtraParams:      cfg.Proxy.ExtraParams,
		OrgID:            cfg.Upstreams.PrometheusOrgID,
		QueryLimits:      cfg.Proxy.QueryLimits(),
		MaxFilteredBytes: cfg.Proxy.MaxFilteredResponseBytes,
		Write:            write,
		Logger:           logger,
		Cache:            cacher,
	}), nil
}

// lokiAPI is Loki's API for upstreams.loki, push included.
func lokiAPI(cfg *config.File, transport http.RoundTripper, logger *slog.Logger, cacher proxy.Cacher) (proxy.API, error) {
	lokiURL, err := url.Parse(cfg.Upstreams.Loki)
	if err != nil {
		return nil, fmt.Errorf("upstreams.loki: %w", err)
	}
	return lokiproxy.New(lokiproxy.Options{
		Upstream:            lokiURL,
		Label:               cfg.Tenancy.Label,
		Transport:           transport,
		MaxBodyBytes:        cfg.Proxy.MaxBodyBytes,
		MaxPushBytes:        cfg.Proxy.MaxPushBytes,
		MaxPushDecompressed: cfg.Proxy.MaxPushDecompressedBytes,
		PushLimits: lokiproxy.PushLimits{
			Streams:            cfg.Proxy.MaxPushStreams,
			Entries:            cfg.Proxy.MaxPushEntries,
			StructuredMetadata: cfg.Proxy.MaxPushStructuredMetadataPairs,
			LabelBytes:         cfg.Proxy.MaxPushLabelBytes,
			Concurrent:         cfg.Proxy.MaxConcurrentPushes,
		},
		Timeout:        time.Duration(cfg.Proxy.UpstreamTimeout),
		ExtraParams:    cfg.Proxy.ExtraParams,
		QueryLimits:    cfg.Proxy.QueryLimits(),
		AllowedOrigins: cfg.Proxy.AllowedOrigins,
		Logger:         logger,
		Cache:          cacher,
	}), nil
}
