package config

import "github.com/tollgate-dev/tollgate/internal/problem"

// validateMore checks the upstreams added after the first two.
func (u Upstreams) validateMore(ps *problem.List) {
	if u.Alertmanager != "" {
		checkURL(ps, "upstreams.alertmanager", u.Alertmanager)
	}
	if u.RemoteWrite != "" {
		checkURL(ps, "upstreams.remote_write", u.RemoteWrite)
		if u.Prometheus == "" {
			ps.Add("upstreams.remote_write", "is set without upstreams.prometheus", "remote writes are received on the Prometheus API's /api/v1/write: set upstreams.prometheus too, or remove remote_write")
		}
	}
}

// Remote-write defaults. Prometheus sends at most 2,000 samples per
// request by default (queue_config.max_samples_per_send); these admit
// fifty times that, and keep a decoded request within a few hundred MiB.
const (
	DefaultMaxRemoteWriteSeries     = 100_000
	DefaultMaxRemoteWriteSamples    = 1_000_000
	DefaultMaxRemoteWriteLabelPairs = 2_000_000
)
