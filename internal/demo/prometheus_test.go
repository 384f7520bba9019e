package demo_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/demo"
	"github.com/tollgate-dev/tollgate/internal/demo/synth"
)

// syncBuffer is a log destination the test reads while the demo writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func smallPrometheus(t *testing.T, binary string, logs io.Writer) *demo.Prometheus {
	t.Helper()
	return demo.NewPrometheus(demo.PrometheusOptions{
		Binary:        binary,
		Cluster:       synth.Default(),
		History:       10 * time.Minute,
		Step:          time.Second,
		RuleInterval:  time.Second,
		CoarseHistory: 10 * time.Minute, // no coarse history
		ReadyTimeout:  time.Minute,
		StopTimeout:   2 * time.Second,
		Logger:        slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
}

// The demo's Prometheus is a child process: it serves once Start returns,
// its log reads like the demo's own, and Stop leaves neither the process
// nor its directory behind.
func TestPrometheusChildProcess(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var logs syncBuffer
	p := smallPrometheus(t, prometheusBinary(t), &logs)
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	url := p.URL()
	resp, err := http.Get(url + "/-/ready")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/-/ready: %d", resp.StatusCode)
	}
	if data := p.Section().Lines[1]; !strings.Contains(data, "276 synthetic series of cluster prod-eu-west-1, 10m of history every 1s") {
		t.Errorf("banner line %q does not give the series loaded", data)
	}
	// Durations as the demo's own log writes them, not JSON nanoseconds.
	if log := logs.String(); !strings.Contains(log, `level=INFO msg="loaded synthetic history" series=276 `) || !strings.Contains(log, " step=1s ") {
		t.Errorf("the child's log is not relayed as the demo's own:\n%s", log)
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(url + "/-/ready"); err == nil {
		resp.Body.Close()
		t.Errorf("%s still answers after Stop", url)
	}
	checkEmptyDir(t, tmp)
	if strings.Contains(logs.String(), "exited unexpectedly") {
		t.Errorf("a requested stop was reported as unexpected:\n%s", logs.String())
	}
}

// A server that dies, or answers with something else than its hello, fails
// Start with its own words, and is cleaned up after.
func TestPrometheusStartFailsCleanly(t *testing.T) {
	bin := t.TempDir()
	for name, c := range map[string]struct{ script, want string }{
		"exits":        {"#!/bin/sh\necho 'flag provided but not defined: -cluster' >&2\nexit 3\n", "exited before it was ready (exit status 3); its last output:\nflag provided but not defined: -cluster"},
		"not its line": {"#!/bin/sh\necho 'Prometheus 2.42 listening'\nexec sleep 30\n", `announced itself with "Prometheus 2.42 listening"`},
	} {
		t.Run(name, func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			script := filepath.Join(bin, strings.ReplaceAll(name, " ", "-"))
			writeFile(t, script, c.script, 0o755)
			p := smallPrometheus(t, script, io.Discard)
			err := p.Start(t.Context())
			if err == nil {
				_ = p.Stop()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
			checkEmptyDir(t, tmp)
		})
	}
	p := smallPrometheus(t, "", io.Discard)
	if err := p.Start(t.Context()); !errors.Is(err, demo.ErrPrometheusNotFound) {
		t.Errorf("Start without a binary: %v, want ErrPrometheusNotFound", err)
	}
}

// With --exit-on-stdin-close the server stops when its parent's end of
// stdin closes, as it does when the demo is killed: it never outlives the
// demo, even where there is no Pdeathsig.
func TestPrometheusExitsWhenStdinCloses(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, prometheusBinary(t), "--data-dir="+filepath.Join(t.TempDir(), "data"),
		"--history=5m", "--coarse-history=0s", "--log-level=warn", "--exit-on-stdin-close")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	hello := make([]byte, 256)
	n, err := stdout.Read(hello)
	if err != nil || !bytes.Contains(hello[:n], []byte(`"url":"http://127.0.0.1:`)) {
		t.Fatalf("no hello: %q, %v", hello[:n], err)
	}
	stdin.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after stdin closed: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Error("still running 20s after its stdin closed")
		_ = cmd.Process.Kill()
		<-done
	}
}
