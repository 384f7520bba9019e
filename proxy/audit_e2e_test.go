package proxy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/audit"
	"github.com/tollgate-dev/tollgate/identity"
	"github.com/tollgate-dev/tollgate/internal/testkit/testenv"
)

// Secrets the audit test sends in every place a client may put one; none
// may reach a record.
const (
	secretInQuery  = "s3cr3t-in-the-query-string"
	secretInCookie = "s3cr3t-in-a-cookie"
	wrongToken     = "s3cr3t-wrong-bearer-token"
)

const auditConfig = `
upstreams: {prometheus: %[1]q}
tenancy:
  label: namespace
  admin_groups: [platform-sre]
  tenants:
    - {name: payments, groups: [team-payments], namespaces: [team-payments-prod, team-payments-staging]}
auth:
  trusted_headers: {user: X-Forwarded-User, groups: X-Forwarded-Groups, trusted_cidrs: [127.0.0.1/32]}
  tokens:
    - {name: ci, sha256: %[2]q, groups: [platform-sre]}
    - {name: payments-bot, sha256: %[3]q, groups: [team-payments]}
audit:
  file: %[4]q
  flush_interval: 20ms
cost: {}
`

// auditClient sends a request and returns the answer's status and
// X-Request-Id.
func auditGet(t *testing.T, base, pathAndQuery string, headers ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+pathAndQuery, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("X-Request-Id")
}

