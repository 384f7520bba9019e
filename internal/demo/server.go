package demo

import (
	"context"
	"net"
	"net/http"

	"github.com/tollgate-dev/tollgate/internal/httpserver"
)

// background is an HTTP server running through httpserver.Serve, so that the
// demo's servers time out and drain exactly like `tollgate serve`, but
// stopped by the component that owns it rather than by the demo's context:
// components stop in reverse order, the gateway before its upstreams.
type background struct {
	cancel context.CancelFunc
	done   chan error
}

func serveInBackground(ctx context.Context, ln net.Listener, h http.Handler, opts httpserver.Options) *background {
	// Keep the values of ctx (trace IDs, loggers) but not its cancellation.
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b := &background{cancel: cancel, done: make(chan error, 1)}
	go func() {
		b.done <- httpserver.Serve(ctx, ln, h, opts)
	}()
	return b
}

// stop drains the server and returns the error it stopped with, if any.
func (b *background) stop() error {
	b.cancel()
	return <-b.done
}
