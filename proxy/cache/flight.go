package cache

import (
	"context"
	"sync"
)

// flights coalesces identical backend requests in progress. Dashboards
// ask the same question many times at once: a variable's query from every
// dashboard that has it, the same panel on every screen in an incident
// room; Grafana aligns range queries to their step, so within a step all
// of them ask for the same fresh tail. One request goes to the backend,
// and those that ask for the same while it runs take its answer. The key
// is the request as sent (upstream, org ID, enforced parameters, range),
// so only callers whose answer would be the same share one.
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

type flight struct {
	done    chan struct{}
	body    []byte
	ok      bool
	waiters int // joined so far
}

// do returns fetch's answer, or the answer of an identical fetch in
// progress (shared reports which). A waiter whose leader failed fetches on
// its own rather than take another caller's failure: the leader's client
// may have left, ending its request. A waiter whose own context ends
// stops waiting.
func (f *flights) do(ctx context.Context, key string, fetch func() ([]byte, bool)) (body []byte, ok, shared bool) {
	f.mu.Lock()
	if fl, found := f.m[key]; found {
		fl.waiters++
		f.mu.Unlock()
		select {
		case <-fl.done:
			if fl.ok {
				return fl.body, true, true
			}
			body, ok = fetch()
			return body, ok, false
		case <-ctx.Done():
			return nil, false, false
		}
	}
	if f.m == nil {
		f.m = map[string]*flight{}
	}
	fl := &flight{done: make(chan struct{})}
	f.m[key] = fl
	f.mu.Unlock()
	defer func() { // also if fetch panics: waiters must not wait forever
		f.mu.Lock()
		delete(f.m, key)
		f.mu.Unlock()
		close(fl.done)
	}()
	fl.body, fl.ok = fetch()
	return fl.body, fl.ok, false
}
