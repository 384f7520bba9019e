package proxy_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/identity"
)

// limitsConfig gives payments one request at a time, search a tiny rate,
// and every tenant the same query-shape limits; checkout has no rate or
// concurrency limit. Admins have none (no tenancy.admin_limits).
const limitsConfig = `
upstreams: {prometheus: %[1]q}
tenancy:
  label: namespace
  admin_groups: [platform-sre]
  tenants:
    - name: payments
      groups: [team-payments]
      namespaces: [team-payments-prod, team-payments-staging]
      limits: {max_concurrent: 1}
    - {name: checkout, groups: [team-checkout], namespaces: ["team-checkout-*"]}
    - name: search
      groups: [team-search]
      namespaces: [team-search-prod]
      limits: {requests_per_second: 0.01, burst: 3}
auth:
  trusted_headers: {user: X-Forwarded-User, groups: X-Forwarded-Groups, trusted_cidrs: [127.0.0.1/32]}
  tokens:
    - {name: ci, sha256: %[2]q, groups: [platform-sre]}
limits:
  max_range: 1h
  max_points: 100
  max_limit: 50
`

type limitsE2E struct {
	gateway string
	end     time.Time
	client  *http.Client
}

func (e *limitsE2E) get(t *testing.T, c caller, path string, ps url.Values) (*http.Response, apiResponse) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.gateway+path+"?"+ps.Encode(), nil)
	for i := 0; i+1 < len(c.headers); i += 2 {
		req.Header.Set(c.headers[i], c.headers[i+1])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r apiResponse
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("%s as %s: %d, not the Prometheus JSON format: %s", path, c.name, resp.StatusCode, body)
	}
	return resp, r
}

