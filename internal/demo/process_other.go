//go:build !linux

package demo

import (
	"os"
	"syscall"
)

// childAttrs are left at their defaults outside Linux, which has no
// Pdeathsig: if the demo is killed outright, Loki keeps running there.
func childAttrs() *syscall.SysProcAttr { return nil }

// terminate asks the process to shut down cleanly where signals exist, and
// ends it where they do not (Windows).
func terminate(p *os.Process) error {
	if err := p.Signal(os.Interrupt); err != nil {
		return p.Kill()
	}
	return nil
}

// kill ends the process.
func kill(p *os.Process) error { return p.Kill() }
