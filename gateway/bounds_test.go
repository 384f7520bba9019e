package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/identity"
	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/httpserver"
	"github.com/tollgate-dev/tollgate/internal/testkit/cputime"
)

// scripted is a fake backend whose answer each test sets.
type scripted struct {
	mu      sync.Mutex
	hits    int
	respond http.HandlerFunc
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits++
	respond := s.respond
	s.mu.Unlock()
	if respond != nil {
		respond(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
}

func (s *scripted) set(f http.HandlerFunc) {
	s.mu.Lock()
	s.respond = f
	s.mu.Unlock()
}

func (s *scripted) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits
}

// boundsStack is the gateway as `tollgate serve` runs it (httpserver.Serve
// on a real socket) in front of fake Prometheus and Loki.
type boundsStack struct {
	base       string
	addr       string
	prom, loki *scripted
}

const (
	tenantToken = "tenant-secret"
	adminToken  = "admin-secret"
)

func startBoundsStack(t *testing.T, proxyYAML string) *boundsStack {
	t.Helper()
	st := &boundsStack{prom: &scripted{}, loki: &scripted{}}
	promSrv, lokiSrv := httptest.NewServer(st.prom), httptest.NewServer(st.loki)
	t.Cleanup(promSrv.Close)
	t.Cleanup(lokiSrv.Close)
	cfg, _, err := config.Parse("bounds.yaml", []byte(`
upstreams: {prometheus: "`+promSrv.URL+`", prometheus_dialect: prometheus3, loki: "`+lokiSrv.URL+`"}
tenancy:
  label: namespace
  admin_groups: [platform-sre]
  tenants:
    - {name: payments, groups: [team-payments], namespaces: [team-payments-prod]}
auth:
  tokens:
    - {name: tenant, sha256: "`+identity.HashToken(tenantToken)+`", groups: [team-payments]}
    - {name: admin, sha256: "`+identity.HashToken(adminToken)+`", groups: [platform-sre]}
proxy:
  body_read_timeout: 1s
`+proxyYAML))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := FromConfig(cfg, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- httpserver.Serve(ctx, ln, srv, httpserver.Options{}) }()
	t.Cleanup(func() { cancel(); <-done })
	st.addr = ln.Addr().String()
	st.base = "http://" + st.addr
	return st
}

func (st *boundsStack) post(t *testing.T, token, path string, form url.Values) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, st.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// Every red-team query is a 400 in the API's own format, naming the bound,
// before any backend sees it, for a bounded amount of CPU. Before the
// bounds, the first killed the process (fatal stack overflow), the second
// cost 12.5 s of CPU and was then forwarded, the LogQL ones cost tens of
// seconds each, and format_query passed unchecked.
func TestHostileQueriesAreRefusedByTheGateway(t *testing.T) {
	st := startBoundsStack(t, "")
	crash := strings.Repeat("ln(", 460_000) + "up" + strings.Repeat(")", 460_000)
	chain := strings.Repeat("up+", 100_000/3) + "up"
	comment := `/* " */ {app="a"} | logfmt | ` + strings.Repeat(`rate="1" and `, 770) + `x="1"`
	kelvin := `{app="a"} | logfmt | ` + strings.Repeat("top\u212a=\"1\" and ", 700) + `x="1"`
	cases := []struct {
		name, path, query, bound string
		prometheus               bool
	}{
		{"ln() nested 460,000 deep", "/api/v1/query", crash, "proxy.max_query_bytes", true},
		{"up+up+… over 100 KB", "/api/v1/query_range", chain, "proxy.max_query_depth", true},
		{"the chain in format_query", "/api/v1/format_query", chain, "proxy.max_query_depth", true},
		{"a comment hiding function names", "/loki/api/v1/query_range", comment, "too long", false},
		{"a Kelvin sign", "/loki/api/v1/query", kelvin, "too long", false},
		{"format_query", "/loki/api/v1/format_query", comment, "too long", false},
	}
	for _, tc := range cases {
		before := cputime.Process(t)
		status, body := st.post(t, tenantToken, tc.path, url.Values{"query": {tc.query}})
		spent := cputime.Process(t) - before
		t.Logf("%s: %d in %v of CPU", tc.name, status, spent)
		if status != http.StatusBadRequest || !strings.Contains(body, tc.bound) {
			t.Errorf("%s: %d %.300s, want 400 naming %s", tc.name, status, body, tc.bound)
		}
		if tc.prometheus && !strings.Contains(body, `"errorType":"bad_data"`) {
			t.Errorf("%s: not in the Prometheus API's format: %.200s", tc.name, body)
		}
		// Generous: the machine is shared; the old code spent 12-40 s.
		if spent > 3*time.Second {
			t.Errorf("%s: the gateway spent %v of CPU on it", tc.name, spent)
		}
	}
	if n := st.prom.count() + st.loki.count(); n != 0 {
		t.Fatalf("%d hostile queries reached a backend", n)
	}
}

// rawRequest writes a request head on a fresh connection and returns it.
func rawRequest(t *testing.T, addr, head string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	return c
}

// closedWithin reads the answer and then waits for the server to close the
// connection; it fails unless that happens within d.
func closedWithin(t *testing.T, c net.Conn, d time.Duration) *http.Response {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer within %v: %v", d, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_, err = br.ReadByte()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept the connection open for %v after answering %s", d, resp.Status)
	}
	return resp
}

