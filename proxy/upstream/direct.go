package upstream

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/internal/rawsock"
)

// direct sends a tenant's confined request to a plain-HTTP backend on a
// connection of its own pool, from the handler's goroutine: write the
// request, read the answer, copy it. http.Transport runs a reader and a
// writer goroutine per connection and hands every request and answer
// between them; under load those hand-offs (futex wake-ups, scheduling)
// cost Tollgate more CPU than the proxying itself. Parsing stays
// net/http's (Request.Write, http.ReadResponse).
type direct struct {
	addr        string
	dial        func(ctx context.Context, network, addr string) (net.Conn, error)
	maxIdle     int
	idleTimeout time.Duration

	mu   sync.Mutex
	idle []*dconn // most recently used last

	wmu      sync.Mutex
	inflight map[*dconn]struct{}
	watching bool // the watchdog runs
}

type dconn struct {
	nc        net.Conn
	limit     *headLimit
	br        *bufio.Reader
	bw        *bufio.Writer
	idleSince time.Time

	// Set by watch for one exchange; tripped under direct.wmu.
	ctx     context.Context
	until   time.Time
	tripped bool
}

// Buffer sizes of a direct connection: one read usually takes a whole
// answer.
const (
	directReadBuffer  = 32 << 10
	directWriteBuffer = 4 << 10
)

