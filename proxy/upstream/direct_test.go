package upstream_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/proxy/upstream"
)

// newDirectGateway serves backend behind an Upstream whose confined
// answers go through ProxyConfinedTimeout with the given timeout, over a
// plain *http.Transport (the direct path).
func newDirectGateway(t *testing.T, backend http.Handler, timeout time.Duration, connState ...func(net.Conn, http.ConnState)) (gw string, be *httptest.Server) {
	t.Helper()
	be = httptest.NewUnstartedServer(backend)
	if len(connState) > 0 {
		be.Config.ConnState = connState[0]
	}
	be.Start()
	t.Cleanup(be.Close)
	base, _ := url.Parse(be.URL)
	u := upstream.New(upstream.Options{Base: base, Name: "backend", Transport: &http.Transport{MaxIdleConnsPerHost: 4},
		WriteError: func(w http.ResponseWriter, status int, msg string) { http.Error(w, msg, status) }})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out, err := u.Request(r.Context(), http.MethodGet, r.URL.Path, r.URL.Query(), r.Header, upstream.Forwarded())
		if err != nil {
			t.Error(err)
			return
		}
		u.ProxyConfinedTimeout(w, out, timeout)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, be
}

func get(t *testing.T, u string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: reading the answer: %v", u, err)
	}
	return resp, body
}

// A short chunked answer arrives whole with its length; a long one (past
// the copy buffer) arrives whole too. Hop-by-hop headers of the backend,
// and those its Connection header names, do not pass.
func TestDirectAnswersArriveWhole(t *testing.T) {
	long := bytes.Repeat([]byte("0123456789abcdef"), 20000) // 320,000 bytes
	gw, _ := newDirectGateway(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "X-Internal")
		w.Header().Set("X-Internal", "pod-7")
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("Content-Type", "application/json")
		body := []byte(`{"status":"success"}`)
		if r.URL.Path == "/long" {
			body = long
		}
		for len(body) > 0 { // several writes and flushes: chunked
			n := min(len(body), 1000)
			_, _ = w.Write(body[:n])
			w.(http.Flusher).Flush()
			body = body[n:]
		}
	}), time.Minute)
	resp, body := get(t, gw+"/short")
	if string(body) != `{"status":"success"}` || resp.ContentLength != int64(len(body)) || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("short: %d %q, length %d, want the body with its length", resp.StatusCode, body, resp.ContentLength)
	}
	if resp.Header.Get("X-Internal") != "" || resp.Header.Get("Keep-Alive") != "" {
		t.Errorf("short: hop-by-hop headers passed: %v", resp.Header)
	}
	resp, body = get(t, gw+"/long")
	if !bytes.Equal(body, long) || resp.StatusCode != 200 {
		t.Errorf("long: %d, %d bytes, want %d bytes as sent", resp.StatusCode, len(body), len(long))
	}
}

// proxy.upstream_timeout holds on the direct path: a backend slower than
// it is answered with 504, and the connection is not used again.
func TestDirectTimeoutIsAnsweredWith504(t *testing.T) {
	gw, _ := newDirectGateway(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}
		_, _ = io.WriteString(w, "ok")
	}), 300*time.Millisecond)
	start := time.Now()
	resp, body := get(t, gw+"/slow")
	if resp.StatusCode != http.StatusGatewayTimeout || !strings.Contains(string(body), "did not answer in time") {
		t.Errorf("slow: %d %q, want 504", resp.StatusCode, body)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("slow: answered after %v, want about the 300 ms timeout (sent once, not retried)", d)
	}
	if resp, body := get(t, gw+"/fast"); resp.StatusCode != 200 || string(body) != "ok" {
		t.Errorf("after a timeout: %d %q, want 200 ok", resp.StatusCode, body)
	}
}

// Idle connections the backend closed are noticed when next used: the
// request is sent again on a new connection, and the client sees nothing.
// Connections are reused otherwise.
func TestDirectReusesConnectionsAndRetriesOnesTheBackendClosed(t *testing.T) {
	var conns atomic.Int64
	gw, be := newDirectGateway(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}), time.Minute, func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	})
	for range 5 {
		if resp, body := get(t, gw); resp.StatusCode != 200 || string(body) != "ok" {
			t.Fatalf("%d %q", resp.StatusCode, body)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("5 requests in a row opened %d backend connections, want 1", n)
	}
	be.CloseClientConnections() // as a backend's idle timeout does
	time.Sleep(50 * time.Millisecond)
	if resp, body := get(t, gw); resp.StatusCode != 200 || string(body) != "ok" {
		t.Errorf("after the backend closed the idle connection: %d %q, want 200 ok", resp.StatusCode, body)
	}
}

