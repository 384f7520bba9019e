// Package childproc runs servers as child processes, for the demo (Loki,
// the demo Prometheus) and for end-to-end tests (Prometheus, Alertmanager,
// Loki, Chromium): each in its own process group and, on Linux, killed
// with its parent; its output kept for error messages; its readiness
// polled; stopped with SIGTERM, then SIGKILL of its process group.
package childproc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Options configure Start.
type Options struct {
	// Name is how messages refer to the process ("Loki").
	Name string
	// Line, if set, is called with each complete line of output.
	Line func(string)
	// Keep is how many bytes of the end of the output are kept for error
	// messages; 0 keeps all of it.
	Keep int
	// TermGroup sends SIGTERM to the whole process group rather than to
	// the process alone, for programs whose helpers do not stop with
	// their parent (Chromium's renderers).
	TermGroup bool
}

// Process is a started child process.
type Process struct {
	name      string
	termGroup bool
	cmd       *exec.Cmd
	output    *outputWriter
	// exited is closed once the process has exited; err is then its
	// exit status.
	exited   chan struct{}
	err      error
	stopping chan struct{}
}

// Start starts cmd with its stdout and stderr, unless cmd already has a
// stdout, going to the kept output and opts.Line. Its error is exec's,
// which names the binary; the caller says which process failed.
func Start(cmd *exec.Cmd, opts Options) (*Process, error) {
	out := &outputWriter{keep: opts.Keep, line: opts.Line}
	if cmd.Stdout == nil {
		cmd.Stdout = out
	}
	cmd.Stderr = out
	cmd.SysProcAttr = childAttrs()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{
		name: opts.Name, termGroup: opts.TermGroup, cmd: cmd, output: out,
		exited: make(chan struct{}), stopping: make(chan struct{}),
	}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// Exited is closed once the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Err is the process's exit status once Exited is closed, nil before.
func (p *Process) Err() error {
	select {
	case <-p.exited:
		return p.err
	default:
		return nil
	}
}

// Output is the kept output of the process.
func (p *Process) Output() string { return p.output.String() }

// LastOutput is the end of the process's output for an error message, if
// any.
func (p *Process) LastOutput() string {
	out := strings.TrimSpace(p.output.String())
	if out == "" {
		return ", without output"
	}
	return "; its last output:\n" + out
}

// Watch reports an exit that nobody asked for (the process running out of
// memory, say, or being killed by hand) with msg. It returns when Stop is
// called.
func (p *Process) Watch(logger *slog.Logger, msg string) {
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

// Stop sends SIGTERM, and SIGKILL to the process group after timeout. It
// returns once the process has exited, with an error if it had to be
// killed.
func (p *Process) Stop(timeout time.Duration) error {
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
	if err := p.terminate(); err != nil && !errors.Is(err, os.ErrProcessDone) {
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

func (p *Process) terminate() error {
	if p.termGroup {
		return terminateGroup(p.cmd.Process)
	}
	return terminate(p.cmd.Process)
}

// ErrExited is what WaitReady returns when the process exited before it
// was ready; Err then tells how.
var ErrExited = errors.New("the process exited before it was ready")

// WaitReady calls probe at once and then every interval until it reports
// ready (nil), the process exits (ErrExited) or ctx ends (ctx.Err()).
// progress, if not nil, is called every progressEvery meanwhile, with the
// time waited, so that a slow start does not look like a hang.
func (p *Process) WaitReady(ctx context.Context, interval time.Duration, probe func(context.Context) bool,
	progressEvery time.Duration, progress func(elapsed time.Duration)) error {
	began := time.Now()
	poll := time.NewTicker(interval)
	defer poll.Stop()
	var progressC <-chan time.Time
	if progress != nil {
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		progressC = t.C
	}
	for {
		if probe(ctx) {
			return nil
		}
		select {
		case <-p.exited:
			return ErrExited
		case <-ctx.Done():
			return ctx.Err()
		case <-progressC:
			progress(time.Since(began))
		case <-poll.C:
		}
	}
}
