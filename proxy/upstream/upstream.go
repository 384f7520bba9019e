// Package upstream sends enforced requests to a backend (Prometheus, Loki)
// and streams the answers back. Requests are built from scratch: a path, a
// parameter set and an allowlist of headers, so that nothing of the client's
// request reaches the backend unless an API handler put it there on purpose.
package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Forwarded returns the request headers every API forwards. An allowlist,
// not a blocklist: identity headers, X-Scope-OrgID, label-policy headers
// and whatever a future backend starts to trust are dropped by default. A
// function, so that no importer can widen it.
func Forwarded() []string {
	return []string{"Accept", "Accept-Encoding", "User-Agent", "Traceparent", "Tracestate"}
}

// StatusClientClosed is the de-facto status for a client that went away.
const StatusClientClosed = 499

// Options configure an Upstream.
type Options struct {
	// Base is the backend's base URL; its path is kept as a prefix.
	Base *url.URL
	// Name is the backend's name in error messages ("Prometheus").
	Name      string
	Transport http.RoundTripper
	Logger    *slog.Logger
	// WriteError writes an error in the calling API's own format.
	WriteError func(w http.ResponseWriter, status int, msg string)
}

// Upstream is one backend.
type Upstream struct {
	opts Options
	rp   *httputil.ReverseProxy
	// confined is rp for tenants: error answers pass through Screen.
	confined *httputil.ReverseProxy
	client   *http.Client
	// direct sends confined requests without http.Transport; nil where
	// it cannot (see newDirect).
	direct  *direct
	buffers *bufferPool
}

// New builds an Upstream.
func New(opts Options) *Upstream {
	if opts.Transport == nil {
		opts.Transport = http.DefaultTransport
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	u := &Upstream{opts: opts, client: &http.Client{Transport: opts.Transport}, direct: newDirect(opts.Base, opts.Transport), buffers: newBufferPool()}
	u.rp = &httputil.ReverseProxy{
		// Rewrite (not Director), so that X-Forwarded-* and hop-by-hop
		// headers of the client never pass; requests come from Request.
		Rewrite:      func(*httputil.ProxyRequest) {},
		Transport:    opts.Transport,
		ErrorHandler: u.Error,
		BufferPool:   u.buffers,
	}
	confined := *u.rp
	confined.ModifyResponse = u.Screen
	u.confined = &confined
	return u
}

// Request builds an outbound request to path under the base URL. params go
// in the query string, or, for POST, in a form body. The headers named in
// allow are copied from src.
func (u *Upstream) Request(ctx context.Context, method, path string, params url.Values, src http.Header, allow ...[]string) (*http.Request, error) {
	target := u.URL(path)
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(params.Encode())
	} else {
		target.RawQuery = params.Encode()
	}
	// The URL is set as built, not printed and parsed again.
	out, err := http.NewRequestWithContext(ctx, method, "", body)
	if err != nil {
		return nil, fmt.Errorf("building the %s request: %w", u.opts.Name, err)
	}
	out.URL, out.Host = &target, target.Host
	if method == http.MethodPost {
		out.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, names := range allow {
		CopyHeaders(out.Header, src, names)
	}
	KeepEncoding(out.Header)
	return out, nil
}

// KeepEncoding makes the backend answer in the encoding the client asked
// for. Without an Accept-Encoding of its own, Go's transport asks for gzip
// and decompresses the answer: CPU spent for a client that may accept gzip
// itself, and an answer of unknown length. "identity" is what a request
// without the header means anyway.
func KeepEncoding(h http.Header) {
	if h.Get("Accept-Encoding") == "" {
		h.Set("Accept-Encoding", "identity")
	}
}

// URL returns the backend URL of a path.
func (u *Upstream) URL(path string) url.URL {
	target := *u.opts.Base
	target.Path = strings.TrimSuffix(target.Path, "/") + path
	target.RawPath = ""
	target.RawQuery = ""
	return target
}

// Proxy sends out and streams the answer to w unchanged, protocol upgrades
// (websockets) included. It is for admins, who see the backend as it is.
// Writes are not flushed one by one (see noFlush).
func (u *Upstream) Proxy(w http.ResponseWriter, out *http.Request) {
	u.rp.ServeHTTP(noFlush{w}, out)
}

// ProxyConfined is Proxy for a tenant's request: an error answer that names
// the backend's internals (gRPC status text, addresses) is replaced by a
// message in the API's format, and logged in full.
func (u *Upstream) ProxyConfined(w http.ResponseWriter, out *http.Request) {
	u.confined.ServeHTTP(noFlush{w}, out)
}

// ProxyStream is ProxyConfined for streams (live tail): every write is
// flushed as soon as the backend sends it.
func (u *Upstream) ProxyStream(w http.ResponseWriter, out *http.Request) {
	u.confined.ServeHTTP(w, out)
}

// noFlush hides Flush from httputil.ReverseProxy, which flushes after every
// write of an answer without Content-Length (Prometheus's chunked JSON):
// a syscall per 32 KiB copy and a quarter of the proxy's CPU under load.
// The server flushes its buffer when it is full and when the handler
// returns; Unwrap keeps Hijack working for websocket upgrades.
type noFlush struct{ http.ResponseWriter }

func (noFlush) Flush() {}

func (w noFlush) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Do sends out and returns the answer, for responses the API rewrites.
func (u *Upstream) Do(out *http.Request) (*http.Response, error) { return u.client.Do(out) }

// Error answers a failed upstream request in the API's format. The
// backend's address stays in Tollgate's log, out of tenants' sight.
func (u *Upstream) Error(w http.ResponseWriter, r *http.Request, err error) {
	if se, ok := asScreened(err); ok {
		u.opts.WriteError(w, se.Status, u.screenedMessage(se.Status))
		return
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		u.opts.WriteError(w, http.StatusGatewayTimeout, fmt.Sprintf("%s did not answer in time (proxy.upstream_timeout)", u.opts.Name))
	case errors.Is(err, context.Canceled):
		w.WriteHeader(StatusClientClosed) // nobody reads this answer
	default:
		u.opts.Logger.ErrorContext(r.Context(), "upstream request failed", "upstream", u.opts.Name, "path", r.URL.Path, "err", err)
		u.opts.WriteError(w, http.StatusBadGateway, fmt.Sprintf("%s is unreachable; Tollgate's log has the details", u.opts.Name))
	}
}

// WithTimeout bounds an upstream request. A zero timeout means none (tail).
func WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// CopyHeaders copies the named headers from src to dst.
func CopyHeaders(dst, src http.Header, names []string) {
	for _, k := range names {
		if vs := src.Values(k); len(vs) > 0 {
			dst[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
		}
	}
}

// bufferPool reuses the copy buffers of httputil.ReverseProxy, which
// otherwise allocates and clears 32 KiB per answer.
type bufferPool struct{ p sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}
}

func (bp *bufferPool) Get() []byte { return *bp.p.Get().(*[]byte) }

func (bp *bufferPool) Put(b []byte) { bp.p.Put(&b) }
