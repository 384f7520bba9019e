package cache

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestFlightsSendIdenticalRequestsOnce: requests that arrive while an
// identical one is in progress take its answer; another key is sent on
// its own.
func TestFlightsSendIdenticalRequestsOnce(t *testing.T) {
	var f flights
	var sent atomic.Int32
	release := make(chan struct{})
	fetch := func(answer string) func() ([]byte, bool) {
		return func() ([]byte, bool) {
			sent.Add(1)
			<-release
			return []byte(answer), true
		}
	}
	var wg sync.WaitGroup
	results := make([]string, 8)
	var shared atomic.Int32
	for i := range results {
		k := "a"
		if i == 7 {
			k = "b"
		}
		wg.Go(func() {
			body, ok, s := f.do(context.Background(), k, fetch(k))
			if !ok {
				t.Error("a fetch failed")
			}
			if s {
				shared.Add(1)
			}
			results[i] = string(body)
		})
	}
	waitFor(t, func() bool { return sent.Load() == 2 && waiters(&f, "a") == 6 })
	close(release)
	wg.Wait()
	if sent.Load() != 2 || shared.Load() != 6 {
		t.Errorf("%d requests sent and %d answers shared; want 2 (one per key) and 6", sent.Load(), shared.Load())
	}
	for i, r := range results {
		if want := map[bool]string{true: "b", false: "a"}[i == 7]; r != want {
			t.Errorf("caller %d got %q, want %q", i, r, want)
		}
	}
	if inFlight(&f, "a") || inFlight(&f, "b") {
		t.Error("finished requests are still listed as in progress")
	}
}

// TestFlightsDoNotPassOnAFailure: when the request a caller waited for
// fails (its own client may have left), the caller sends its own; a
// caller whose context ends stops waiting.
func TestFlightsDoNotPassOnAFailure(t *testing.T) {
	var f flights
	release := make(chan struct{})
	go f.do(context.Background(), "k", func() ([]byte, bool) { <-release; return nil, false })
	waitFor(t, func() bool { return inFlight(&f, "k") })

	own := make(chan string, 1)
	go func() {
		body, ok, shared := f.do(context.Background(), "k", func() ([]byte, bool) { return []byte("own"), true })
		if !ok || shared {
			t.Errorf("ok %v shared %v; want its own answer", ok, shared)
		}
		own <- string(body)
	}()
	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan bool, 1)
	go func() {
		_, ok, _ := f.do(ctx, "k", func() ([]byte, bool) { t.Error("a departed caller fetched"); return nil, true })
		gone <- ok
	}()
	waitFor(t, func() bool { return waiters(&f, "k") == 2 })
	cancel()
	if ok := <-gone; ok {
		t.Error("a caller whose context ended got an answer")
	}
	close(release)
	if got := <-own; got != "own" {
		t.Errorf("after the leader failed, the waiter got %q; want its own answer", got)
	}
}

func waiters(f *flights, k string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fl, ok := f.m[k]; ok {
		return fl.waiters
	}
	return -1
}

func inFlight(f *flights, k string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.m[k]
	return ok
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("condition never met")
}

// TestFetchKeysSeparateScopes: requests in progress are shared only when
// sent identically: another org ID, another enforced query or another
// range is another key.
func TestFetchKeysSeparateScopes(t *testing.T) {
	req := func(org string) *http.Request {
		r, _ := http.NewRequest(http.MethodPost, "http://prometheus:9090/api/v1/query_range", nil)
		if org != "" {
			r.Header.Set("X-Scope-OrgID", org)
		}
		return r
	}
	ps := func(q, start string) url.Values {
		return url.Values{"query": {q}, "start": {start}, "end": {"600"}, "step": {"30"}}
	}
	base := key(kindFetch, req(""), ps(`up{namespace="a"}`, "0"), nil)
	for name, other := range map[string]string{
		"org ID": key(kindFetch, req("team-b"), ps(`up{namespace="a"}`, "0"), nil),
		"scope":  key(kindFetch, req(""), ps(`up{namespace="b"}`, "0"), nil),
		"range":  key(kindFetch, req(""), ps(`up{namespace="a"}`, "30"), nil),
	} {
		if other == base {
			t.Errorf("another %s, same key", name)
		}
	}
	if again := key(kindFetch, req(""), ps(`up{namespace="a"}`, "0"), nil); again != base {
		t.Error("the same request has two keys")
	}
}
