//go:build !linux

package childproc

import (
	"os"
	"syscall"
)

// childAttrs are left at their defaults outside Linux, which has no
// Pdeathsig: if the parent is killed outright, the child keeps running
// there.
func childAttrs() *syscall.SysProcAttr { return nil }

// terminate asks the process to shut down cleanly where signals exist, and
// ends it where they do not (Windows).
func terminate(p *os.Process) error {
	if err := p.Signal(os.Interrupt); err != nil {
		return p.Kill()
	}
	return nil
}

// terminateGroup is terminate: without a process group of its own, the
// child is all there is to signal.
func terminateGroup(p *os.Process) error { return terminate(p) }

// kill ends the process.
func kill(p *os.Process) error { return p.Kill() }
