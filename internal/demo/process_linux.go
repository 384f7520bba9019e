package demo

import (
	"os"
	"syscall"
)

// childAttrs keep Loki under the demo's control. Its own process group
// keeps a Ctrl-C in the terminal from reaching it directly: the demo stops
// it after the gateway has drained. Pdeathsig kills it if the demo dies
// without stopping it (SIGKILL, a crash), so it never outlives the demo.
// (Pdeathsig fires when the thread that started the child exits; the Go
// runtime only ends threads that a goroutine locked and did not unlock,
// which the demo never does.)
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// terminate asks the process to shut down cleanly.
func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }

// kill ends the process and anything it started, in its process group.
func kill(p *os.Process) error { return syscall.Kill(-p.Pid, syscall.SIGKILL) }
