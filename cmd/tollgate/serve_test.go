package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/identity"
	"github.com/tollgate-dev/tollgate/internal/testkit/testenv"
)

// serve with metrics_listen: the gateway's address refuses /metrics to a
// tenant and serves it to the admin token; the second address serves it
// and the probes to anyone, and nothing else. Cancelling stops both.
func TestServeMetricsListen(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
	}))
	t.Cleanup(up.Close)
	listen, metricsListen := testenv.FreeAddr(t), testenv.FreeAddr(t)
	cfg := writeFile(t, t.TempDir(), "tollgate.yaml", `listen: `+listen+`
metrics_listen: `+metricsListen+`
upstreams: {prometheus: "`+up.URL+`"}
tenancy:
  label: namespace
  admin_groups: [platform-sre]
  tenants:
    - {name: payments, groups: [team-payments], namespaces: [team-payments-prod]}
auth:
  trusted_headers: {user: X-Forwarded-User, groups: X-Forwarded-Groups, trusted_cidrs: [127.0.0.0/8]}
  tokens:
    - {name: ci, sha256: "`+identity.HashToken("secret")+`", groups: [platform-sre]}
`)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		cmd := newRootCmd()
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		cmd.SetArgs([]string{"serve", "--config", cfg})
		done <- cmd.ExecuteContext(ctx)
	}()
	get := func(addr, path string, headers ...string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c1, _ := get(listen, "/-/ready")
		c2, _ := get(metricsListen, "/-/ready")
		if c1 == 200 && c2 == 200 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not come up on both addresses: %d %d", c1, c2)
		}
		time.Sleep(50 * time.Millisecond)
	}
	get(listen, "/api/v1/query?query=up", "X-Forwarded-User", "alice", "X-Forwarded-Groups", "team-payments")

	if code, body := get(listen, "/metrics", "X-Forwarded-User", "alice", "X-Forwarded-Groups", "team-payments"); code != http.StatusForbidden {
		t.Errorf("a tenant's /metrics on listen: %d %s, want 403", code, body)
	}
	if code, body := get(listen, "/metrics", "Authorization", "Bearer secret"); code != 200 || !strings.Contains(body, `tenant="payments"`) {
		t.Errorf("the admin token's /metrics on listen: %d, want 200 with payments' request", code)
	}
	if code, body := get(metricsListen, "/metrics"); code != 200 || !strings.Contains(body, `tenant="payments"`) || !strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics on metrics_listen: %d, want 200 with the gateway's and Go's metrics", code)
	}
	if code, _ := get(metricsListen, "/api/v1/query?query=up", "Authorization", "Bearer secret"); code != http.StatusNotFound {
		t.Errorf("the query API on metrics_listen: %d, want 404", code)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v after cancellation", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if code, _ := get(metricsListen, "/-/healthy"); code != 0 {
		t.Errorf("metrics_listen still answers after serve stopped: %d", code)
	}
}
