package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/internal/childproc"
)

// child is a server the demo runs as a child process (Loki,
// Alertmanager): its working directory, the process, its URL, and the
// goroutines that keep feeding it live data.
type child struct {
	dir      string
	proc     *childproc.Process
	url      string
	stopLive context.CancelFunc
	live     sync.WaitGroup
}

// stop ends the live feed, then the process (SIGTERM, then SIGKILL after
// timeout), and removes the directory; dirName names it in errors. It can
// be called again.
func (c *child) stop(timeout time.Duration, dirName string) error {
	var errs []error
	if c.stopLive != nil {
		c.stopLive()
		c.live.Wait()
		c.stopLive = nil
	}
	if c.proc != nil {
		if err := c.proc.Stop(timeout); err != nil {
			errs = append(errs, err)
		}
		c.proc = nil
	}
	if c.dir != "" {
		if err := os.RemoveAll(c.dir); err != nil {
			errs = append(errs, fmt.Errorf("removing %s: %w", dirName, err))
		}
		c.dir = ""
	}
	c.url = ""
	return errors.Join(errs...)
}

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