// A client that sends its body one byte at a time is cut off after
// proxy.body_read_timeout with 408; refused clients are disconnected
// without the server reading their bodies. Before, such connections were
// held indefinitely, and 260 of them starved legitimate requests.
func TestSlowBodiesAreCutOff(t *testing.T) {
	st := startBoundsStack(t, "")
	t.Run("an authenticated slow body gets 408", func(t *testing.T) {
		c := rawRequest(t, st.addr, "POST /api/v1/query HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+tenantToken+
			"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nquery=u")
		stop := make(chan struct{})
		defer close(stop)
		go func() { // one byte every 200 ms, forever
			for {
				select {
				case <-stop:
					return
				case <-time.After(200 * time.Millisecond):
					if _, err := c.Write([]byte("p")); err != nil {
						return
					}
				}
			}
		}()
		resp := closedWithin(t, c, 10*time.Second)
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Fatalf("got %s, want 408", resp.Status)
		}
	})
	for name, head := range map[string]string{
		"anonymous, chunked":        "POST /api/v1/query HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n",
		"anonymous, small length":   "POST /api/v1/query HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n",
		"a bad token, large length": "POST /loki/api/v1/push HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\nContent-Length: 100000000\r\nContent-Type: application/json\r\n\r\n",
	} {
		t.Run(name+": 401 and disconnected, body unread", func(t *testing.T) {
			resp := closedWithin(t, rawRequest(t, st.addr, head), 5*time.Second)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("got %s, want 401", resp.Status)
			}
		})
	}
}

// The body deadline is lifted once the body is in: a query that takes the
// backend longer than proxy.body_read_timeout still answers.
func TestBodyDeadlineDoesNotCutSlowBackends(t *testing.T) {
	st := startBoundsStack(t, "")
	st.prom.set(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2500 * time.Millisecond) // body_read_timeout is 1s
		_, _ = io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
	})
	if status, body := st.post(t, tenantToken, "/api/v1/query", url.Values{"query": {"up"}}); status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
}

// When the client goes away, the upstream request is cancelled: the
// backend stops working on a query nobody will read.
func TestClientDisconnectCancelsTheUpstreamRequest(t *testing.T) {
	st := startBoundsStack(t, "")
	arrived, cancelled := make(chan struct{}), make(chan struct{})
	for _, up := range []*scripted{st.prom, st.loki} {
		up.set(func(w http.ResponseWriter, r *http.Request) {
			// As Prometheus and Loki do: read the form first. Until the
			// body is read, net/http does not watch the connection.
			_, _ = io.ReadAll(r.Body)
			close(arrived)
			select {
			case <-r.Context().Done():
				close(cancelled)
			case <-time.After(20 * time.Second):
			}
		})
		path := "/api/v1/query"
		if up == st.loki {
			path = "/loki/api/v1/query"
		}
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, st.base+path, strings.NewReader(`query=`+url.QueryEscape(`sum(count_over_time({a="b"}[5m]))`)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+tenantToken)
		go func() { _, _ = http.DefaultClient.Do(req) }()
		select {
		case <-arrived:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the request never reached the backend", path)
		}
		cancel()
		select {
		case <-cancelled:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the backend's request was not cancelled after the client left", path)
		}
		arrived, cancelled = make(chan struct{}), make(chan struct{})
	}
}

