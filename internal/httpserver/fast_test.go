//go:build linux

package httpserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// serveForTest serves h on a loopback port with the fast server or
// net/http alone, until the test ends.
func serveForTest(t *testing.T, h http.Handler, opts Options) string {
	t.Helper()
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, LimitListener(ln, 64), h, opts) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("stopping: %v", err)
		}
	})
	return ln.Addr().String()
}

// both serves h twice: with the fast server, and with net/http alone.
func both(t *testing.T, h http.Handler) (fast, std string) {
	return serveForTest(t, h, Options{FastHTTP1: true}), serveForTest(t, h, Options{})
}

// exchange sends raw on a new connection and reads one answer, its body
// and the error reading it ended with (nil at its end).
func exchange(t *testing.T, addr, raw string) (*http.Response, []byte, error) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	for err == nil && resp.StatusCode < 200 { // 100 Continue
		resp, err = http.ReadResponse(br, nil)
	}
	if err != nil {
		t.Fatalf("%q: reading the answer: %v", raw, err)
	}
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// TestFastFramesAnswersAsNetHTTP: for each way a handler writes its
// answer, a client reads the same status, fields, body, framing and
// connection handling from both servers.
func TestFastFramesAnswersAsNetHTTP(t *testing.T) {
	for name, h := range answers() {
		t.Run(name, func(t *testing.T) {
			fast, std := both(t, h)
			const req = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n"
			fr, fb, ferr := exchange(t, fast, req)
			nr, nb, nerr := exchange(t, std, req)
			fr.Header.Del("Date")
			nr.Header.Del("Date")
			if fr.StatusCode != nr.StatusCode || fr.Status != nr.Status {
				t.Errorf("status %q, net/http %q", fr.Status, nr.Status)
			}
			if !maps.EqualFunc(fr.Header, nr.Header, slices.Equal) {
				t.Errorf("fields %q, net/http %q", fr.Header, nr.Header)
			}
			if !bytes.Equal(fb, nb) || (ferr == nil) != (nerr == nil) {
				t.Errorf("body %d bytes (%v), net/http %d (%v)", len(fb), ferr, len(nb), nerr)
			}
			if fr.ContentLength != nr.ContentLength || !slices.Equal(fr.TransferEncoding, nr.TransferEncoding) || fr.Close != nr.Close {
				t.Errorf("length %d %q close %v, net/http %d %q %v", fr.ContentLength, fr.TransferEncoding, fr.Close, nr.ContentLength, nr.TransferEncoding, nr.Close)
			}
			if !maps.EqualFunc(fr.Trailer, nr.Trailer, slices.Equal) {
				t.Errorf("trailers %q, net/http %q", fr.Trailer, nr.Trailer)
			}
		})
	}
}