func (e *limitsE2E) rangeParams(span, step time.Duration) url.Values {
	return url.Values{
		"query": {"sum(tollgate_demo_namespace_marker)"},
		"start": {strconv.FormatInt(e.end.Add(-span).Unix(), 10)},
		"end":   {strconv.FormatInt(e.end.Unix(), 10)},
		"step":  {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
	}
}

func TestLimitsE2E(t *testing.T) {
	gw, _, end := startStack(t, "", limitsConfig, identity.HashToken(adminToken))
	e := &limitsE2E{gateway: gw, end: end, client: &http.Client{Timeout: 30 * time.Second}}

	t.Run("query shape: 400 in the Prometheus format, naming the limit", func(t *testing.T) {
		for _, tc := range []struct {
			name, path string
			ps         url.Values
			want       string
		}{
			{"max_range", "/api/v1/query_range", e.rangeParams(2*time.Hour, time.Minute),
				`the time range (end - start) is 2h, over tenant "checkout"'s limit (limits.max_range: 1h)`},
			{"max_points", "/api/v1/query_range", e.rangeParams(time.Hour, 10*time.Second),
				`the query asks for 361 points per series (range 1h ÷ step 10s), over tenant "checkout"'s limit (limits.max_points: 100); raise step or shorten the range`},
			{"max_limit", "/api/v1/series", url.Values{"match[]": {"up"}, "start": {strconv.FormatInt(end.Add(-time.Hour).Unix(), 10)}, "limit": {"1000"}},
				`parameter "limit" is 1000, over tenant "checkout"'s limit (limits.max_limit: 50)`},
			{"max_range on a series request without start", "/api/v1/series", url.Values{"match[]": {"up"}},
				`parameter "start" is missing, which reads all of history; give start within the range limit`},
		} {
			resp, r := e.get(t, checkout, tc.path, tc.ps)
			if resp.StatusCode != http.StatusBadRequest || r.Status != "error" || r.ErrorType != "bad_data" || r.Error != tc.want {
				t.Errorf("%s: %d %s %q\nwant 400 bad_data %q", tc.name, resp.StatusCode, r.ErrorType, r.Error, tc.want)
			}
			if resp.Header.Get("Retry-After") != "" {
				t.Errorf("%s: a query-shape refusal carries Retry-After, which would make clients retry it unchanged", tc.name)
			}
		}
		if resp, r := e.get(t, checkout, "/api/v1/query_range", e.rangeParams(time.Hour, time.Minute)); resp.StatusCode != 200 {
			t.Errorf("a query within every limit: %d %s", resp.StatusCode, r.Error)
		}
	})

	t.Run("admins are not limited without tenancy.admin_limits", func(t *testing.T) {
		if resp, r := e.get(t, admin, "/api/v1/query_range", e.rangeParams(2*time.Hour, 10*time.Second)); resp.StatusCode != 200 {
			t.Errorf("admin's 2h query: %d %s", resp.StatusCode, r.Error)
		}
	})

	t.Run("max_concurrent: 429 with Retry-After while one request is in flight", func(t *testing.T) {
		e.concurrencyRefused(t)
	})

	t.Run("one tenant at its limit does not slow another", func(t *testing.T) {
		e.isolation(t)
	})

	t.Run("requests_per_second: 429 with Retry-After once the burst is spent", func(t *testing.T) {
		search := caller{name: "search", headers: []string{"X-Forwarded-User", "sue", "X-Forwarded-Groups", "team-search"}}
		for i := range 3 {
			if resp, r := e.get(t, search, "/api/v1/query", url.Values{"query": {"up"}}); resp.StatusCode != 200 {
				t.Fatalf("request %d within the burst of 3: %d %s", i+1, resp.StatusCode, r.Error)
			}
		}
		last, r := e.get(t, search, "/api/v1/query", url.Values{"query": {"up"}})
		if last.StatusCode != http.StatusTooManyRequests || r.ErrorType != "too_many_requests" ||
			!strings.HasPrefix(r.Error, `tenant "search" is over its request rate (tenancy.tenants[search].limits.requests_per_second: 0.01, burst 3); retry after `) {
			t.Fatalf("4th request: got %d %s %q", last.StatusCode, r.ErrorType, r.Error)
		}
		if ra, err := strconv.Atoi(last.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 100 {
			t.Errorf("Retry-After = %q, want the seconds until a token is back (at most 100 at 0.01/s)", last.Header.Get("Retry-After"))
		}
	})
}

// holdRequest sends, on a connection of its own, a POST whose form body
// is not finished, so that the request is in flight in Tollgate
// (admitted, reading its body) until the returned function sends the
// rest; that function returns the status. A request that is answered
// at once was refused (the slot of the caller's previous request is
// given back only after its answer is sent): it is sent again.
func (e *limitsE2E) holdRequest(t *testing.T, c caller) func() int {
	t.Helper()
	for range 100 {
		if finish := e.tryHold(t, c); finish != nil {
			return finish
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no request of %s could be held in flight", c.name)
	return nil
}

func (e *limitsE2E) tryHold(t *testing.T, c caller) func() int {
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.gateway, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	head := "POST /api/v1/query HTTP/1.1\r\nHost: tollgate\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 8\r\nConnection: close\r\n"
	for i := 0; i+1 < len(c.headers); i += 2 {
		head += c.headers[i] + ": " + c.headers[i+1] + "\r\n"
	}
	if _, err := conn.Write([]byte(head + "\r\nquery=")); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		conn.Close() // answered before its body: refused
		return nil
	}
	_ = conn.SetReadDeadline(time.Time{})
	return func() int {
		if _, err := conn.Write([]byte("up")); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
}

// untilRefused repeats a request as c until it is refused with 429 (the
// held request has then reached the limiter), and returns that answer.
func (e *limitsE2E) untilRefused(t *testing.T, c caller) (*http.Response, apiResponse) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, r := e.get(t, c, "/api/v1/query", url.Values{"query": {"up"}})
		if resp.StatusCode == http.StatusTooManyRequests || time.Now().After(deadline) {
			return resp, r
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *limitsE2E) concurrencyRefused(t *testing.T) {
	finish := e.holdRequest(t, payments)
	resp, r := e.untilRefused(t, payments)
	if resp.StatusCode != http.StatusTooManyRequests || r.ErrorType != "too_many_requests" ||
		r.Error != `tenant "payments": 1 requests in flight already, the limit (tenancy.tenants[payments].limits.max_concurrent: 1); retry when one has finished` {
		t.Fatalf("second payments request while one is in flight: %d %s %q (the held one: %d)", resp.StatusCode, r.ErrorType, r.Error, finish())
	}
	if resp.Header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After = %q, want 1", resp.Header.Get("Retry-After"))
	}
	if code := finish(); code != 200 {
		t.Errorf("the held request itself: %d, want 200", code)
	}
}

// isolation holds payments at its concurrency limit while eight checkout
// clients send requests at once: every checkout request is answered,
// while payments' own are refused.
func (e *limitsE2E) isolation(t *testing.T) {
	finish := e.holdRequest(t, payments)
	if resp, _ := e.untilRefused(t, payments); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("payments not at its limit: %d (the held one: %d)", resp.StatusCode, finish())
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]map[int]int{"checkout": {}, "payments": {}}
	for i := range 10 {
		c := checkout
		if i >= 8 {
			c = payments
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				resp, _ := e.get(t, c, "/api/v1/query_range", e.rangeParams(time.Hour, time.Minute))
				mu.Lock()
				codes[c.name][resp.StatusCode]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if code := finish(); code != 200 {
		t.Errorf("the held payments request: %d", code)
	}
	if fmt.Sprint(codes["checkout"]) != "map[200:40]" {
		t.Errorf("checkout's 40 concurrent requests while payments is at its limit: %v, want all 200", codes["checkout"])
	}
	if fmt.Sprint(codes["payments"]) != "map[429:10]" {
		t.Errorf("payments' 10 requests while at its limit: %v, want all 429", codes["payments"])
	}
}
