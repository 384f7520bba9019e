package httpserver

import (
	"bufio"
	"bytes"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"
)

// heads are requests at the subset's edges, for the fuzzer to start from
// and for TestParseHead.
var heads = []struct {
	raw    string
	served bool
}{
	{"GET /api/v1/query?query=up HTTP/1.1\r\nHost: tollgate:9091\r\nX-Grafana-Org-Id: 1\r\n\r\n", true},
	{"POST /api/v1/query_range HTTP/1.1\r\nHost: [::1]:9091\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 12\r\n\r\n", true},
	{"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n", true},
	{"GET / HTTP/1.1\r\nHost: a\r\nPragma: no-cache\r\n\r\n", true},
	{"GET / HTTP/1.1\r\nHost: a\r\nX-A: \t v \t\r\nX-a: w\r\nX-Utf8: caf\xc3\xa9\r\n\r\n", true},
	{"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 007\r\n\r\n", true},
	// Handed to net/http: other methods, versions and forms.
	{"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", false},
	{"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", false},
	{"GET / HTTP/1.0\r\n\r\n", false},
	{"GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", false},
	{"get / HTTP/1.1\r\nHost: a\r\n\r\n", false},
	{"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", false},
	{"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", false},
	{"GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n", false},
	{"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", false},
	// Framing: what smuggling plays on.
	{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", false},
	{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", false},
	{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", false},
	{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", false},
	{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", false},
	{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", false},
	{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n", false},
	{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", false},
	{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\n", false},
	{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n", false},
	{"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", false},
	{"GET / HTTP/1.1\r\nHost: a\r\nX: a\nContent-Length: 5\r\n\r\n", false},
	{"GET / HTTP/1.1\nHost: a\r\n\r\n", false},
	{"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", false},
	{"GET / HTTP/1.1\r\nHost: a\r\nX: \x00\r\n\r\n", false},
	{"GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n", false},
	{"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", false},
	{"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n", false},
	{"GET / HTTP/1.1\r\nHost: a\r\nTE: trailers\r\n\r\n", false},
	// Host: exactly one, plain.
	{"GET / HTTP/1.1\r\n\r\n", false},
	{"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", false},
	{"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", false},
	{"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", false},
}

func TestParseHead(t *testing.T) {
	for _, c := range heads {
		_, ok := parseHead([]byte(c.raw))
		if ok != c.served {
			t.Errorf("%q: served %v, want %v", c.raw, ok, c.served)
		}
	}
	h, _ := parseHead([]byte(heads[2].raw))
	if !h.close {
		t.Error(`"Connection: keep-alive, close" must close the connection`)
	}
	h, _ = parseHead([]byte(heads[3].raw))
	if h.header.Get("Cache-Control") != "no-cache" {
		t.Error(`"Pragma: no-cache" must mean Cache-Control's, as in net/http`)
	}
}

// FuzzParseHeadAgreesWithNetHTTP: whatever parseHead accepts, net/http's
// own reader and server checks accept too, and read the same method,
// target, host, fields, length and connection handling. The two servers
// can therefore never disagree on where a request ends.
func FuzzParseHeadAgreesWithNetHTTP(f *testing.F) {
	for _, c := range heads {
		f.Add([]byte(c.raw))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		i := bytes.Index(raw, []byte("\r\n\r\n"))
		if i < 0 {
			return
		}
		raw = raw[:i+4]
		h, ok := parseHead(raw)
		if !ok {
			return
		}
		req, err := readAsNetHTTP(raw)
		if err != nil {
			t.Fatalf("served, but net/http refuses %q: %v", raw, err)
		}
		if req.Method != h.method || req.RequestURI != h.target || req.URL.String() != h.url.String() || req.Host != h.host {
			t.Fatalf("%q: net/http reads %s %s (host %q), fast server %s %s (host %q)", raw, req.Method, req.RequestURI, req.Host, h.method, h.target, h.host)
		}
		if req.ContentLength != h.contentLength || req.Close != h.close {
			t.Fatalf("%q: net/http reads length %d close %v, fast server %d %v", raw, req.ContentLength, req.Close, h.contentLength, h.close)
		}
		if !maps.EqualFunc(req.Header, h.header, slices.Equal) {
			t.Fatalf("%q: net/http reads fields %q, fast server %q", raw, req.Header, h.header)
		}
	})
}

// readAsNetHTTP reads a head as net/http's server does: http.ReadRequest,
// then the server's own checks (conn.readRequest).
func readAsNetHTTP(raw []byte) (*http.Request, error) {
	req, err := http.ReadRequest(bufio.NewReader(io.MultiReader(bytes.NewReader(raw), strings.NewReader(strings.Repeat("x", 64)))))
	if err != nil {
		return nil, err
	}
	// http.ReadRequest has moved Host out of the fields and refused two.
	if req.Host == "" || !httpguts.ValidHostHeader(req.Host) {
		return nil, errString("missing or malformed Host")
	}
	for k, vs := range req.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			return nil, errString("invalid header name")
		}
		for _, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) {
				return nil, errString("invalid header value")
			}
		}
	}
	if req.Header.Get("Expect") != "" || len(req.TransferEncoding) > 0 || req.ProtoMinor != 1 {
		return nil, errString("not served by the fast server")
	}
	return req, nil
}

type errString string

func (e errString) Error() string { return string(e) }