// newDirect returns nil where the direct path would change behaviour and
// http.Transport must keep sending: another RoundTripper (tests, tracing),
// TLS, an HTTP proxy configured for the backend, or a custom TLS dialer.
func newDirect(base *url.URL, rt http.RoundTripper) *direct {
	t, ok := rt.(*http.Transport)
	if !ok || base == nil || base.Scheme != "http" || base.User != nil || t.DialTLSContext != nil || t.DisableKeepAlives {
		return nil
	}
	if t.Proxy != nil {
		if p, err := t.Proxy(&http.Request{URL: base, Header: http.Header{}}); err != nil || p != nil {
			return nil
		}
	}
	d := &direct{addr: canonicalAddr(base), dial: t.DialContext, maxIdle: t.MaxIdleConnsPerHost, idleTimeout: t.IdleConnTimeout, inflight: map[*dconn]struct{}{}}
	if d.dial == nil {
		d.dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	if d.maxIdle <= 0 {
		d.maxIdle = http.DefaultMaxIdleConnsPerHost
	}
	return d
}

func canonicalAddr(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// get returns an idle connection (reused true) or a new one.
func (d *direct) get(ctx context.Context) (c *dconn, reused bool, err error) {
	now := time.Now()
	d.mu.Lock()
	for len(d.idle) > 0 {
		c = d.idle[len(d.idle)-1]
		d.idle = d.idle[:len(d.idle)-1]
		if d.idleTimeout <= 0 || now.Sub(c.idleSince) < d.idleTimeout {
			d.mu.Unlock()
			return c, true, nil
		}
		_ = c.nc.Close()
	}
	d.mu.Unlock()
	nc, err := d.dial(ctx, "tcp", d.addr)
	if err != nil {
		return nil, false, err
	}
	nc = rawsock.Wrap(nc)
	limit := &headLimit{Conn: nc, left: -1}
	return &dconn{nc: nc, limit: limit, br: bufio.NewReaderSize(limit, directReadBuffer), bw: bufio.NewWriterSize(nc, directWriteBuffer)}, false, nil
}

// maxResponseHead bounds what a backend may send before its answer's
// body: http.ReadResponse reads headers without a bound, which
// http.Transport gives it (MaxResponseHeaderBytes) and the direct path
// must too. Prometheus's and Loki's heads are a few hundred bytes.
const maxResponseHead = 1 << 20

// errResponseHead is a head past maxResponseHead.
var errResponseHead = errors.New("the backend's answer has more than 1 MiB of headers")

// headLimit is a connection whose reads stop with errResponseHead once
// left bytes are read; left < 0 is no bound (while a body is read). The
// bound counts what the buffered reader reads ahead too, so it is set to
// maxResponseHead plus one buffer.
type headLimit struct {
	net.Conn
	left int64
}

func (h *headLimit) Read(p []byte) (int, error) {
	if h.left == 0 {
		return 0, errResponseHead
	}
	if h.left > 0 && int64(len(p)) > h.left {
		p = p[:h.left]
	}
	n, err := h.Conn.Read(p)
	if h.left > 0 {
		h.left -= int64(n)
	}
	return n, err
}

// finish ends c's exchange: back to the pool when its answer was read to
// its end and may be followed by another (whole) and the watchdog left it
// alone, else closed.
func (d *direct) finish(c *dconn, whole bool) {
	if d.release(c) && whole {
		d.put(c)
		return
	}
	_ = c.nc.Close()
}

// put keeps a connection whose last answer was read to its end.
func (d *direct) put(c *dconn) {
	c.idleSince = time.Now()
	d.mu.Lock()
	if len(d.idle) < d.maxIdle {
		d.idle = append(d.idle, c)
		c = nil
	}
	d.mu.Unlock()
	if c != nil {
		_ = c.nc.Close()
	}
}

// exchange is one request on c: the request written, the answer's head
// read. From here until release, the watchdog stops the exchange, and the
// reading of the body, when the client goes away (ctx ends) or the
// timeout passes.
func (d *direct) exchange(ctx context.Context, c *dconn, out *http.Request, timeout time.Duration) (*http.Response, error) {
	d.watch(ctx, c, timeout)
	err := out.Write(c.bw)
	if err == nil {
		err = c.bw.Flush()
	}
	c.limit.left = maxResponseHead + directReadBuffer
	defer func() { c.limit.left = -1 }()
	if err == nil {
		_, err = c.br.Peek(1)
	}
	if err != nil {
		return nil, &sendError{err: err}
	}
	for {
		resp, err := http.ReadResponse(c.br, out)
		// Informational answers (100 Continue, 103 Early Hints) precede
		// the real one. 101 would switch protocols: not on this path.
		switch {
		case err != nil:
			return nil, err
		case resp.StatusCode == http.StatusSwitchingProtocols:
			return nil, errors.New("the backend switched protocols on a request that asked for none")
		case resp.StatusCode >= 200:
			return resp, nil
		}
	}
}

// watch puts c under the watchdog until release.
func (d *direct) watch(ctx context.Context, c *dconn, timeout time.Duration) {
	c.ctx, c.until, c.tripped = ctx, time.Time{}, false
	if timeout > 0 {
		c.until = time.Now().Add(timeout)
	}
	d.wmu.Lock()
	d.inflight[c] = struct{}{}
	start := !d.watching
	d.watching = true
	d.wmu.Unlock()
	if start {
		go d.watchdog()
	}
}

// release takes c from the watchdog, and reports whether the watchdog
// left it alone (its deadline untouched, usable again).
func (d *direct) release(c *dconn) bool {
	d.wmu.Lock()
	delete(d.inflight, c)
	ok := !c.tripped
	d.wmu.Unlock()
	c.ctx = nil
	return ok
}

// watchTick is the watchdog's period: how late a timeout or a client's
// departure may stop an exchange.
const watchTick = 100 * time.Millisecond

// watchdog ends the exchanges whose client went away or whose timeout
// passed, by moving their connection's deadline to the past. One ticker
// for all exchanges costs less than a context, a timer and a deadline per
// request, which was a tenth of the proxy's CPU. It runs while exchanges
// are in flight.
func (d *direct) watchdog() {
	t := time.NewTicker(watchTick)
	defer t.Stop()
	for now := range t.C {
		d.wmu.Lock()
		for c := range d.inflight {
			if !c.tripped && (c.ctx.Err() != nil || !c.until.IsZero() && now.After(c.until)) {
				c.tripped = true
				_ = c.nc.SetDeadline(time.Unix(1, 0)) // long past: blocked reads and writes return
			}
		}
		idle := len(d.inflight) == 0
		if idle {
			d.watching = false
		}
		d.wmu.Unlock()
		if idle {
			return
		}
	}
}

// sendError is a failure before any byte of the answer arrived: on a
// reused connection, the backend had closed it while it was idle, and the
// request may be sent again on another.
type sendError struct{ err error }

func (e *sendError) Error() string { return e.err.Error() }
func (e *sendError) Unwrap() error { return e.err }

// replayable reports whether a request can be sent a second time.
func replayable(out *http.Request) bool {
	return out.Body == nil || out.Body == http.NoBody || out.GetBody != nil
}

// rewind prepares out to be sent again.
func rewind(out *http.Request) bool {
	if out.Body == nil || out.Body == http.NoBody {
		return true
	}
	body, err := out.GetBody()
	if err != nil {
		return false
	}
	out.Body = body
	return true
}

// roundTrip sends out and returns its answer and connection, which the
// caller releases. A send that fails on a reused connection is retried
// once on a new one.
func (d *direct) roundTrip(out *http.Request, timeout time.Duration) (*http.Response, *dconn, error) {
	if _, ok := out.Header["User-Agent"]; !ok {
		out.Header.Set("User-Agent", "") // as httputil.ReverseProxy: not Go's
	}
	ctx := out.Context()
	for attempt := 0; ; attempt++ {
		c, reused, err := d.get(ctx)
		if err != nil {
			return nil, nil, err
		}
		resp, err := d.exchange(ctx, c, out, timeout)
		if err == nil {
			return resp, c, nil
		}
		d.release(c)
		_ = c.nc.Close()
		var se *sendError
		if attempt > 0 || !reused || !errors.As(err, &se) || ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) || !replayable(out) || !rewind(out) {
			return nil, nil, err
		}
	}
}

// hopHeaders are the hop-by-hop headers of RFC 9110 §7.6.1, which
// httputil.ReverseProxy drops too; the server writes its own.
func hopHeaders() []string {
	return []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}
}

