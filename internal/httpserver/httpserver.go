// Package httpserver runs an HTTP server until its context ends, then drains
// it. Every Tollgate server (gateway, demo upstreams) starts through it so
// that timeouts and shutdown behave the same everywhere.
package httpserver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// ShutdownGrace is how long in-flight requests may finish after the context
// ends.
const ShutdownGrace = 15 * time.Second

// Listen opens a TCP listener, wrapping the error with the address.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	return ln, nil
}

// DefaultIdleTimeout closes keep-alive connections idle for longer.
const DefaultIdleTimeout = 2 * time.Minute

// Options tune Serve. The zero value is sane.
type Options struct {
	Logger *slog.Logger
	// BeforeShutdown, if not nil, runs when ctx ends, before draining
	// (e.g. to fail readiness).
	BeforeShutdown func()
	// IdleTimeout closes idle keep-alive connections (default 2m).
	IdleTimeout time.Duration
	// FastHTTP1 serves plain HTTP/1.1 GETs and POSTs without net/http's
	// server (see fastServer), on Linux; net/http serves the rest.
	FastHTTP1 bool

	headerTimeout time.Duration // tests: shorter than 10 s
}

// Serve serves h on ln until ctx ends, then shuts down gracefully.
//
// Headers must arrive within 10 s. A body's deadline is the handler's to
// set (the gateway's is proxy.body_read_timeout): http.Server's
// ReadTimeout would also cut live tail's websocket, which reads for as
// long as the user watches.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, opts Options) error {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	logger, beforeShutdown := opts.Logger, opts.BeforeShutdown
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cmp.Or(opts.headerTimeout, 10*time.Second),
		IdleTimeout:       opts.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	// net/http serves ln, or, with the fast server in front, what it
	// hands off.
	var front *fastServer
	slowLn := ln
	if opts.FastHTTP1 && fastSupported {
		front = newFastServer(ctx, ln.Addr(), srv, logger)
		slowLn = front.handoff
	}
	slowErr, frontErr := make(chan error, 1), make(chan error, 1)
	go func() { slowErr <- srv.Serve(slowLn) }()
	if front != nil {
		go func() { frontErr <- front.accept(ln) }()
	}
	select {
	case err := <-slowErr:
		_ = ln.Close()
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case err := <-frontErr:
		_ = srv.Close()
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	if beforeShutdown != nil {
		beforeShutdown()
	}
	return drain(ln, srv, front, slowErr)
}

// drain stops accepting on ln and lets the requests in flight finish,
// on both servers, for up to ShutdownGrace.
func drain(ln net.Listener, srv *http.Server, front *fastServer, slowErr <-chan error) error {
	shutdownCtx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	drained := make(chan struct{})
	if front == nil {
		close(drained)
	} else {
		front.stopping.Store(true)
		_ = ln.Close()
		go func() { front.drain(shutdownCtx); close(drained) }()
	}
	err := srv.Shutdown(shutdownCtx)
	<-drained
	if err != nil {
		return fmt.Errorf("shutting down %s: %w", ln.Addr(), err)
	}
	if err := <-slowErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
