//go:build !linux

package httpserver

import "syscall"

// fastSupported: elsewhere net/http serves every request.
const fastSupported = false

func peerGone(syscall.RawConn) bool { return false }
