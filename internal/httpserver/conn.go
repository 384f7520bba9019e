package httpserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tollgate-dev/tollgate/internal/rawsock"
)

// Phases of a fast connection, which the watchdog reads.
const (
	phaseIdle   int32 = iota // waiting for a request's first byte
	phaseHead                // reading a request's head
	phaseActive              // serving a request
	phaseClosed              // closed, or taken by the watchdog or shutdown
)

// readBuffer holds a request's head: a longer head goes to net/http,
// whose bound is 1 MiB.
const readBuffer = 16 << 10

// conn is one client connection of the fast server.
type conn struct {
	srv    *fastServer
	nc     net.Conn // as accepted: Close releases the listener's slot
	io     net.Conn // the TCP connection itself, for writev
	raw    syscall.RawConn
	br     *bufio.Reader
	remote string
	ctx    context.Context
	cancel context.CancelFunc

	phase  atomic.Int32
	since  atomic.Int64 // unix nanoseconds when the phase began
	served atomic.Bool  // a request was served: idle_timeout applies

	out   []byte   // the answer not yet written
	extra []string // fields the server adds to a head
	werr  error
	body  *body // the request's, nil without one
}

func newConn(srv *fastServer, nc net.Conn) *conn {
	c := &conn{srv: srv, nc: nc, io: nc, remote: nc.RemoteAddr().String(), out: make([]byte, 0, 4<<10)}
	if u, ok := nc.(interface{ NetConn() net.Conn }); ok {
		c.io = u.NetConn()
	}
	if sc, ok := c.io.(syscall.Conn); ok {
		c.raw, _ = sc.SyscallConn()
	}
	c.io = rawsock.Wrap(c.io)
	c.br = bufio.NewReaderSize(c.io, readBuffer)
	c.ctx, c.cancel = context.WithCancel(srv.base)
	c.setPhase(phaseIdle)
	return c
}

func (c *conn) setPhase(p int32) {
	c.since.Store(time.Now().UnixNano())
	c.phase.Store(p)
}

// serve reads and answers requests until the client leaves, a request
// must close the connection, or one goes to net/http.
func (c *conn) serve() {
	defer c.srv.forget(c)
	for {
		if _, err := c.br.Peek(1); err != nil {
			c.close()
			return
		}
		// since moves before the phase: the watchdog must never see a new
		// phase with the last one's start.
		c.since.Store(time.Now().UnixNano())
		if !c.phase.CompareAndSwap(phaseIdle, phaseHead) {
			return // closed for idleness or shutdown meanwhile
		}
		raw, err := c.readHead()
		if err != nil {
			c.close()
			return
		}
		h, ok := parseHead(raw)
		if !ok {
			c.handOff()
			return
		}
		_, _ = c.br.Discard(len(raw))
		c.setPhase(phaseActive)
		keep := c.serveRequest(h)
		c.served.Store(true)
		c.since.Store(time.Now().UnixNano())
		if !keep || c.srv.stopping.Load() || !c.phase.CompareAndSwap(phaseActive, phaseIdle) {
			c.close()
			return
		}
	}
}

// readHead returns the buffered head up to its blank line, without
// consuming it. A head that does not fit the buffer, or has a line ending
// in a bare LF (which net/http accepts and the fast server does not, and
// whose head may never end in CRLF CRLF), is returned as malformed
// (nil, nil), for net/http.
func (c *conn) readHead() ([]byte, error) {
	searched := 0 // a head sent a byte at a time is searched once, not once per byte
	for {
		b, err := c.br.Peek(c.br.Buffered())
		if err != nil {
			return nil, err
		}
		end := bytes.Index(b[searched:], []byte("\r\n\r\n"))
		if end >= 0 {
			end += searched + 4
		}
		if bareLF(b, searched, end) {
			return nil, nil
		}
		if end >= 0 {
			return b[:end], nil
		}
		searched = max(len(b)-3, 0)
		if len(b) == c.br.Size() {
			return nil, nil
		}
		if _, err := c.br.Peek(len(b) + 1); err != nil {
			return nil, err
		}
	}
}

// bareLF reports whether b[from:end] (to its end if end < 0) has an LF
// without a CR before it.
func bareLF(b []byte, from, end int) bool {
	if end < 0 {
		end = len(b)
	}
	for i := from; i < end; i++ {
		if b[i] == '\n' && (i == 0 || b[i-1] != '\r') {
			return true
		}
	}
	return false
}

// handOff gives the connection, its unread bytes first, to net/http.
func (c *conn) handOff() {
	if !c.phase.CompareAndSwap(phaseHead, phaseClosed) {
		return
	}
	c.srv.forget(c)
	c.cancel()
	if !c.srv.handoff.give(&handedConn{Conn: c.nc, r: c.br}) {
		_ = c.nc.Close()
	}
}

// close closes the connection unless the watchdog or shutdown did.
func (c *conn) close() {
	c.phase.Store(phaseClosed)
	c.cancel()
	_ = c.nc.Close()
}

