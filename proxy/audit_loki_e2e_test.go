package proxy_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/audit"
	"github.com/tollgate-dev/tollgate/internal/testkit/testenv"
)

// TestAuditLokiE2E pushes the audit trail into an org of the real Loki
// and reads it back as an auditor would, with LogQL; the tenants' orgs do
// not see it.
func TestAuditLokiE2E(t *testing.T) {
	loki := testenv.StartLoki(t)
	gw, _, end := startStack(t, "", `
upstreams: {prometheus: %[1]q, loki: %[2]q}
tenancy:
  label: namespace
  tenants:
    - {name: payments, groups: [team-payments], namespaces: [team-payments-prod]}
auth:
  trusted_headers: {user: X-Forwarded-User, groups: X-Forwarded-Groups, trusted_cidrs: [127.0.0.1/32]}
audit: {loki_org_id: audit, flush_interval: 20ms}
limits: {max_limit: 50}
`, loki.URL)
	lokiLimitIsPlainText(t, gw)
	q := "/api/v1/query?" + url.Values{"query": {"up"}, "time": {fmt.Sprint(end.Unix())}}.Encode()
	allowed, allowedID := auditGet(t, gw, q, "X-Forwarded-User", "alice", "X-Forwarded-Groups", "team-payments")
	refused, refusedID := auditGet(t, gw, "/loki/api/v1/query_range?query=%7Bapp%3D%22x%22%7D&bogus=1", "X-Forwarded-User", "alice", "X-Forwarded-Groups", "team-payments")
	if allowed != 200 || refused != 400 {
		t.Fatalf("statuses %d, %d; want 200, 400", allowed, refused)
	}

	recs := readLokiAudit(t, loki.URL, "audit", `{job="tollgate-audit"} | json | user="alice"`, 2)
	a, okA := byRequestID(recs, allowedID)
	r, okR := byRequestID(recs, refusedID)
	if !okA || !okR {
		t.Fatalf("records read back from Loki: %+v; want request IDs %s and %s", recs, allowedID, refusedID)
	}
	if a.Decision != "allowed" || a.API != "prometheus" || a.QueryEnforced.Get("query") != `up{namespace="team-payments-prod"}` {
		t.Errorf("allowed record from Loki: %+v", a)
	}
	if r.Decision != "refused" || r.API != "loki" || r.Status != 400 || !strings.Contains(r.Reason, `parameter "bogus"`) {
		t.Errorf("refused record from Loki: %+v", r)
	}
	if other := readLokiAudit(t, loki.URL, "payments", `{job="tollgate-audit"}`, 0); len(other) != 0 {
		t.Errorf("the payments org holds %d audit records; the trail must stay in its own org", len(other))
	}
}

// lokiLimitIsPlainText: a query-shape limit on a Loki route is answered
// in Loki's own error format, plain text, naming the limit.
func lokiLimitIsPlainText(t *testing.T, gw string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, gw+"/loki/api/v1/query_range?"+url.Values{"query": {`{app="x"}`}, "limit": {"1000"}}.Encode(), nil)
	req.Header.Set("X-Forwarded-User", "alice")
	req.Header.Set("X-Forwarded-Groups", "team-payments")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	want := `parameter "limit" is 1000, over tenant "payments"'s limit (limits.max_limit: 50)` + "\n"
	if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") || string(body) != want {
		t.Errorf("Loki query over max_limit: %d %s %q, want 400 text/plain %q", resp.StatusCode, resp.Header.Get("Content-Type"), body, want)
	}
}

// readLokiAudit runs a LogQL query in org until it returns at least n
// records (at most 20 s), and returns them.
func readLokiAudit(t *testing.T, lokiURL, org, query string, n int) []audit.Record {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ps := url.Values{"query": {query}, "limit": {"100"},
			"start": {strconv.FormatInt(time.Now().Add(-time.Hour).UnixNano(), 10)}, "end": {strconv.FormatInt(time.Now().Add(time.Minute).UnixNano(), 10)}}
		req, _ := http.NewRequest(http.MethodGet, lokiURL+"/loki/api/v1/query_range?"+ps.Encode(), nil)
		req.Header.Set("X-Scope-OrgID", org)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Data struct {
				Result []struct {
					Values [][2]string `json:"values"`
				} `json:"result"`
			} `json:"data"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("querying Loki: %d %v", resp.StatusCode, err)
		}
		var recs []audit.Record
		for _, s := range body.Data.Result {
			for _, v := range s.Values {
				var r audit.Record
				if err := json.Unmarshal([]byte(v[1]), &r); err != nil {
					t.Fatalf("a line in Loki is not a record: %q", v[1])
				}
				recs = append(recs, r)
			}
		}
		if len(recs) >= n && (n > 0 || time.Now().After(deadline.Add(-18*time.Second))) || time.Now().After(deadline) {
			return recs
		}
		time.Sleep(200 * time.Millisecond)
	}
}
