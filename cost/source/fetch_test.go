package source

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/cost/allocation"
	"github.com/tollgate-dev/tollgate/cost/pricing"
)

// A query that fails cancels the chunk's other queries: those in flight
// see their requests cancelled, none is started after the failure, and
// the error names the failing query and quotes Prometheus's own error.
func TestFailingQueryCancelsItsSiblings(t *testing.T) {
	var (
		mu                     sync.Mutex
		asked, cancelled, done int
	)
	inFlight := make(chan struct{}) // closed when a full batch of queries has arrived
	failing := Queries(time.Hour)[0]
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if asked++; asked == maxParallelQueries {
			close(inFlight)
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.FormValue("query") == failing.PromQL {
			// Fail once the siblings are in flight.
			select {
			case <-inFlight:
			case <-time.After(5 * time.Second):
			}
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"status":"error","errorType":"bad_data","error":"boom"}`))
			return
		}
		select {
		case <-r.Context().Done():
			mu.Lock()
			cancelled++
			mu.Unlock()
		case <-time.After(5 * time.Second):
			// Only reached when nothing cancels the request.
			mu.Lock()
			done++
			mu.Unlock()
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"matrix","result":[]}}`))
		}
	}))
	defer prom.Close()
	u, _ := url.Parse(prom.URL)
	src := New(Options{URL: u, Prices: pricing.New(pricing.Options{})})
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	acc := allocation.NewAccumulator(start, 0)

	_, err := src.Load(context.Background(), acc, Window{Start: start, End: start.Add(24 * time.Hour), Resolution: time.Hour}, nil)
	if err == nil || !strings.Contains(err.Error(), "querying "+failing.Name+": ") || !strings.Contains(err.Error(), "bad_data: boom") {
		t.Fatalf("error %v, want one naming %q and quoting Prometheus", err, failing.Name)
	}
	prom.Close() // waits for the handlers
	mu.Lock()
	defer mu.Unlock()
	if done != 0 {
		t.Errorf("%d sibling queries ran to the end after one had failed", done)
	}
	if cancelled != maxParallelQueries-1 {
		t.Errorf("%d sibling queries were cancelled, want the %d in flight with the failing one", cancelled, maxParallelQueries-1)
	}
	if asked != maxParallelQueries {
		t.Errorf("Prometheus was asked %d queries, want %d: none may start after a failure", asked, maxParallelQueries)
	}
}
