package childproc

import (
	"os"
	"syscall"
)

// childAttrs keep a child under its parent's control. Its own process
// group keeps a Ctrl-C in the terminal from reaching it directly: the
// parent stops it, after the demo's gateway has drained. Pdeathsig kills
// it if the parent dies without stopping it (SIGKILL, a crash, a test
// binary that panicked), so it never outlives the parent. (Pdeathsig
// fires when the thread that started the child exits; the Go runtime only
// ends threads that a goroutine locked and did not unlock, which neither
// the demo nor the tests do.)
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// terminate asks the process to shut down cleanly.
func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }

// terminateGroup asks the process and everything in its process group to
// shut down cleanly.
func terminateGroup(p *os.Process) error { return syscall.Kill(-p.Pid, syscall.SIGTERM) }

// kill ends the process and anything it started, in its process group.
func kill(p *os.Process) error { return syscall.Kill(-p.Pid, syscall.SIGKILL) }
