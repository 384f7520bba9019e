// Package lokiserver describes the single-process Loki that Tollgate's demo
// and end-to-end tests run: one configuration, so that what the tests prove
// is what the demo shows.
package lokiserver

import (
	"fmt"
	"path/filepath"
	"strconv"
)

// Config is a single-process Loki: multi-tenant (auth_enabled), on loopback
// only, storing in dir, with multi-tenant queries ("a|b", which Tollgate
// sends for admins and for members of several tenants).
//
// Two settings bring its start from about 17 s to under 2 s: the ingesters
// join their rings without waiting 15 s, and the query frontend and its
// workers find the scheduler at its address instead of through the
// scheduler ring. Ingestion limits are raised because the demo seeds and the
// benchmarks push in bursts; Loki's default 4 MB/s per tenant would turn a
// throughput measurement into a rate-limit measurement.
func Config(dir string, httpPort, grpcPort int) string {
	// Paths are quoted: a TMPDIR may hold characters YAML would read.
	q := func(p string) string { return strconv.Quote(filepath.ToSlash(p)) }
	return fmt.Sprintf(`auth_enabled: true
server:
  http_listen_address: 127.0.0.1
  http_listen_port: %[2]d
  grpc_listen_address: 127.0.0.1
  grpc_listen_port: %[3]d
  log_level: warn
common:
  instance_addr: 127.0.0.1
  path_prefix: %[1]s
  storage:
    filesystem:
      chunks_directory: %[4]s
      rules_directory: %[5]s
  replication_factor: 1
  ring:
    kvstore:
      store: inmemory
ingester:
  lifecycler:
    min_ready_duration: 0s
    final_sleep: 0s
schema_config:
  configs:
    - from: 2020-10-24
      store: tsdb
      object_store: filesystem
      schema: v13
      index:
        prefix: index_
        period: 24h
limits_config:
  allow_structured_metadata: true
  volume_enabled: true
  reject_old_samples: false
  ingestion_rate_mb: 1024
  ingestion_burst_size_mb: 1024
  per_stream_rate_limit: 1GB
  per_stream_rate_limit_burst: 1GB
querier:
  multi_tenant_queries_enabled: true
pattern_ingester:
  enabled: true
  lifecycler:
    min_ready_duration: 0s
    final_sleep: 0s
frontend:
  scheduler_address: 127.0.0.1:%[3]d
frontend_worker:
  scheduler_address: 127.0.0.1:%[3]d
analytics:
  reporting_enabled: false
`, q(dir), httpPort, grpcPort, q(filepath.Join(dir, "chunks")), q(filepath.Join(dir, "rules")))
}