// serveRequest runs the handler on one request and reports whether the
// connection may carry another.
func (c *conn) serveRequest(h head) (keep bool) {
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	req := (&http.Request{
		Method: h.method, URL: h.url, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h.header, Host: h.host, RequestURI: h.target, RemoteAddr: c.remote,
		ContentLength: h.contentLength, Close: h.close, Body: http.NoBody,
	}).WithContext(ctx)
	c.body = nil
	if h.contentLength > 0 {
		c.body = &body{br: c.br, left: h.contentLength}
		req.Body = c.body
	}
	w := &response{c: c, req: req, header: make(http.Header, 8), declared: -1}
	defer func() {
		if err := recover(); err != nil {
			keep = false
			if err != http.ErrAbortHandler {
				buf := make([]byte, 64<<10)
				buf = buf[:runtime.Stack(buf, false)]
				c.srv.logger.Error("panic serving a request", "remote", c.remote, "path", h.url.Path, "panic", err, "stack", string(buf))
			}
		}
		if c.body != nil {
			c.body.close()
		}
	}()
	c.srv.handler.ServeHTTP(w, req)
	return w.finish() && !c.bodyLeft()
}

// bodyLeft reports whether the request's body was not read to its end:
// the connection then closes after the answer instead of reading what the
// handler did not want.
func (c *conn) bodyLeft() bool {
	return c.body != nil && c.body.unread()
}

// appendStatus adds a status line to the answer.
func (c *conn) appendStatus(code int) {
	c.out = append(c.out, "HTTP/1.1 "...)
	c.out = strconv.AppendInt(c.out, int64(code), 10)
	c.out = append(c.out, ' ')
	if text := http.StatusText(code); text != "" {
		c.out = append(c.out, text...)
	} else {
		c.out = append(c.out, "status code "...)
		c.out = strconv.AppendInt(c.out, int64(code), 10)
	}
	c.out = append(c.out, crlf...)
}

// appendHeader adds h's fields but those in drop, sanitized and in
// net/http's order, then the server's own (name, value pairs).
func (c *conn) appendHeader(h http.Header, drop map[string]bool, extra []string) {
	_ = h.WriteSubset(outWriter{c}, drop)
	for i := 0; i+1 < len(extra); i += 2 {
		c.out = append(c.out, extra[i]...)
		c.out = append(c.out, ": "...)
		c.out = append(c.out, extra[i+1]...)
		c.out = append(c.out, crlf...)
	}
}

// appendTrailers adds the trailer fields after a chunked body's last
// chunk: those the Trailer field announced and those set with
// http.TrailerPrefix.
func (c *conn) appendTrailers(h http.Header) {
	t := http.Header{}
	for _, v := range h["Trailer"] {
		for k := range bytes.SplitSeq([]byte(v), []byte(",")) {
			key := http.CanonicalHeaderKey(string(bytes.TrimSpace(k)))
			if vs, ok := h[key]; ok {
				t[key] = vs
			}
		}
	}
	for k, vs := range h {
		if len(k) > len(http.TrailerPrefix) && k[:len(http.TrailerPrefix)] == http.TrailerPrefix {
			t[k[len(http.TrailerPrefix):]] = vs
		}
	}
	for _, k := range []string{"Content-Length", "Transfer-Encoding", "Trailer"} {
		delete(t, k)
	}
	_ = t.Write(outWriter{c})
}

// outWriter appends to the answer, for http.Header's writers.
type outWriter struct{ c *conn }

func (o outWriter) Write(p []byte) (int, error) {
	o.c.out = append(o.c.out, p...)
	return len(p), nil
}

func (o outWriter) WriteString(s string) (int, error) {
	o.c.out = append(o.c.out, s...)
	return len(s), nil
}

// write adds p to the answer: into the buffer if it fits, else the buffer
// and p in one writev.
func (c *conn) write(p []byte) error {
	if c.werr != nil {
		return c.werr
	}
	if len(c.out)+len(p) <= cap(c.out) {
		c.out = append(c.out, p...)
		return nil
	}
	if bw, ok := c.io.(buffersWriter); ok {
		_, c.werr = bw.WriteBuffers(c.out, p)
	} else {
		bufs := net.Buffers{c.out, p}
		_, c.werr = bufs.WriteTo(c.io)
	}
	c.out = c.out[:0]
	return c.werr
}

// buffersWriter writes several buffers in one system call (rawsock.Conn).
type buffersWriter interface {
	WriteBuffers(bufs ...[]byte) (int, error)
}

// flush writes what the answer holds.
func (c *conn) flush() error {
	if c.werr != nil || len(c.out) == 0 {
		return c.werr
	}
	_, c.werr = c.io.Write(c.out)
	c.out = c.out[:0]
	return c.werr
}

// body is a request body of known length, read from the connection's
// buffer. The mutex keeps a handler's stray goroutine from reading it
// while the server reads the next request.
type body struct {
	mu     sync.Mutex
	br     *bufio.Reader
	left   int64
	closed bool
}

// errBodyClosed is a read after the handler returned.
var errBodyClosed = errors.New("http: invalid Read on closed Body")

func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, errBodyClosed
	}
	if b.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.br.Read(p)
	b.left -= int64(n)
	if err == io.EOF && b.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	if b.left == 0 && err == nil {
		err = io.EOF
	}
	return n, err
}

// Close leaves what is unread: the connection closes after the answer.
func (b *body) Close() error { return nil }

func (b *body) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
}

func (b *body) unread() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.left > 0
}
