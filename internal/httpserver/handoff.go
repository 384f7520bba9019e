package httpserver

import (
	"io"
	"net"
	"sync"
)

// handoff is the listener through which the fast server gives net/http
// the connections whose requests it does not serve itself.
type handoff struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newHandoff(addr net.Addr) *handoff {
	return &handoff{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

// give passes c to net/http; false once the listener is closed.
func (l *handoff) give(c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *handoff) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *handoff) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *handoff) Addr() net.Addr { return l.addr }

// handedConn is a connection whose first bytes were already read into r.
type handedConn struct {
	net.Conn
	r io.Reader
}

func (c *handedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// CloseWrite lets net/http half-close before closing after an error, as
// it does on a plain TCP connection.
func (c *handedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	if u, ok := c.Conn.(interface{ NetConn() net.Conn }); ok {
		if cw, ok := u.NetConn().(interface{ CloseWrite() error }); ok {
			return cw.CloseWrite()
		}
	}
	return nil
}
