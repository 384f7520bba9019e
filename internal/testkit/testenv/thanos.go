package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// Prometheus3 returns options that run the real Prometheus 3 and its
// promtool, built by `make deps` into .cache/bin ($TOLLGATE_PROMETHEUS3 and
// $TOLLGATE_PROMTOOL3 override them). promtool 3 is needed for UTF-8 names,
// which promtool 2.42 cannot backfill.
func Prometheus3(t testing.TB, opts PrometheusOptions) PrometheusOptions {
	t.Helper()
	opts.Binary = CacheBinary(t, "TOLLGATE_PROMETHEUS3", "prometheus3", "prometheus3")
	opts.Promtool = CacheBinary(t, "TOLLGATE_PROMTOOL3", "promtool3", "prometheus3")
	return opts
}

// ThanosBinary finds the real Thanos: $TOLLGATE_THANOS, then .cache/bin/thanos.
func ThanosBinary(t testing.TB) string {
	t.Helper()
	return CacheBinary(t, "TOLLGATE_THANOS", "thanos", "thanos")
}

// Sidecar is a running Thanos sidecar.
type Sidecar struct {
	// GRPC is the host:port of its Store API, for a Thanos Query.
	GRPC string
}

// StartSidecar starts a Thanos sidecar (without object storage) in front of
// prom, whose configuration must have external labels, and waits until it
// is ready. It is stopped when the test ends.
func StartSidecar(t testing.TB, prom *Prometheus) *Sidecar {
	t.Helper()
	s := &Sidecar{}
	startServer(t, "thanos sidecar", ThanosBinary(t), t.TempDir(), 60*time.Second, func() ([]string, string) {
		httpAddr := FreeAddr(t)
		s.GRPC = FreeAddr(t)
		return []string{
			"sidecar",
			"--prometheus.url=" + prom.URL,
			"--tsdb.path=" + prom.Dir + "/data",
			"--grpc-address=" + s.GRPC,
			"--http-address=" + httpAddr,
			"--log.level=warn",
		}, "http://" + httpAddr + "/-/ready"
	})
	return s
}

// ThanosQuery is a running Thanos Query.
type ThanosQuery struct {
	URL string
}

// ThanosQueryOptions configure StartThanosQuery.
type ThanosQueryOptions struct {
	// Endpoints are Store API addresses, which must all be up and serving
	// before StartThanosQuery returns.
	Endpoints []string
	// StrictEndpoints are always queried, even when their health check
	// fails: a dead one makes every answer partial.
	StrictEndpoints []string
	// Args are extra command-line flags.
	Args []string
}

// StartThanosQuery starts a Thanos Query over the given Store API endpoints
// and waits until it is ready and has discovered every endpoint. It is
// stopped when the test ends.
func StartThanosQuery(t testing.TB, opts ThanosQueryOptions) *ThanosQuery {
	t.Helper()
	q := &ThanosQuery{}
	startServer(t, "thanos query", ThanosBinary(t), t.TempDir(), 60*time.Second, func() ([]string, string) {
		httpAddr := FreeAddr(t)
		q.URL = "http://" + httpAddr
		args := []string{
			"query",
			"--grpc-address=" + FreeAddr(t),
			"--http-address=" + httpAddr,
			"--query.replica-label=replica",
			"--log.level=warn",
		}
		for _, e := range opts.Endpoints {
			args = append(args, "--endpoint="+e)
		}
		for _, e := range opts.StrictEndpoints {
			args = append(args, "--endpoint-strict="+e)
		}
		return append(args, opts.Args...), q.URL + "/-/ready"
	})
	if err := q.waitStores(len(opts.Endpoints), 60*time.Second); err != nil {
		t.Fatal(err)
	}
	return q
}

// waitStores polls /api/v1/stores until n endpoints are healthy: Thanos
// Query is ready before it has asked its endpoints what they serve, and a
// query in between would silently read nothing.
func (q *ThanosQuery) waitStores(n int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last string
	for {
		healthy, err := q.healthyStores(ctx)
		if err == nil && healthy >= n {
			return nil
		}
		last = fmt.Sprintf("%d of %d endpoints healthy (error: %v)", healthy, n, err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("thanos query at %s did not discover its endpoints within %s: %s", q.URL, timeout, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (q *ThanosQuery) healthyStores(ctx context.Context) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, q.URL+"/api/v1/stores", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var r struct {
		Data map[string][]struct {
			LastError *string `json:"lastError"`
			MinTime   int64   `json:"minTime"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, fmt.Errorf("decoding /api/v1/stores: %w", err)
	}
	healthy := 0
	for _, stores := range r.Data {
		for _, s := range stores {
			if s.LastError == nil {
				healthy++
			}
		}
	}
	return healthy, nil
}

// Cluster is one Prometheus 3 "cluster" of a Thanos topology.
type Cluster struct {
	// Name is the value of its external label cluster.
	Name string
	// Prometheus options; Binary, Promtool and ExternalLabels are set by
	// StartThanos.
	Options PrometheusOptions
}

// Thanos is a running topology: Prometheus 3 servers, each with a sidecar,
// and one Thanos Query over all of them.
type Thanos struct {
	Query      *ThanosQuery
	Prometheus map[string]*Prometheus // by cluster name
	Sidecars   map[string]*Sidecar    // by cluster name
}

// StartThanos starts one Prometheus 3 per cluster, with the external label
// cluster=<name> and a Thanos sidecar, and a Thanos Query over every
// sidecar. Everything is on loopback and stopped when the test ends.
func StartThanos(t testing.TB, clusters ...Cluster) *Thanos {
	t.Helper()
	th := &Thanos{Prometheus: map[string]*Prometheus{}, Sidecars: map[string]*Sidecar{}}
	var endpoints []string
	for _, c := range clusters {
		opts := Prometheus3(t, c.Options)
		opts.ExternalLabels = map[string]string{"cluster": c.Name}
		p := StartPrometheus(t, opts)
		s := StartSidecar(t, p)
		th.Prometheus[c.Name], th.Sidecars[c.Name] = p, s
		endpoints = append(endpoints, s.GRPC)
	}
	th.Query = StartThanosQuery(t, ThanosQueryOptions{Endpoints: endpoints})
	return th
}
