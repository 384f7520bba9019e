package httpserver

import "syscall"

// fastSupported: the fast server needs peerGone.
const fastSupported = true

// peerGone reports whether the client closed or reset the connection,
// without reading what it may have sent (MSG_PEEK) or waiting
// (MSG_DONTWAIT). Control, unlike Read, does not wait for a read of the
// request body in progress.
func peerGone(raw syscall.RawConn) bool {
	if raw == nil {
		return false
	}
	gone := false
	_ = raw.Control(func(fd uintptr) {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		gone = err == nil && n == 0 || err != nil && err != syscall.EAGAIN && err != syscall.EINTR
	})
	return gone
}
