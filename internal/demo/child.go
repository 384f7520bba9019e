package demo

import (
	"fmt"

	"github.com/tollgate-dev/tollgate/internal/childproc"
)

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	port, err := childproc.FreePort()
	if err != nil {
		return 0, fmt.Errorf("finding a free port for Loki: %w", err)
	}
	return port, nil
}

// childOutput is how much of the end of a child's output the demo keeps
// for its error messages.
const childOutput = 64 << 10