// answers are the ways a handler writes an answer, by name.
func answers() map[string]http.HandlerFunc {
	big := strings.Repeat("0123456789abcdef", 640) // 10 KiB
	return map[string]http.HandlerFunc{
		"small without length": func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"status":"success"}`) },
		"length and type": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "2")
			_, _ = io.WriteString(w, "{}")
		},
		"length without type": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "15")
			_, _ = io.WriteString(w, "<html></html>\n\n")
		},
		"large in pieces": func(w http.ResponseWriter, _ *http.Request) {
			for range 3 {
				_, _ = io.WriteString(w, big)
			}
		},
		"large at once": func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "<html>"+big) },
		"flushed": func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, "a")
			w.(http.Flusher).Flush()
			_, _ = io.WriteString(w, "b")
		},
		"empty": func(http.ResponseWriter, *http.Request) {},
		"error json": func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, `{"status":"error"}`, http.StatusBadRequest)
		},
		"no content": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusNoContent)
			_, _ = io.WriteString(w, "ignored")
		},
		"not modified": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Content-Length", "9")
			w.Header().Set("Etag", `"1"`)
			w.WriteHeader(http.StatusNotModified)
		},
		"trailers": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Trailer", "X-Checksum")
			_, _ = io.WriteString(w, "data")
			w.Header().Set("X-Checksum", "abc")
			w.Header().Set(http.TrailerPrefix+"X-Late", "def")
		},
		"closes": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Connection", "close")
			_, _ = io.WriteString(w, "bye")
		},
		"encoded, not sniffed": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = io.WriteString(w, "\x1f\x8b")
		},
		"fields set after WriteHeader are not sent": func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusAccepted)
			w.Header().Set("X-Late", "1")
			_, _ = io.WriteString(w, "ok")
		},
		"transfer-encoding from the handler": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Transfer-Encoding", "chunked")
			_, _ = io.WriteString(w, "x")
		},
		"unknown status": func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(599) },
		"early hints first": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Link", "</style.css>; rel=preload")
			w.Header().Set("Content-Length", "2")
			w.WriteHeader(http.StatusEarlyHints)
			_, _ = io.WriteString(w, "ok")
		},
		"short of its length": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "10")
			_, _ = io.WriteString(w, "12345")
		},
		"aborted": func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, big)
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		},
	}
}

// seen is what a handler saw of a request.
type seen struct {
	Method, URL, RequestURI, Host, Proto, Body string
	Header                                     http.Header
	ContentLength                              int64
	Close                                      bool
	Remote                                     string
}

// recordRequests answers with nothing and sends what it saw on ch.
func recordRequests(ch chan<- seen) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		ch <- seen{r.Method, r.URL.String(), r.RequestURI, r.Host, r.Proto, string(b), r.Header.Clone(), r.ContentLength, r.Close, host}
		_, _ = io.WriteString(w, "ok")
	})
}

// TestFastHandlerSeesWhatNetHTTPGives: the request a handler gets, from
// the fast server or from net/http after a hand-off, is the one net/http
// alone gives it.
func TestFastHandlerSeesWhatNetHTTPGives(t *testing.T) {
	ch := make(chan seen, 1)
	fast, std := both(t, recordRequests(ch))
	for _, raw := range []string{
		"GET /api/v1/query_range?query=sum(rate(x[5m]))&start=1&end=2&step=60 HTTP/1.1\r\nHost: tollgate:9091\r\nX-Forwarded-User: alice\r\nX-Forwarded-Groups: a, b\r\nAccept-Encoding: gzip\r\nPragma: no-cache\r\n\r\n",
		"POST /api/v1/query_range HTTP/1.1\r\nHost: tollgate\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 9\r\nConnection: close\r\n\r\nquery=up&",
		"GET /a%20b/%2F?x=%41 HTTP/1.1\r\nHost: a\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n",
		// Handed off:
		"POST /loki/api/v1/push HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"GET /x HTTP/1.0\r\nHost: a\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n",
		"POST /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi",
		"GET /x HTTP/1.1\r\nHost: a\r\nCookie: " + strings.Repeat("c", 20<<10) + "\r\n\r\n",
	} {
		var got [2]seen
		for i, addr := range []string{fast, std} {
			resp, _, _ := exchange(t, addr, raw)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%.60q: %s", raw, resp.Status)
			}
			got[i] = <-ch
		}
		if !equalSeen(got[0], got[1]) {
			t.Errorf("%.60q:\nfast     %+v\nnet/http %+v", raw, got[0], got[1])
		}
	}
}

func equalSeen(a, b seen) bool {
	return a.Method == b.Method && a.URL == b.URL && a.RequestURI == b.RequestURI && a.Host == b.Host && a.Proto == b.Proto &&
		a.Body == b.Body && a.ContentLength == b.ContentLength && a.Close == b.Close && a.Remote == b.Remote &&
		maps.EqualFunc(a.Header, b.Header, slices.Equal)
}

// TestFastRefusesWhatNetHTTPRefuses: malformed requests get net/http's
// answer, never a handler.
func TestFastRefusesWhatNetHTTPRefuses(t *testing.T) {
	ch := make(chan seen, 16)
	fast, std := both(t, recordRequests(ch))
	for _, raw := range []string{
		"GET / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nX: \x00\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
		"GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n",
	} {
		fr, _, _ := exchange(t, fast, raw)
		nr, _, _ := exchange(t, std, raw)
		if fr.StatusCode != nr.StatusCode || nr.StatusCode < 400 {
			t.Errorf("%q: %s, net/http %s", raw, fr.Status, nr.Status)
		}
	}
	select {
	case s := <-ch:
		t.Errorf("a handler saw a malformed request: %+v", s)
	default:
	}
}

// TestFastKeepsConnectionsInOrder: pipelined requests are answered in
// order on one connection, also across a hand-off to net/http.
func TestFastKeepsConnectionsInOrder(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = io.WriteString(w, r.URL.Path+":"+string(b))
	})
	addr := serveForTest(t, h, Options{FastHTTP1: true})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(c, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcPOST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\nGET /4 HTTP/1.1\r\nHost: a\r\n\r\n")
	br := bufio.NewReader(c)
	for _, want := range []string{"/1:", "/2:abc", "/3:z", "/4:"} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("waiting for %s: %v", want, err)
		}
		b, _ := io.ReadAll(resp.Body)
		if string(b) != want {
			t.Errorf("answer %q, want %q", b, want)
		}
	}
}

// TestFastUnreadBodyClosesTheConnection: a refused request's body is not
// read; the answer says so and the connection closes.
func TestFastUnreadBodyClosesTheConnection(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", http.StatusForbidden) })
	addr := serveForTest(t, h, Options{FastHTTP1: true})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(c, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\npartial")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusForbidden || !resp.Close {
		t.Errorf("%s, close %v; want 403 and Connection: close", resp.Status, resp.Close)
	}
	if _, err := br.ReadByte(); err == nil {
		t.Error("the connection stayed open after an unread body")
	}
}

// TestFastCancelsWhenTheClientLeaves: a request's context ends soon after
// its client hangs up, which stops the upstream request.
func TestFastCancelsWhenTheClientLeaves(t *testing.T) {
	cancelled := make(chan time.Duration, 1)
	h := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		start := time.Now()
		select {
		case <-r.Context().Done():
			cancelled <- time.Since(start)
		case <-time.After(10 * time.Second):
			cancelled <- -1
		}
	})
	addr := serveForTest(t, h, Options{FastHTTP1: true})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
	time.Sleep(300 * time.Millisecond)
	c.Close()
	if d := <-cancelled; d < 0 || d > 2*time.Second {
		t.Errorf("the request's context ended after %v; want within a second or so of the client leaving", d)
	}
}

// TestFastTimeouts: a connection idle past IdleTimeout, or slow to send a
// head (slowloris), is closed.
func TestFastTimeouts(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	addr := serveForTest(t, h, Options{FastHTTP1: true, IdleTimeout: 400 * time.Millisecond, headerTimeout: 400 * time.Millisecond})
	for name, send := range map[string]string{
		"idle after a request": "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"head never finished":  "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ",
		"nothing sent":         "",
	} {
		t.Run(name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			_, _ = io.WriteString(c, send)
			start := time.Now()
			_, err = io.ReadAll(c) // an answer, if any, then the close
			if d := time.Since(start); err != nil || d < 300*time.Millisecond || d > 2*time.Second {
				t.Errorf("closed after %v (%v); want about 400ms", d, err)
			}
		})
	}
}

// TestFastReadDeadlineBoundsABody: http.ResponseController's read
// deadline (proxy.body_read_timeout) cuts a body that arrives too slowly.
func TestFastReadDeadlineBoundsABody(t *testing.T) {
	errc := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		_, err := io.ReadAll(r.Body)
		errc <- err
		w.WriteHeader(http.StatusRequestTimeout)
	})
	addr := serveForTest(t, h, Options{FastHTTP1: true})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
	select {
	case err := <-errc:
		if !errors.Is(err, context.DeadlineExceeded) && !isTimeout(err) {
			t.Errorf("reading the body ended with %v; want a timeout", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the read deadline did not cut the body")
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestFastPanicClosesOnlyItsConnection: a handler's panic closes its
// connection; the server goes on.
func TestFastPanicClosesOnlyItsConnection(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		_, _ = io.WriteString(w, "ok")
	})
	addr := serveForTest(t, h, Options{FastHTTP1: true})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(c, "GET /panic HTTP/1.1\r\nHost: a\r\n\r\n")
	if b, _ := io.ReadAll(c); len(b) != 0 {
		t.Errorf("a panicking handler's connection got %q", b)
	}
	c.Close()
	if _, b, err := exchange(t, addr, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"); err != nil || string(b) != "ok" {
		t.Errorf("after a panic: %q, %v", b, err)
	}
}

// TestFastShutdownDrains: when the context ends, a request in flight is
// answered (with Connection: close), idle connections close, and no new
// one is accepted.
func TestFastShutdownDrains(t *testing.T) {
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(started)
			time.Sleep(500 * time.Millisecond)
		}
		_, _ = io.WriteString(w, "done")
	})
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, h, Options{FastHTTP1: true}) }()

	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	_, _ = io.WriteString(idle, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	if _, err := http.ReadResponse(bufio.NewReader(idle), nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		resp, b, err := exchange(t, addr, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
		if err != nil || string(b) != "done" || !resp.Close {
			t.Errorf("in flight during shutdown: %q, close %v, %v", b, resp.Close, err)
		}
	})
	<-started
	cancel()
	_ = idle.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := idle.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("the idle connection: %v; want it closed", err)
	}
	wg.Wait()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Error("a connection was accepted after shutdown")
	}
}

// TestFastHeadInPieces: a head that arrives a few bytes at a time is read
// whole, with its CRLFs split across reads.
func TestFastHeadInPieces(t *testing.T) {
	ch := make(chan seen, 1)
	addr := serveForTest(t, recordRequests(ch), Options{FastHTTP1: true})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	raw := "POST /p?q=1 HTTP/1.1\r\nHost: a\r\nX-Long: " + strings.Repeat("v", 300) + "\r\nContent-Length: 2\r\n\r\nhi"
	for i := 0; i < len(raw); i += 3 {
		_, _ = io.WriteString(c, raw[i:min(i+3, len(raw))])
		time.Sleep(time.Millisecond)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := <-ch; resp.StatusCode != http.StatusOK || s.URL != "/p?q=1" || s.Body != "hi" || len(s.Header.Get("X-Long")) != 300 {
		t.Errorf("%s; the handler saw %+v", resp.Status, s)
	}
}

// TestFastHandsOffBareLFHeads: a head whose lines end in a bare LF, which
// net/http accepts, is answered at once by net/http, not held until the
// header timeout waiting for CRLF CRLF.
func TestFastHandsOffBareLFHeads(t *testing.T) {
	ch := make(chan seen, 1)
	addr := serveForTest(t, recordRequests(ch), Options{FastHTTP1: true})
	start := time.Now()
	resp, _, _ := exchange(t, addr, "GET /lf HTTP/1.1\nHost: a\n\n")
	if resp.StatusCode != http.StatusOK || time.Since(start) > 2*time.Second {
		t.Fatalf("%s after %v", resp.Status, time.Since(start))
	}
	if s := <-ch; s.URL != "/lf" {
		t.Errorf("the handler saw %+v", s)
	}
}

// TestFastInformationalAsNetHTTP: a 1xx answer carries the handler's
// fields as net/http's does (without Content-Length), before the final one.
func TestFastInformationalAsNetHTTP(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.Header().Set("Content-Length", "2")
		w.WriteHeader(http.StatusEarlyHints)
		_, _ = io.WriteString(w, "ok")
	})
	fast, std := both(t, h)
	first := func(addr string) *http.Response {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	f, n := first(fast), first(std)
	if f.StatusCode != http.StatusEarlyHints || f.StatusCode != n.StatusCode || !maps.EqualFunc(f.Header, n.Header, slices.Equal) {
		t.Errorf("%s %q, net/http %s %q", f.Status, f.Header, n.Status, n.Header)
	}
}
