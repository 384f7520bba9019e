package httpserver

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// fastServer serves the plain HTTP/1.1 GETs and POSTs that make up a
// gateway's traffic on its own, and gives net/http every connection with
// a request it does not serve (see parseHead).
//
// Why: under load, net/http's server costs the gateway more CPU than the
// proxying. Each request starts a goroutine that waits for the client to
// go away, then wakes it and waits for it to finish; each answer passes
// through two buffers. Here a request is read, answered and written from
// its connection's goroutine, answers go out in one write (or one writev),
// and a single watchdog applies the timeouts and notices departed
// clients. That halved the gateway's CPU per proxied request.
type fastServer struct {
	handler       http.Handler
	logger        *slog.Logger
	base          context.Context
	idleTimeout   time.Duration
	headerTimeout time.Duration
	handoff       *handoff
	stopping      atomic.Bool

	mu       sync.Mutex
	conns    map[*conn]struct{}
	watching bool

	stamp atomic.Pointer[dateStamp]
}

// dateStamp is the Date field of answers sent within one second.
type dateStamp struct {
	sec  int64
	date string
}

// newFastServer is the fast server in front of srv, which gets the
// connections handed off.
func newFastServer(ctx context.Context, addr net.Addr, srv *http.Server, logger *slog.Logger) *fastServer {
	return &fastServer{
		handler: srv.Handler, logger: logger, base: context.WithoutCancel(ctx),
		idleTimeout: srv.IdleTimeout, headerTimeout: srv.ReadHeaderTimeout,
		handoff: newHandoff(addr), conns: map[*conn]struct{}{},
	}
}

// accept serves each connection on its own goroutine until ln closes.
func (s *fastServer) accept(ln net.Listener) error {
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.stopping.Load() {
				return nil
			}
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				// As net/http: wait out a shortage of file descriptors.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.logger.Warn("accepting a connection failed; retrying", "err", err, "in", delay)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		c := newConn(s, nc)
		s.track(c)
		go c.serve()
	}
}

// track puts c under the watchdog.
func (s *fastServer) track(c *conn) {
	s.mu.Lock()
	s.conns[c] = struct{}{}
	start := !s.watching
	s.watching = true
	s.mu.Unlock()
	if start {
		go s.watchdog()
	}
}

// forget takes c from the watchdog, once it is closed or handed off.
func (s *fastServer) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// fastTick is the watchdog's period: how late a timeout or a client's
// departure is noticed.
const fastTick = 100 * time.Millisecond

// watchdog closes connections idle past proxy.idle_timeout or slow to
// send a head, and ends the requests of clients that went away (their
// context is cancelled, which stops the upstream request). It runs while
// connections are open.
func (s *fastServer) watchdog() {
	t := time.NewTicker(fastTick)
	defer t.Stop()
	for now := range t.C {
		s.mu.Lock()
		for c := range s.conns {
			s.check(c, now.UnixNano())
		}
		idle := len(s.conns) == 0
		if idle {
			s.watching = false
		}
		s.mu.Unlock()
		if idle {
			return
		}
	}
}

// check applies the watchdog to one connection.
func (s *fastServer) check(c *conn, now int64) {
	age := time.Duration(now - c.since.Load())
	switch c.phase.Load() {
	case phaseIdle:
		limit := s.headerTimeout // a new connection's first request
		if c.served.Load() {
			limit = s.idleTimeout
		}
		if age > limit && c.phase.CompareAndSwap(phaseIdle, phaseClosed) {
			c.close()
		}
	case phaseHead:
		if age > s.headerTimeout && c.phase.CompareAndSwap(phaseHead, phaseClosed) {
			c.close()
		}
	case phaseActive:
		if age > fastTick && c.ctx.Err() == nil && peerGone(c.raw) {
			c.cancel()
		}
	}
}

// drain closes idle connections until none is left or ctx ends, then
// closes the rest. Busy ones finish their request first, and close.
func (s *fastServer) drain(ctx context.Context) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		s.mu.Lock()
		for c := range s.conns {
			if c.phase.CompareAndSwap(phaseIdle, phaseClosed) {
				c.close()
			}
		}
		n := len(s.conns)
		s.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			s.mu.Lock()
			for c := range s.conns {
				c.close()
			}
			s.mu.Unlock()
			return
		}
	}
}

// date is the Date field for an answer sent now.
func (s *fastServer) date() string {
	now := time.Now()
	if d := s.stamp.Load(); d != nil && d.sec == now.Unix() {
		return d.date
	}
	d := &dateStamp{sec: now.Unix(), date: now.UTC().Format(http.TimeFormat)}
	s.stamp.Store(d)
	return d.date
}