// copyHeader adds an answer's end-to-end headers to dst: neither the
// hop-by-hop ones nor those its Connection header names.
func copyHeader(dst, src http.Header) {
	drop := hopHeaders()
	for _, f := range src["Connection"] {
		for _, name := range strings.Split(f, ",") {
			if name = textproto.TrimString(name); name != "" {
				drop = append(drop, textproto.CanonicalMIMEHeaderKey(name))
			}
		}
	}
	for k, vs := range src {
		if !slices.Contains(drop, k) {
			dst[k] = append(dst[k], vs...)
		}
	}
}

// eofReader records whether a body was read to its end, which is when
// its connection can carry another request.
type eofReader struct {
	r   io.ReadCloser
	eof bool
}

func (e *eofReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		e.eof = true
	}
	return n, err
}

// Close does not close the body: net/http's would read what is left of
// it, for as long as the backend sends. A connection whose body was not
// read to its end is closed instead.
func (e *eofReader) Close() error { return nil }

// ProxyConfinedTimeout is ProxyConfined with the request's timeout (zero
// for none) given apart from out's context, which is then the client's:
// on the direct path the watchdog applies both, and no context and timer
// are made per request.
func (u *Upstream) ProxyConfinedTimeout(w http.ResponseWriter, out *http.Request, timeout time.Duration) {
	if u.direct == nil {
		ctx, cancel := WithTimeout(out.Context(), timeout)
		defer cancel()
		u.ProxyConfined(w, out.WithContext(ctx))
		return
	}
	resp, c, err := u.direct.roundTrip(out, timeout)
	if err != nil {
		u.Error(w, out, directError(out.Context(), err))
		return
	}
	body := &eofReader{r: resp.Body}
	resp.Body = body
	done := false
	defer func() { u.direct.finish(c, done && body.eof && !resp.Close) }() // also when copyAnswer aborts the answer
	done = u.copyAnswer(w, out, resp)
}

// Fetch is Do for an answer Tollgate reads whole itself (the results
// cache's), sent on the direct path when there is one, where the request's
// context bounds it. Closing the answer's body after reading it to its end
// gives the connection back to the pool.
func (u *Upstream) Fetch(out *http.Request) (*http.Response, error) {
	if u.direct == nil {
		return u.Do(out)
	}
	resp, c, err := u.direct.roundTrip(out, 0)
	if err != nil {
		return nil, directError(out.Context(), err)
	}
	resp.Body = &fetchedBody{eofReader: eofReader{r: resp.Body}, d: u.direct, c: c, reuse: !resp.Close}
	return resp, nil
}

// fetchedBody is a fetched answer's body: closed, it gives its connection
// back if read to its end, or closes it.
type fetchedBody struct {
	eofReader
	d      *direct
	c      *dconn
	reuse  bool
	closed bool
}

func (b *fetchedBody) Close() error {
	if !b.closed {
		b.closed = true
		b.d.finish(b.c, b.eof && b.reuse)
	}
	return nil
}

// copyAnswer screens the answer and copies it to w. An answer that fits
// the copy buffer, almost every one, is written at once with its length,
// so that the server neither chunks nor writes it in pieces. It reports
// whether the answer was copied whole.
func (u *Upstream) copyAnswer(w http.ResponseWriter, out *http.Request, resp *http.Response) bool {
	if err := u.Screen(resp); err != nil {
		u.Error(w, out, err)
		return false
	}
	buf := u.buffers.Get()
	defer u.buffers.Put(buf)
	// Whole means the body's own end: a backend that hangs up in the
	// middle of a chunked answer makes ReadFull return ErrUnexpectedEOF
	// too, and that answer must not go out with a length as if complete.
	r := &eofReader{r: resp.Body}
	n, err := io.ReadFull(r, buf)
	whole := r.eof
	if err != nil && !whole {
		u.Error(w, out, directError(out.Context(), err))
		return false
	}
	copyHeader(w.Header(), resp.Header)
	if whole && resp.Header.Get("Content-Length") == "" && bodyAllowed(out.Method, resp.StatusCode) {
		w.Header().Set("Content-Length", strconv.Itoa(n))
	}
	w.WriteHeader(resp.StatusCode)
	if _, err := w.Write(buf[:n]); err != nil || whole {
		return err == nil
	}
	return u.copyRest(w, resp.Body, buf)
}

// copyRest streams what is left of a long answer. A backend failing in
// the middle aborts the answer, as httputil.ReverseProxy does, so that
// the client never takes a truncated answer for a whole one.
func (u *Upstream) copyRest(w http.ResponseWriter, body io.Reader, buf []byte) bool {
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return false
			}
		}
		if err == io.EOF {
			return true
		}
		if err != nil {
			panic(http.ErrAbortHandler)
		}
	}
}

func bodyAllowed(method string, status int) bool {
	return method != http.MethodHead && status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// directError names why a direct exchange failed the way Error reads it:
// the client gone (its context ended) or the request's timeout (the
// connection's deadline).
func directError(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return context.Canceled
	case errors.Is(err, os.ErrDeadlineExceeded):
		return context.DeadlineExceeded
	}
	return err
}
