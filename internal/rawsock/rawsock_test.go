//go:build linux

package rawsock

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// pair is a connected loopback TCP pair; a is wrapped.
func pair(t *testing.T) (a net.Conn, b net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b = <-accepted
	t.Cleanup(func() { c.Close(); b.Close() })
	a = Wrap(c)
	if _, ok := a.(*Conn); !ok {
		t.Fatalf("a TCP connection was not wrapped: %T", a)
	}
	return a, b
}

// TestLargeWritesWaitForTheReader: writes larger than the socket buffers
// wait in the poller (EAGAIN) and arrive whole and in order, across
// several buffers.
func TestLargeWritesWaitForTheReader(t *testing.T) {
	a, b := pair(t)
	head, body := bytes.Repeat([]byte("h"), 100), bytes.Repeat([]byte("0123456789"), 1<<20) // 10 MiB
	got := make(chan []byte, 1)
	go func() {
		all, _ := io.ReadAll(b)
		got <- all
	}()
	n, err := a.(*Conn).WriteBuffers(head, nil, body)
	if err != nil || n != len(head)+len(body) {
		t.Fatalf("wrote %d, %v", n, err)
	}
	if n, err := a.Write([]byte("end")); err != nil || n != 3 {
		t.Fatalf("wrote %d, %v", n, err)
	}
	a.(*Conn).Conn.(*net.TCPConn).CloseWrite()
	if all := <-got; !bytes.Equal(all, append(append(head, body...), "end"...)) {
		t.Errorf("the reader got %d bytes, not what was written", len(all))
	}
}

// TestReadsKeepNetConnSemantics: data, then a deadline that passes, then
// the peer's close (EOF), then a read on a closed connection.
func TestReadsKeepNetConnSemantics(t *testing.T) {
	a, b := pair(t)
	_, _ = b.Write([]byte("hello"))
	buf := make([]byte, 16)
	if n, err := a.Read(buf); err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	_ = a.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	var ne net.Error
	if _, err := a.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("past the deadline: %v; want a timeout", err)
	}
	_ = a.SetReadDeadline(time.Time{})
	b.Close()
	if _, err := a.Read(buf); err != io.EOF {
		t.Fatalf("after the peer closed: %v; want io.EOF", err)
	}
	a.Close()
	if _, err := a.Read(buf); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("on a closed connection: %v; want net.ErrClosed", err)
	}
	if _, err := a.Write(buf); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("writing on a closed connection: %v; want net.ErrClosed", err)
	}
}

// TestBlockedReadEndsWhenClosed: a read waiting in the poller returns
// when another goroutine closes the connection, as the watchdogs do.
func TestBlockedReadEndsWhenClosed(t *testing.T) {
	a, _ := pair(t)
	done := make(chan error, 1)
	go func() {
		_, err := a.Read(make([]byte, 1))
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	_ = a.SetDeadline(time.Unix(1, 0))
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("got %v; want the deadline's error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a deadline in the past did not end a blocked read")
	}
}

// TestResetIsAnError: a reset connection is an error, not EOF.
func TestResetIsAnError(t *testing.T) {
	a, b := pair(t)
	_ = b.(*net.TCPConn).SetLinger(0)
	_, _ = a.Write([]byte("x")) // unread by b: closing it resets
	time.Sleep(20 * time.Millisecond)
	b.Close()
	time.Sleep(20 * time.Millisecond)
	if _, err := a.Read(make([]byte, 1)); err == nil || err == io.EOF {
		t.Errorf("after a reset: %v; want an error", err)
	}
}
