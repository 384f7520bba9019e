// Package rawsock reads and writes TCP connections without handing the
// goroutine's processor to the scheduler for each system call.
//
// Go wraps every read and write in entersyscall/exitsyscall, so that a
// blocking call does not hold a processor. A socket of the net package
// never blocks: a read or write that cannot proceed returns EAGAIN and the
// goroutine waits in the network poller. The bookkeeping is then pure
// cost, and under a gateway's load it is most of the runtime's: the first
// system call after the process went idle wakes the runtime's monitor
// thread (sysmon), which then polls every 20 µs until the process is idle
// again, twice per proxied request. Read and write here issue the same
// system calls through syscall.RawConn and RawSyscall, keeping the poller's
// waiting, deadlines and closing exactly as net.Conn has them.
package rawsock

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// Conn is a net.Conn whose Read, Write and WriteBuffers go through rc.
type Conn struct {
	net.Conn
	rc syscall.RawConn
}

// Wrap returns c reading and writing through its raw connection, or c
// itself when it has none (not a TCP or Unix connection).
func Wrap(c net.Conn) net.Conn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return c
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return c
	}
	return &Conn{Conn: c, rc: rc}
}

// NetConn is the connection wrapped.
func (c *Conn) NetConn() net.Conn { return c.Conn }

func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n uintptr
	var errno syscall.Errno
	err := c.rc.Read(func(fd uintptr) bool {
		for {
			n, _, errno = syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
			if errno != syscall.EINTR {
				return errno != syscall.EAGAIN
			}
		}
	})
	switch {
	case err != nil:
		return 0, err
	case errno != 0:
		return 0, &net.OpError{Op: "read", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: os.NewSyscallError("read", errno)}
	case n == 0:
		return 0, io.EOF
	}
	return int(n), nil
}

func (c *Conn) Write(p []byte) (int, error) {
	return c.WriteBuffers(p)
}

// WriteBuffers writes bufs in order with writev, as net.Buffers does on a
// plain TCP connection.
func (c *Conn) WriteBuffers(bufs ...[]byte) (int, error) {
	var iov [4]syscall.Iovec
	written := 0
	var errno syscall.Errno
	err := c.rc.Write(func(fd uintptr) bool {
		for {
			n := 0
			for _, b := range bufs {
				if len(b) > 0 && n < len(iov) {
					iov[n].Base = &b[0]
					iov[n].SetLen(len(b))
					n++
				}
			}
			if n == 0 {
				return true
			}
			r, _, e := syscall.RawSyscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(n))
			switch e {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false
			case 0:
			default:
				errno = e
				return true
			}
			written += int(r)
			bufs = consume(bufs, int(r))
		}
	})
	switch {
	case err != nil:
		return written, err
	case errno != 0:
		return written, &net.OpError{Op: "write", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: os.NewSyscallError("writev", errno)}
	}
	return written, nil
}

// consume drops the first n bytes of bufs.
func consume(bufs [][]byte, n int) [][]byte {
	for len(bufs) > 0 && n >= len(bufs[0]) {
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	if len(bufs) > 0 {
		bufs[0] = bufs[0][n:]
	}
	return bufs
}
