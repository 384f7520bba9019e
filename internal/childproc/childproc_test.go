package childproc_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/childproc"
)

func start(t *testing.T, script string, opts childproc.Options) *childproc.Process {
	t.Helper()
	p, err := childproc.Start(exec.Command("/bin/sh", "-c", script), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop(time.Second) })
	return p
}

// Each complete line reaches Line; the kept output is the end of it, as
// much as Keep asks for.
func TestOutputLinesAndTail(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	p := start(t, `echo one; echo two >&2; printf 'three\nfour'`, childproc.Options{
		Name: "sh",
		Line: func(l string) { mu.Lock(); lines = append(lines, l); mu.Unlock() },
		Keep: 9,
	})
	<-p.Exited()
	if err := p.Err(); err != nil {
		t.Fatalf("exit: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(lines, "|"); got != "one|two|three" {
		t.Errorf("lines %q, want one|two|three (the unfinished four is no line)", got)
	}
	if got := p.Output(); got != "hree\nfour" {
		t.Errorf("kept output %q, want the last 9 bytes", got)
	}
	if got := p.LastOutput(); got != "; its last output:\nhree\nfour" {
		t.Errorf("LastOutput %q", got)
	}
}

// A process that ignores SIGTERM is killed after the timeout, and Stop
// says so, naming it.
func TestStopKillsWhatIgnoresSIGTERM(t *testing.T) {
	p := start(t, `trap '' TERM; echo trapped; while :; do sleep 0.1; done`, childproc.Options{Name: "the stubborn one"})
	probe := func(context.Context) bool { return strings.Contains(p.Output(), "trapped") }
	if err := p.WaitReady(t.Context(), 10*time.Millisecond, probe, 0, nil); err != nil {
		t.Fatal(err)
	}
	err := p.Stop(200 * time.Millisecond)
	if err == nil || err.Error() != "the stubborn one did not stop within 200ms of SIGTERM and was killed" {
		t.Errorf("Stop: %v", err)
	}
	select {
	case <-p.Exited():
	default:
		t.Error("Stop returned before the process exited")
	}
}

// A process that stops on SIGTERM stops without an error, and Watch does
// not report the requested stop.
func TestStopIsNotReportedAsUnexpected(t *testing.T) {
	var log bytes.Buffer
	p := start(t, `exec sleep 30`, childproc.Options{Name: "sleep"})
	done := make(chan struct{})
	go func() { p.Watch(slog.New(slog.NewTextHandler(&log, nil)), "sleep exited unexpectedly"); close(done) }()
	if err := p.Stop(10 * time.Second); err != nil {
		t.Errorf("Stop: %v", err)
	}
	<-done
	if log.Len() != 0 {
		t.Errorf("a requested stop was reported: %s", log.String())
	}
}

// An exit nobody asked for is reported, with the process's output.
func TestWatchReportsUnexpectedExit(t *testing.T) {
	var log bytes.Buffer
	p := start(t, `echo out of memory; exit 2`, childproc.Options{Name: "sh"})
	p.Watch(slog.New(slog.NewTextHandler(&log, nil)), "sh exited unexpectedly")
	if got := log.String(); !strings.Contains(got, `msg="sh exited unexpectedly" err="exit status 2" output="out of memory"`) {
		t.Errorf("log %q", got)
	}
}

// WaitReady tells an exit before readiness from a timeout.
func TestWaitReady(t *testing.T) {
	never := func(context.Context) bool { return false }
	p := start(t, `exit 3`, childproc.Options{Name: "sh"})
	if err := p.WaitReady(t.Context(), 10*time.Millisecond, never, 0, nil); !errors.Is(err, childproc.ErrExited) {
		t.Errorf("exited: %v, want ErrExited", err)
	}
	if err := p.Err(); err == nil || err.Error() != "exit status 3" {
		t.Errorf("Err: %v", err)
	}

	p = start(t, `exec sleep 30`, childproc.Options{Name: "sleep"})
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	var progress int
	err := p.WaitReady(ctx, 10*time.Millisecond, never, 50*time.Millisecond, func(time.Duration) { progress++ })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: %v, want the context's error", err)
	}
	if progress == 0 {
		t.Error("no progress reported while waiting")
	}
	if p.Err() != nil {
		t.Errorf("Err of a running process: %v", p.Err())
	}
}