// A backend that fails in the middle of a long answer aborts the answer:
// the client sees an error, never a truncated body it could take for a
// whole one.
func TestDirectTruncatedAnswerIsAborted(t *testing.T) {
	gw, _ := newDirectGateway(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(bytes.Repeat([]byte("x"), 100000))
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // the backend dies half-way
	}), time.Minute)
	resp, err := http.Get(gw)
	if err != nil {
		return // refused outright: fine
	}
	defer resp.Body.Close()
	if body, err := io.ReadAll(resp.Body); err == nil {
		t.Errorf("got %d bytes and no error, want the answer aborted", len(body))
	}
}

// A backend that hangs up in the middle of a short chunked answer (before
// its last chunk) gives the client an error, not the part it sent with a
// length that makes it look whole.
func TestDirectShortTruncatedAnswerIsNotPassedAsWhole(t *testing.T) {
	gw, _ := newDirectGateway(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, bw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		_, _ = bw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n")
		_ = bw.Flush()
		_ = conn.Close()
	}), time.Minute)
	resp, err := http.Get(gw)
	if err != nil {
		return // refused outright: fine
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode == http.StatusOK {
		t.Errorf("got 200 %q and no error, want the truncated answer refused", body)
	}
}

// A backend whose answer's head never ends (here 3 MiB of one header) is
// cut off at the head bound with a 502, as http.Transport does, instead of
// being read into memory whole.
func TestDirectHugeResponseHeadIsRefused(t *testing.T) {
	gw, _ := newDirectGateway(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Huge", strings.Repeat("a", 3<<20))
		_, _ = io.WriteString(w, "{}")
	}), 5*time.Second)
	resp, body := get(t, gw+"/api/v1/query")
	if resp.StatusCode != http.StatusBadGateway || resp.Header.Get("X-Huge") != "" {
		t.Fatalf("status %d, X-Huge of %d bytes, body %q; want 502 and no header", resp.StatusCode, len(resp.Header.Get("X-Huge")), body)
	}
	// The next request, on a new connection, is answered normally.
	gw2, _ := newDirectGateway(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Small", strings.Repeat("a", 64<<10))
		_, _ = io.WriteString(w, "{}")
	}), 5*time.Second)
	if resp, body := get(t, gw2+"/api/v1/query"); resp.StatusCode != http.StatusOK || string(body) != "{}" {
		t.Fatalf("a 64 KiB header: status %d, body %q; want 200", resp.StatusCode, body)
	}
}

// TestFetchReusesConnectionsReadToTheirEnd: answers fetched whole (the
// results cache's) give their connection back; one closed before its end
// does not, and the next fetch opens another.
func TestFetchReusesConnectionsReadToTheirEnd(t *testing.T) {
	var conns atomic.Int32
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, strings.Repeat("x", 100<<10)+r.URL.Query().Get("q"))
	}))
	be.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	be.Start()
	t.Cleanup(be.Close)
	base, _ := url.Parse(be.URL)
	u := upstream.New(upstream.Options{Base: base, Name: "backend", Transport: &http.Transport{MaxIdleConnsPerHost: 4}})
	fetch := func(q string, whole bool) string {
		out, err := u.Request(t.Context(), http.MethodGet, "/api/v1/query_range", url.Values{"q": {q}}, http.Header{}, upstream.Forwarded())
		if err != nil {
			t.Fatal(err)
		}
		resp, err := u.Fetch(out)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if !whole {
			_, _ = io.ReadFull(resp.Body, make([]byte, 10))
			return ""
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b[len(b)-1:])
	}
	if a, b := fetch("a", true), fetch("b", true); a != "a" || b != "b" || conns.Load() != 1 {
		t.Errorf("two whole fetches: %q %q on %d connections; want a, b on one", a, b, conns.Load())
	}
	fetch("c", false)
	if d := fetch("d", true); d != "d" || conns.Load() != 2 {
		t.Errorf("after an answer left unread: %q on %d connections in all; want d, and a second connection", d, conns.Load())
	}
}
