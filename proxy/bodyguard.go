package proxy

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// bodyGuard bounds the time a client may take to send its request body
// (proxy.body_read_timeout), and lets a refusal close the connection
// instead of reading a body nobody wants. Without it, anonymous clients
// sending a body one byte at a time held connections indefinitely: 260 of
// them made legitimate requests time out.
type bodyGuard struct {
	io.ReadCloser
	rc   *http.ResponseController
	done atomic.Bool // the body was read to its end
}

// guardBody wraps r's body. Requests without a body, and websocket upgrades
// (live tail holds its connection for as long as the user watches), are
// left alone and get nil.
func guardBody(w http.ResponseWriter, r *http.Request, timeout time.Duration) *bodyGuard {
	if r.Body == nil || r.Body == http.NoBody || strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return nil
	}
	g := &bodyGuard{ReadCloser: r.Body, rc: http.NewResponseController(w)}
	if timeout > 0 {
		// Not supported by test recorders; a real connection always is.
		_ = g.rc.SetReadDeadline(time.Now().Add(timeout))
	}
	r.Body = g
	return g
}

func (g *bodyGuard) Read(p []byte) (int, error) {
	n, err := g.ReadCloser.Read(p)
	if err == io.EOF && g.done.CompareAndSwap(false, true) {
		// The body is in: lift the deadline. Left in place, it would
		// make net/http's background read fail during a long upstream
		// request and cancel it as if the client had gone.
		_ = g.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// refuse makes the answer being written close the connection without
// reading what is left of the body: the server would otherwise read up to
// 256 KiB of it, as slowly as the client sends it.
func (g *bodyGuard) refuse(h http.Header) {
	if g == nil || g.done.Load() {
		return
	}
	h.Set("Connection", "close")
	_ = g.rc.SetReadDeadline(time.Now())
}

// refusesBody reports whether an answer refuses the request before its
// body matters: authentication, authorisation, size and rate refusals.
func refusesBody(status int) bool {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
		return true
	}
	return false
}