// Error text that names internals (Loki's gRPC errors, pod addresses)
// reaches tenants as a generic message in the API's format and is logged;
// admins see it as it is, and useful errors pass.
func TestUpstreamErrorsNamingInternalsAreWithheldFromTenants(t *testing.T) {
	st := startBoundsStack(t, "")
	const grpc = "rpc error: code = Unavailable desc = connection error: desc = \"transport: Error while dialing: dial tcp 10.3.4.5:9095: connect: connection refused\""
	st.loki.set(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, grpc, http.StatusInternalServerError)
	})
	q := url.Values{"query": {`{app="a"}`}}
	status, body := st.post(t, tenantToken, "/loki/api/v1/query_range", q)
	if status != http.StatusInternalServerError || strings.Contains(body, "10.3.4.5") || strings.Contains(body, "rpc error") || !strings.Contains(body, "Tollgate's log") {
		t.Errorf("tenant: %d %q", status, body)
	}
	if status, body := st.post(t, adminToken, "/loki/api/v1/query_range", q); status != http.StatusInternalServerError || !strings.Contains(body, "10.3.4.5") {
		t.Errorf("admin: %d %q, want Loki's error as it is", status, body)
	}

	st.prom.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"status":"error","errorType":"unavailable","error":"querier ingester-3.mimir.svc:9095 is unreachable"}`)
	})
	status, body = st.post(t, tenantToken, "/api/v1/query", url.Values{"query": {"up"}})
	var pe struct{ Status, ErrorType, Error string }
	if err := json.Unmarshal([]byte(body), &pe); err != nil || status != http.StatusServiceUnavailable || pe.ErrorType != "unavailable" || strings.Contains(body, "mimir.svc") {
		t.Errorf("tenant, Prometheus format: %d %s", status, body)
	}

	const useful = `{"status":"error","errorType":"execution","error":"found duplicate series for the match group {pod=\"a\"} on the right hand-side of the operation: many-to-many matching not allowed"}`
	st.prom.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = io.WriteString(w, useful)
	})
	if status, body := st.post(t, tenantToken, "/api/v1/query", url.Values{"query": {"a * on(pod) b"}}); status != http.StatusUnprocessableEntity || body != useful {
		t.Errorf("a useful error was changed: %d %s", status, body)
	}
}

func TestFilteredResponsesAreBounded(t *testing.T) {
	st := startBoundsStack(t, "  max_filtered_response_bytes: 2000\n")
	st.prom.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"status":"success","data":{"groups":[{"name":"%s","rules":[]}]}}`, strings.Repeat("g", 3000))
	})
	req, _ := http.NewRequest(http.MethodGet, st.base+"/api/v1/rules", nil)
	req.Header.Set("Authorization", "Bearer "+tenantToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "proxy.max_filtered_response_bytes") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

// Live tail from a foreign page is refused: behind a cookie-session auth
// proxy, another site's page could otherwise stream a user's logs.
func TestTailOrigin(t *testing.T) {
	st := startBoundsStack(t, "  allowed_origins: [https://grafana.example.com]\n")
	tail := func(token, origin string) int {
		req, _ := http.NewRequest(http.MethodGet, st.base+"/loki/api/v1/tail?query="+url.QueryEscape(`{app="a"}`), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		token, origin string
		allowed       bool
	}{
		{tenantToken, "", true},
		{tenantToken, "http://" + st.addr, true},
		{tenantToken, "https://grafana.example.com", true},
		{tenantToken, "https://evil.example", false},
		{tenantToken, "null", false},
		{tenantToken, "http://" + st.addr + ".evil.example", false},
		{adminToken, "https://evil.example", false},
	} {
		before := st.loki.count()
		status := tail(tc.token, tc.origin)
		reached := st.loki.count() > before
		if reached != tc.allowed || (!tc.allowed && status != http.StatusForbidden) {
			t.Errorf("origin %q: status %d, reached Loki %v; want allowed=%v", tc.origin, status, reached, tc.allowed)
		}
	}
}