// waitRecords reads the audit file until it holds n records.
func waitRecords(t *testing.T, path string, n int) ([]audit.Record, []byte) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		raw, _ := os.ReadFile(path)
		var recs []audit.Record
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var r audit.Record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("audit line is not JSON: %q", sc.Text())
			}
			recs = append(recs, r)
		}
		if len(recs) >= n || time.Now().After(deadline) {
			if len(recs) < n {
				t.Fatalf("%d audit records after 10s, want %d", len(recs), n)
			}
			return recs, raw
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func byRequestID(recs []audit.Record, id string) (audit.Record, bool) {
	for _, r := range recs {
		if r.RequestID == id {
			return r, true
		}
	}
	return audit.Record{}, false
}

func TestAuditE2E(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	gw, promURL, end := startStack(t, "", auditConfig, identity.HashToken(adminToken), identity.HashToken(paymentsBot), path)
	at := fmt.Sprint(end.Unix())
	alice := []string{"X-Forwarded-User", "alice", "X-Forwarded-Groups", "team-payments", "X-Request-Id", "grafana-1234"}

	type sent struct {
		name   string
		status int
		id     string
	}
	var reqs []sent
	send := func(name string, want int, pathAndQuery string, headers ...string) {
		code, id := auditGet(t, gw, pathAndQuery, headers...)
		if code != want || id == "" {
			t.Fatalf("%s: status %d, X-Request-Id %q; want %d and an ID", name, code, id, want)
		}
		reqs = append(reqs, sent{name, code, id})
	}
	q := url.Values{"query": {"sum(tollgate_demo_namespace_marker)"}, "time": {at}}.Encode()
	send("allowed", 200, "/api/v1/query?"+q, alice...)
	send("refused: no tenant", 403, "/api/v1/query?"+q, "X-Forwarded-User", "carol", "X-Forwarded-Groups", "interns")
	send("refused: token in the query string", 400, "/api/v1/query?"+q+"&access_token="+secretInQuery, "Authorization", "Bearer "+paymentsBot, "Cookie", "session="+secretInCookie)
	send("refused: wrong bearer token", 401, "/api/v1/query?"+q, "Authorization", "Bearer "+wrongToken)
	send("admin pass-through with a token in the query string", 200, "/api/v1/query?"+q+"&token="+secretInQuery, "Authorization", "Bearer "+adminToken)
	send("cost page view", 200, "/ui/chargeback", alice...)

	recs, raw := waitRecords(t, path, len(reqs))
	for _, secret := range []string{secretInQuery, secretInCookie, wrongToken, paymentsBot, adminToken, "Bearer"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the audit trail contains %q:\n%s", secret, raw)
		}
	}
	r, ok := byRequestID(recs, reqs[0].id)
	if !ok {
		t.Fatalf("no record with request ID %s", reqs[0].id)
	}
	want := audit.Record{Time: r.Time, RequestID: reqs[0].id, ClientRequestID: "grafana-1234", User: "alice", Groups: []string{"team-payments"},
		Tenants: []string{"payments"}, Source: r.Source, Authenticator: "header", API: "prometheus", Route: "/api/v1/query", Method: "GET",
		Path: "/api/v1/query", QuerySent: url.Values{"query": {"sum(tollgate_demo_namespace_marker)"}, "time": {at}},
		QueryEnforced: url.Values{"query": {`sum(tollgate_demo_namespace_marker{namespace=~"team-payments-prod|team-payments-staging"})`}, "time": {at}},
		Decision:      "allowed", Status: 200, Bytes: r.Bytes, Duration: r.Duration, Upstream: promURL + "/api/v1/query"}
	if !strings.HasPrefix(r.Source, "127.0.0.1:") || r.Bytes < 50 || r.Duration <= 0 || time.Since(r.Time) > time.Minute {
		t.Errorf("source %q, bytes %d, duration %v, time %v: want the client's address, the answer's size and time", r.Source, r.Bytes, r.Duration, r.Time)
	}
	if g, w := mustJSON(t, r), mustJSON(t, want); g != w {
		t.Errorf("allowed request's record:\n got %s\nwant %s", g, w)
	}
	for _, s := range reqs[1:4] {
		r, ok := byRequestID(recs, s.id)
		if !ok || r.Decision != "refused" || r.Status != s.status || r.Reason == "" || r.Upstream != "" {
			t.Errorf("%s: record %+v, want decision refused, status %d, a reason, no upstream", s.name, r, s.status)
		}
	}
	if r, _ := byRequestID(recs, reqs[1].id); r.Reason != `user "carol" belongs to no tenant: none of its groups [interns] is configured in tenancy.tenants or tenancy.admin_groups` || r.User != "carol" {
		t.Errorf("no-tenant refusal: reason %q user %q", r.Reason, r.User)
	}
	if r, _ := byRequestID(recs, reqs[3].id); r.Authenticator != "" || r.User != "" || !strings.HasPrefix(r.Reason, "authentication required") {
		t.Errorf("wrong token: authenticator %q user %q reason %q", r.Authenticator, r.User, r.Reason)
	}
	if r, _ := byRequestID(recs, reqs[5].id); r.API != "cost" || r.Route != "/ui/chargeback" || r.User != "alice" || r.Decision != "allowed" || r.Status != 200 || r.Bytes == 0 {
		t.Errorf("cost page view: %+v", r)
	}
	if r, _ := byRequestID(recs, reqs[4].id); !r.Admin || r.Authenticator != "token" || r.User != "token:ci" || r.QuerySent.Get("query") != "sum(tollgate_demo_namespace_marker)" || r.QuerySent.Has("token") {
		t.Errorf("admin pass-through: %+v", r)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAuditFailClosedE2E: with audit.fail_closed and the Loki sink down,
// requests are refused with 503 in the API's format once the first
// write has failed.
func TestAuditFailClosedE2E(t *testing.T) {
	dead := "http://" + testenv.FreeAddr(t)
	gw, _, end := startStack(t, "", `
upstreams: {prometheus: %[1]q, loki: %[2]q}
tenancy:
  label: namespace
  tenants:
    - {name: payments, groups: [team-payments], namespaces: [team-payments-prod]}
auth:
  trusted_headers: {user: X-Forwarded-User, groups: X-Forwarded-Groups, trusted_cidrs: [127.0.0.1/32]}
audit: {loki_org_id: audit, fail_closed: true, flush_interval: 10ms}
`, dead)
	q := "/api/v1/query?" + url.Values{"query": {"up"}, "time": {fmt.Sprint(end.Unix())}}.Encode()
	alice := []string{"X-Forwarded-User", "alice", "X-Forwarded-Groups", "team-payments"}
	if code, _ := auditGet(t, gw, q, alice...); code != 200 {
		t.Fatalf("first request, before any audit write failed: %d", code)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, gw+q, nil)
		req.Header.Set("X-Forwarded-User", "alice")
		req.Header.Set("X-Forwarded-Groups", "team-payments")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body apiResponse
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			if body.ErrorType != "unavailable" || body.Error != "the audit trail cannot record requests: an audit sink is failing, and audit.fail_closed is set; requests are refused until it recovers" || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("503: %+v, Retry-After %q", body, resp.Header.Get("Retry-After"))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d 10s after the audit sink went down, want 503", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
