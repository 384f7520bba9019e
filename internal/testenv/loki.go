package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// Loki is a running Loki server.
type Loki struct {
	URL string
	Dir string
}

// LokiConfig is the single-process configuration used by tests and the
// demo: multi-tenant (auth_enabled), everything on loopback, storage in dir,
// multi-tenant queries ("a|b") enabled.
func LokiConfig(dir string, httpPort, grpcPort int) string {
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
      chunks_directory: %[1]s/chunks
      rules_directory: %[1]s/rules
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
  # Tests and benchmarks push in bursts; Loki's default 4 MB/s per tenant
  # would turn a throughput measurement into a rate-limit measurement.
  ingestion_rate_mb: 1024
  ingestion_burst_size_mb: 1024
  per_stream_rate_limit: 1GB
  per_stream_rate_limit_burst: 1GB
querier:
  multi_tenant_queries_enabled: true
pattern_ingester:
  enabled: true
analytics:
  reporting_enabled: false
`, dir, httpPort, grpcPort)
}

// LokiBinary finds the Loki server: $TOLLGATE_LOKI, then the copy `make
// deps` builds into .cache/bin of the repository, then PATH. (Debian's
// "loki" package is an unrelated genetics tool, so PATH comes last.)
func LokiBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("TOLLGATE_LOKI"); p != "" {
		return p
	}
	if p := RepoLoki(); p != "" {
		return p
	}
	t.Fatalf("the Loki server is not built: run `make deps` (it builds Loki v3.7.8 into .cache/bin/loki), or set TOLLGATE_LOKI")
	return ""
}

// RepoLoki returns the path of .cache/bin/loki in this repository, or "" if
// it is not there.
func RepoLoki() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	p := filepath.Join(filepath.Dir(file), "..", "..", ".cache", "bin", "loki")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// StartLoki starts Loki and waits until it is ready. It is stopped when the
// test ends.
func StartLoki(t testing.TB) *Loki {
	t.Helper()
	bin := LokiBinary(t)
	dir := t.TempDir()
	httpPort, grpcPort := freePort(t), freePort(t)
	cfgPath := filepath.Join(dir, "loki.yaml")
	if err := os.WriteFile(cfgPath, []byte(LokiConfig(dir, httpPort, grpcPort)), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := exec.Command(bin, "-config.file="+cfgPath)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting loki: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			t.Logf("loki log:\n%s", logs.String())
		}
	})
	l := &Loki{URL: fmt.Sprintf("http://127.0.0.1:%d", httpPort), Dir: dir}
	if err := waitReady(l.URL+"/ready", exited, 90*time.Second); err != nil {
		t.Fatalf("loki did not become ready: %v\n%s", err, logs.String())
	}
	return l
}
