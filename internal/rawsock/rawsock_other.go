//go:build !linux

package rawsock

import "net"

// Wrap returns c: elsewhere the net package's calls are used.
func Wrap(c net.Conn) net.Conn { return c }
