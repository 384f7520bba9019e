// Command tollgate-demo-prometheus is the upstream of `tollgate demo`:
// Prometheus' own TSDB, PromQL engine, rule manager and HTTP API holding a
// synthetic cluster, with history loaded at startup and live samples
// appended as scraping would.
//
// It is a program of its own so that bin/tollgate, the gateway's image,
// links none of Prometheus' server packages: they bring the AWS, Azure and
// GCP SDKs, Consul and client-go of Prometheus' service discovery.
// `tollgate demo` runs it as a child process; `make demo` builds it next to
// bin/tollgate.
//
// Once it serves, it prints one line on stdout, {"url":"http://...",
// "series":N}, and runs until SIGINT or SIGTERM (or, with
// --exit-on-stdin-close, until its stdin closes).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/tollgate-dev/tollgate/internal/demo/promserver"
	"github.com/tollgate-dev/tollgate/internal/demo/synth"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "tollgate-demo-prometheus:", err)
		os.Exit(1)
	}
}

// flags are the command line.
type flags struct {
	dataDir, listen, clusterFile string
	history, step, ruleInterval  time.Duration
	coarseHistory, coarseStep    time.Duration
	logLevel, logFormat          string
	exitOnStdinClose             bool
}

func parseFlags(args []string, stderr io.Writer) (flags, error) {
	var f flags
	fs := pflag.NewFlagSet("tollgate-demo-prometheus", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.dataDir, "data-dir", "", "directory for the TSDB (required; it is not removed on exit)")
	fs.StringVar(&f.listen, "listen", "127.0.0.1:0", "address of the HTTP API; port 0 picks a free one")
	fs.StringVar(&f.clusterFile, "cluster", "", "JSON file with the synthetic cluster; empty uses the demo's default cluster")
	fs.DurationVar(&f.history, "history", 6*time.Hour, "synthetic history loaded at startup at --step")
	fs.DurationVar(&f.step, "step", 30*time.Second, "spacing of the samples, backfilled and live")
	fs.DurationVar(&f.ruleInterval, "rule-interval", 15*time.Second, "evaluation interval of the demo rules")
	fs.DurationVar(&f.coarseHistory, "coarse-history", 7*24*time.Hour, "history loaded before --history at --coarse-step")
	fs.DurationVar(&f.coarseStep, "coarse-step", 5*time.Minute, "spacing of the coarse history")
	fs.StringVar(&f.logLevel, "log-level", "info", "minimum log level: debug, info, warn or error (debug also lets Prometheus' own components speak)")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format on stderr: text or json")
	fs.BoolVar(&f.exitOnStdinClose, "exit-on-stdin-close", false, "stop when stdin reaches its end (a parent holding the pipe open)")
	if err := fs.Parse(args); err != nil {
		return flags{}, err
	}
	if fs.NArg() > 0 {
		return flags{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if f.dataDir == "" {
		return flags{}, errors.New("--data-dir is required")
	}
	return f, nil
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	f, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger, err := newLogger(stderr, f.logLevel, f.logFormat)
	if err != nil {
		return err
	}
	cluster := synth.Default()
	if f.clusterFile != "" {
		if cluster, err = readCluster(f.clusterFile); err != nil {
			return err
		}
	}
	srv, err := promserver.New(promserver.Options{
		Cluster: cluster, Dir: f.dataDir, Listen: f.listen,
		History: f.history, Step: f.step, RuleInterval: f.ruleInterval,
		CoarseHistory: f.coarseHistory, CoarseStep: f.coarseStep,
		Logger: logger,
	})
	if err != nil {
		return err
	}
	if f.exitOnStdinClose {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		go func() {
			// Nothing is ever sent; the read returns when the parent's
			// end closes, on purpose or because the parent died.
			_, _ = io.Copy(io.Discard, stdin)
			cancel()
		}()
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	hello, err := json.Marshal(map[string]any{"url": srv.URL(), "series": srv.Series()})
	if err == nil {
		_, err = fmt.Fprintf(stdout, "%s\n", hello)
	}
	if err != nil {
		return errors.Join(fmt.Errorf("announcing the URL: %w", err), srv.Stop())
	}
	<-ctx.Done()
	return srv.Stop()
}

func readCluster(path string) (synth.Cluster, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return synth.Cluster{}, fmt.Errorf("reading the synthetic cluster: %w", err)
	}
	var c synth.Cluster
	if err := json.Unmarshal(b, &c); err != nil {
		return synth.Cluster{}, fmt.Errorf("reading the synthetic cluster from %s: %w", path, err)
	}
	if len(c.Namespaces) == 0 {
		return synth.Cluster{}, fmt.Errorf("the synthetic cluster in %s has no namespaces", path)
	}
	return c, nil
}

// newLogger writes durations as Go durations ("30s") in JSON too, where
// slog would write nanoseconds: the demo relays the records to its own log,
// which should read as it did when this server ran inside it.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Value.Kind() == slog.KindDuration {
			return slog.String(a.Key, a.Value.Duration().String())
		}
		return a
	}}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("--log-format %q: use text or json", format)
	}
}
