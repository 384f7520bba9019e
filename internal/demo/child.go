package demo

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"
)

// child is a server the demo runs as a child process: Loki, and the demo's
// Prometheus. It stays under the demo's control (childAttrs) and is stopped
// by it, after the gateway has drained.
type child struct {
	name   string
	cmd    *exec.Cmd
	output *tailWriter
	// exited is closed once the process has exited; err is then its
	// exit status.
	exited   chan struct{}
	err      error
	stopping chan struct{}
}

// startChild starts cmd with its stdout and stderr, unless cmd already has
// a stdout, going to a tailWriter that calls line for each line. name is
// how messages refer to the process ("Loki").
func startChild(name string, cmd *exec.Cmd, line func(string)) (*child, error) {
	out := &tailWriter{max: 64 << 10, line: line}
	if cmd.Stdout == nil {
		cmd.Stdout = out
	}
	cmd.Stderr = out
	cmd.SysProcAttr = childAttrs()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s (%s): %w", name, cmd.Path, err)
	}
	p := &child{name: name, cmd: cmd, output: out, exited: make(chan struct{}), stopping: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// lastOutput is the end of the process's output for an error message, if
// any.
func (p *child) lastOutput() string {
	out := strings.TrimSpace(p.output.String())
	if out == "" {
		return ", without output"
	}
	return "; its last output:\n" + out
}

// watch reports an exit that nobody asked for (the process running out of
// memory, say, or being killed by hand) with msg. It returns when stop is
// called.
func (p *child) watch(logger *slog.Logger, msg string) {
	select {
	case <-p.stopping:
	case <-p.exited:
		select {
		case <-p.stopping:
		default:
			logger.Error(msg, "err", p.err, "output", strings.TrimSpace(p.output.String()))
		}
	}
}

// stop sends SIGTERM, and SIGKILL to the process group after timeout.
func (p *child) stop(timeout time.Duration) error {
	select {
	case <-p.stopping:
	default:
		close(p.stopping)
	}
	select {
	case <-p.exited:
		return nil
	default:
	}
	why := fmt.Sprintf("did not stop within %s of SIGTERM", timeout)
	if err := terminate(p.cmd.Process); err != nil && !errors.Is(err, os.ErrProcessDone) {
		why = fmt.Sprintf("could not be sent SIGTERM (%v)", err)
	} else {
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		select {
		case <-p.exited:
			return nil
		case <-timer.C:
		}
	}
	if err := kill(p.cmd.Process); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("%s %s, and killing it failed: %w", p.name, why, err)
	}
	<-p.exited
	return fmt.Errorf("%s %s and was killed", p.name, why)
}

// tailWriter keeps the end of a child's output for error messages, and
// passes each complete line to line.
type tailWriter struct {
	max  int
	line func(string)

	mu      sync.Mutex
	buf     []byte
	partial []byte
}

func (w *tailWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	if over := len(w.buf) - w.max; over > 0 {
		w.buf = slices.Delete(w.buf, 0, over)
	}
	w.partial = append(w.partial, b...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		if w.line != nil {
			w.line(string(w.partial[:i]))
		}
		w.partial = w.partial[i+1:]
	}
	if len(w.partial) > w.max {
		// No line is that long; drop what cannot be one.
		w.partial = w.partial[:0]
	}
	return len(b), nil
}

func (w *tailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}
