// Package cputime reads the process's CPU time, for tests that bound the
// work a hostile input may cost: CPU time measures work done, whatever
// the machine's load does to wall time.
package cputime

import (
	"syscall"
	"testing"
	"time"
)

// Process returns the user plus system CPU time the process has used.
func Process(t testing.TB) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatalf("reading the process's CPU time: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
