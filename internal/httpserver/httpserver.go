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
	if opts.FastHTTP1 && fastSupported {
		return serveFast(ctx, ln, srv, opts)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	if beforeShutdown != nil {
		beforeShutdown()
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down %s: %w", ln.Addr(), err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
