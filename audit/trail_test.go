package audit_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tollgate-dev/tollgate/audit"
)

func readRecords(t *testing.T, path string) []audit.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []audit.Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q is not a record: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

func TestFileIsAppendedAndPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	for round, ids := range [][]string{{"a", "b"}, {"c"}} {
		tr, err := audit.New(audit.Config{File: path}, audit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			tr.Record(audit.Record{RequestID: id, Decision: audit.Allowed, Time: time.Now()})
		}
		if err := tr.Close(context.Background()); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	var got []string
	for _, r := range readRecords(t, path) {
		got = append(got, r.RequestID)
	}
	if len(got) != 3 || got[0] != "a" || got[1] != "b" || got[2] != "c" {
		t.Fatalf("records after two runs: %v, want [a b c] (the second run appends)", got)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("audit file mode %v, want 0600", st.Mode().Perm())
	}
}

// deadLoki is the address of a port nobody listens on: Loki down.
func deadLoki(t *testing.T) *url.URL {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &url.URL{Scheme: "http", Host: ln.Addr().String()}
	ln.Close()
	return u
}

func TestSinkDownDropsAndFailsClosed(t *testing.T) {
	for _, failClosed := range []bool{false, true} {
		reg := prometheus.NewRegistry()
		tr, err := audit.New(audit.Config{LokiOrgID: "audit", FailClosed: failClosed, QueueSize: 4, BatchSize: 1, FlushInterval: audit.Duration(time.Millisecond)},
			audit.Options{Loki: deadLoki(t), Registerer: reg})
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Refusing(); err != nil {
			t.Fatalf("fail_closed=%v before any failure: %v", failClosed, err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for tr.Refusing() == nil && time.Now().Before(deadline) && testutil.ToFloat64(counter(t, reg, "tollgate_audit_records_dropped_total")) < 3 {
			tr.Record(audit.Record{RequestID: "x", Time: time.Now()})
			time.Sleep(5 * time.Millisecond)
		}
		err = tr.Refusing()
		switch {
		case failClosed && !errors.Is(err, audit.ErrUnavailable):
			t.Errorf("fail_closed with Loki down: Refusing() = %v, want ErrUnavailable", err)
		case !failClosed && err != nil:
			t.Errorf("fail_closed false: Refusing() = %v, want nil", err)
		}
		if !failClosed {
			// The writer holds one record, the queue four: the rest drop.
			if n := testutil.ToFloat64(counter(t, reg, "tollgate_audit_records_dropped_total")); n < 3 {
				t.Errorf("dropped = %v with the sink down and the queue full, want ≥ 3", n)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = tr.Close(ctx)
		cancel()
	}
}

func counter(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "probe"}, func() float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Error(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == name && len(mf.GetMetric()) > 0 {
				return mf.GetMetric()[0].GetCounter().GetValue()
			}
		}
		return 0
	})
}
