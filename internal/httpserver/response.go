package httpserver

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// response is the fast server's http.ResponseWriter. It frames answers as
// net/http does: the handler's Content-Length when it gives one; a length
// of its own when the handler returns before writing more than
// sniffBuffer bytes; chunks otherwise. Date and a sniffed Content-Type are
// added as net/http adds them.
type response struct {
	c   *conn
	req *http.Request

	header      http.Header
	sent        http.Header // header as of WriteHeader, when not committed then
	status      int
	wroteHeader bool
	committed   bool // the head is in c.out
	chunked     bool
	declared    int64 // the handler's Content-Length, -1 for none
	written     int64
	held        []byte // body written before the head, length unknown
	closeAfter  bool
}

// sniffBuffer is how much body is held back to give an answer a length, as
// net/http's bufferBeforeChunkingSize.
const sniffBuffer = 2048

func (w *response) Header() http.Header { return w.header }

func (w *response) WriteHeader(code int) {
	if w.wroteHeader {
		w.c.srv.logger.Warn("superfluous WriteHeader call", "status", code, "path", w.req.URL.Path)
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		w.informational(code)
		return
	}
	w.status, w.wroteHeader = code, true
	w.declared = -1
	if cl := w.header.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			w.declared = n
		} else {
			w.c.srv.logger.Warn("invalid Content-Length in an answer: dropped", "value", cl, "path", w.req.URL.Path)
			w.header.Del("Content-Length")
		}
	}
	if _, typed := w.header["Content-Type"]; !bodyAllowed(code) || w.declared >= 0 && typed {
		w.commit(nil, nil) // all the head needs is known: the proxy's path
		return
	}
	// The head waits for the body's first bytes (Content-Type, length);
	// later changes to the header must not reach it, as with net/http.
	w.sent = w.header.Clone()
}

// informational sends a 1xx answer at once; the final one follows.
func (w *response) informational(code int) {
	w.c.appendStatus(code)
	w.c.appendHeader(w.header, dropped(w.header, code), nil)
	w.c.out = append(w.c.out, crlf...)
	_ = w.c.flush()
}

func (w *response) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.declared >= 0 && w.written+int64(len(p)) > w.declared {
		return 0, http.ErrContentLength
	}
	if w.c.werr != nil {
		return 0, w.c.werr
	}
	w.written += int64(len(p))
	if !w.committed {
		if w.declared < 0 && len(w.held)+len(p) <= sniffBuffer {
			w.held = append(w.held, p...)
			return len(p), nil
		}
		w.commit(nil, p)
	}
	if err := w.body(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// body sends p in the answer's framing.
func (w *response) body(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	if w.chunked {
		w.c.out = strconv.AppendInt(w.c.out, int64(len(p)), 16)
		w.c.out = append(w.c.out, crlf...)
		if err := w.c.write(p); err != nil {
			return err
		}
		w.c.out = append(w.c.out, crlf...)
		return nil
	}
	return w.c.write(p)
}

// commit writes the head to c.out, then what was held. length is the
// body's whole length when the handler has returned, else nil; next is
// the write that overflowed what was held, for sniffing.
func (w *response) commit(length *int, next []byte) {
	h := w.sent
	if h == nil {
		h = w.header
	}
	c := w.c
	c.appendStatus(w.status)
	extra, drop := c.extra[:0], dropped(h, w.status)
	if _, ok := h["Date"]; !ok {
		extra = append(extra, "Date", c.srv.date())
	}
	// A handler's Transfer-Encoding or trailers ask for chunks.
	_, trailers := h["Trailer"]
	te := h.Get("Transfer-Encoding") != ""
	chunks := trailers || te
	allowed := bodyAllowed(w.status)
	if allowed && !te {
		extra = w.sniff(h, extra, next)
	}
	switch {
	case !allowed || w.declared >= 0:
	case length != nil && !chunks:
		extra = append(extra, "Content-Length", strconv.Itoa(*length))
	default:
		w.chunked = true
		drop = dropKey(drop, "Content-Length", h)
		extra = append(extra, "Transfer-Encoding", "chunked")
	}
	if w.req.Close || c.srv.stopping.Load() || hasToken(h["Connection"], "close") || c.bodyLeft() {
		w.closeAfter = true
		if !hasToken(h["Connection"], "close") {
			extra = append(extra, "Connection", "close")
		}
	}
	c.appendHeader(h, drop, extra)
	c.extra = extra
	c.out = append(c.out, crlf...)
	w.committed = true
	held := w.held
	w.held = w.held[:0]
	_ = w.body(held)
}

// sniff adds the Content-Type net/http would detect from the body's first
// bytes, when the handler set none and no Content-Encoding.
func (w *response) sniff(h http.Header, extra []string, next []byte) []string {
	if _, ok := h["Content-Type"]; ok || h.Get("Content-Encoding") != "" || len(w.held)+len(next) == 0 {
		return extra
	}
	data := w.held
	if len(data) < 512 && len(next) > 0 {
		data = append(data[:len(data):len(data)], next[:min(len(next), 512-len(data))]...)
	}
	return append(extra, "Content-Type", http.DetectContentType(data))
}

// dropped is the handler's fields the head leaves out, as net/http does:
// Transfer-Encoding (the server frames the answer), trailers (sent after
// the body) and what a status without a body must not carry. It is nil
// in the common case of nothing to drop.
func dropped(h http.Header, status int) map[string]bool {
	var drop map[string]bool
	drop = dropKey(drop, "Transfer-Encoding", h)
	for k := range h {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			drop = dropKey(drop, k, h)
		}
	}
	if !bodyAllowed(status) {
		drop = dropKey(drop, "Content-Length", h)
		if status == http.StatusNotModified {
			drop = dropKey(drop, "Content-Type", h)
		}
	}
	return drop
}

// dropKey adds key to drop when h has it.
func dropKey(drop map[string]bool, key string, h http.Header) map[string]bool {
	if _, ok := h[key]; !ok {
		return drop
	}
	if drop == nil {
		drop = map[string]bool{}
	}
	drop[key] = true
	return drop
}

func (w *response) Flush() { _ = w.FlushError() }

// FlushError sends what was written so far (http.ResponseController).
func (w *response) FlushError() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		w.commit(nil, nil)
	}
	return w.c.flush()
}

// SetReadDeadline and SetWriteDeadline serve http.ResponseController, with
// which the gateway bounds the time a body may take to arrive.
func (w *response) SetReadDeadline(t time.Time) error  { return w.c.nc.SetReadDeadline(t) }
func (w *response) SetWriteDeadline(t time.Time) error { return w.c.nc.SetWriteDeadline(t) }

// finish completes the answer after the handler returned, and reports
// whether the connection may carry another request.
func (w *response) finish() bool {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		n := len(w.held)
		w.commit(&n, nil)
	}
	if w.chunked {
		w.c.out = append(w.c.out, "0\r\n"...)
		w.c.appendTrailers(w.header)
		w.c.out = append(w.c.out, crlf...)
	}
	if w.declared >= 0 && w.written != w.declared && bodyAllowed(w.status) {
		w.closeAfter = true // short of its length: the client waits for the rest
	}
	return w.c.flush() == nil && !w.closeAfter
}

// bodyAllowed reports whether an answer with this status has a body.
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// hasToken reports whether a comma-separated header value lists token.
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
