package audit

import (
	"context"
	"encoding/json"
	"sort"
	"time"
)

// Retry delays of a failing sink: the writer keeps the batch and tries
// again, while the queue absorbs (then drops, or with fail_closed
// refuses) what comes meanwhile.
const (
	minRetry = 250 * time.Millisecond
	maxRetry = 10 * time.Second
)

// run is the writer: every flush interval, or at once while a full batch
// is waiting, it takes a batch, encodes it and writes it to every sink,
// until Close. It never waits on the queue itself: a sender that found
// the writer waiting would wake it, and that wake-up would be paid on the
// request path.
func (t *Trail) run() {
	defer close(t.done)
	tick := time.NewTicker(time.Duration(t.cfg.FlushInterval))
	defer tick.Stop()
	batch := make([]Record, 0, t.cfg.BatchSize)
	stopping := false
	for {
		if !stopping && len(t.queue) < t.cfg.BatchSize {
			select {
			case <-tick.C:
			case <-t.stop:
				stopping = true
			}
		}
		batch = t.drain(batch[:0])
		if len(batch) > 0 {
			t.writeBatch(batch, stopping)
		}
		if stopping && len(t.queue) == 0 {
			return
		}
	}
}

func (t *Trail) drain(batch []Record) []Record {
	for len(batch) < t.cfg.BatchSize {
		select {
		case r := <-t.queue:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// writeBatch writes a batch to each sink, retrying a failing one until it
// takes the batch (or, when stopping, once). The records are encoded into
// one buffer reused from batch to batch: the writer's garbage is garbage
// the request path's allocations pay for in GC assists.
func (t *Trail) writeBatch(batch []Record, stopping bool) {
	sort.SliceStable(batch, func(i, j int) bool { return batch[i].Time.Before(batch[j].Time) })
	t.buf.Reset()
	enc := json.NewEncoder(&t.buf)
	ends, times := t.ends[:0], t.times[:0]
	for _, r := range batch {
		if err := enc.Encode(r); err != nil { // a Record always encodes; never reached
			t.logger.Error("encoding an audit record", "err", err)
			t.drop(1)
			continue
		}
		ends, times = append(ends, t.buf.Len()), append(times, r.Time)
	}
	all := t.buf.Bytes()
	lines := t.lines[:0]
	start := 0
	for _, end := range ends {
		lines = append(lines, all[start:end-1]) // without the newline
		start = end
	}
	t.ends, t.times, t.lines = ends, times, lines
	for _, s := range t.sinks {
		t.writeSink(s, lines, times, stopping)
	}
	t.written.Add(float64(len(lines)))
}

func (t *Trail) writeSink(s sink, lines [][]byte, times []time.Time, stopping bool) {
	delay := minRetry
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := s.write(ctx, lines, times)
		cancel()
		if err == nil {
			t.failing.Store(false)
			return
		}
		t.sinkErrors.WithLabelValues(s.name()).Inc()
		if permanent(err) || stopping {
			t.logger.Error("audit records lost", "sink", s.name(), "records", len(lines), "err", err)
			t.drop(len(lines))
			return
		}
		t.failing.Store(true)
		t.logger.Error("writing audit records; retrying", "sink", s.name(), "records", len(lines), "retry_in", delay, "err", err)
		select {
		case <-time.After(delay):
		case <-t.stop:
			stopping = true
		}
		delay = min(2*delay, maxRetry)
	}
}
