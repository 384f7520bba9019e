package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ErrUnavailable is what Refusing returns while records cannot be kept.
var ErrUnavailable = errors.New("the audit trail cannot record requests")

// Options configure a Trail besides its Config.
type Options struct {
	// Loki is upstreams.loki, for audit.loki_org_id.
	Loki      *url.URL
	Transport http.RoundTripper
	// Stdout is where audit.stdout writes (os.Stdout when nil).
	Stdout     io.Writer
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Trail is the audit trail: a bounded queue and the writer that drains it
// into the sinks.
type Trail struct {
	cfg     Config
	queue   chan Record
	sinks   []sink
	logger  *slog.Logger
	failing atomic.Bool
	lost    atomic.Int64
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once

	// the writer's buffers, reused from batch to batch
	buf   bytes.Buffer
	ends  []int
	times []time.Time
	lines [][]byte

	dropped, written prometheus.Counter
	sinkErrors       *prometheus.CounterVec
}

// sink is one place records go; write gets a batch of JSON lines.
type sink interface {
	name() string
	write(ctx context.Context, lines [][]byte, times []time.Time) error
	close() error
}

// New opens the sinks and starts the writer. Close stops it.
func New(cfg Config, opts Options) (*Trail, error) {
	cfg.ApplyDefaults()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	t := &Trail{cfg: cfg, queue: make(chan Record, cfg.QueueSize), logger: opts.Logger,
		stop: make(chan struct{}), done: make(chan struct{})}
	if err := t.openSinks(opts); err != nil {
		return nil, err
	}
	if err := t.registerMetrics(opts.Registerer); err != nil {
		t.closeSinks()
		return nil, err
	}
	go t.run()
	return t, nil
}

func (t *Trail) openSinks(opts Options) error {
	cfg := t.cfg
	if cfg.File != "" {
		f, err := os.OpenFile(cfg.File, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("audit.file: opening %s: %w", cfg.File, err)
		}
		t.sinks = append(t.sinks, &writerSink{label: "file", w: f, c: f})
	}
	if cfg.Stdout {
		out := opts.Stdout
		if out == nil {
			out = os.Stdout
		}
		t.sinks = append(t.sinks, &writerSink{label: "stdout", w: out})
	}
	if cfg.LokiOrgID != "" {
		if opts.Loki == nil {
			return errors.New("audit.loki_org_id is set but upstreams.loki is not")
		}
		t.sinks = append(t.sinks, newLokiSink(opts.Loki, cfg.LokiOrgID, opts.Transport))
	}
	return nil
}

func (t *Trail) registerMetrics(reg prometheus.Registerer) error {
	t.dropped = prometheus.NewCounter(prometheus.CounterOpts{Name: "tollgate_audit_records_dropped_total",
		Help: "Audit records lost: the queue was full (audit.queue_size), or a sink refused them for good."})
	t.written = prometheus.NewCounter(prometheus.CounterOpts{Name: "tollgate_audit_records_written_total",
		Help: "Audit records written to every sink."})
	t.sinkErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_audit_sink_errors_total",
		Help: "Failed writes to an audit sink (file, stdout, loki); each is retried."}, []string{"sink"})
	if reg == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{t.dropped, t.written, t.sinkErrors} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("registering the audit metrics: %w", err)
		}
	}
	return nil
}

// Record queues a record without waiting: when the queue is full the
// record is dropped and counted.
func (t *Trail) Record(r Record) {
	select {
	case t.queue <- r:
	default:
		t.drop(1)
	}
}

func (t *Trail) drop(n int) {
	t.dropped.Add(float64(n))
	t.lost.Add(int64(n))
}

// Lost counts the records dropped so far.
func (t *Trail) Lost() int64 { return t.lost.Load() }

// FailClosed reports whether audit.fail_closed is set.
func (t *Trail) FailClosed() bool { return t.cfg.FailClosed }

// Refusing returns ErrUnavailable, with why, when audit.fail_closed is set
// and a sink is failing or the queue is full; nil otherwise.
func (t *Trail) Refusing() error {
	if !t.cfg.FailClosed {
		return nil
	}
	if t.failing.Load() {
		return fmt.Errorf("%w: an audit sink is failing, and audit.fail_closed is set", ErrUnavailable)
	}
	if len(t.queue) >= cap(t.queue) {
		return fmt.Errorf("%w: the audit queue is full (audit.queue_size: %d), and audit.fail_closed is set", ErrUnavailable, cap(t.queue))
	}
	return nil
}

// Close writes what is queued (until ctx ends) and closes the sinks.
func (t *Trail) Close(ctx context.Context) error {
	t.once.Do(func() { close(t.stop) })
	select {
	case <-t.done:
	case <-ctx.Done():
		return fmt.Errorf("flushing the audit trail: %w", ctx.Err())
	}
	return t.closeSinks()
}

func (t *Trail) closeSinks() error {
	var errs []error
	for _, s := range t.sinks {
		errs = append(errs, s.close())
	}
	return errors.Join(errs...)
}
