package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/cost"
	"github.com/tollgate-dev/tollgate/cost/allocation"
	"github.com/tollgate-dev/tollgate/cost/api"
	"github.com/tollgate-dev/tollgate/cost/source"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// gateLoader stands in for Prometheus: every Load announces itself on
// entered and then waits for release to be closed, so that a test holds
// computations in flight for as long as it likes without sleeping.
type gateLoader struct {
	entered chan struct{}
	release chan struct{}
	loads   atomic.Int64
	steps   atomic.Int64 // the most steps one Load was asked for
}

func newGateLoader() *gateLoader {
	return &gateLoader{entered: make(chan struct{}, 64), release: make(chan struct{})}
}

func (g *gateLoader) Load(ctx context.Context, _ *allocation.Accumulator, w source.Window, _ func(int, int)) (source.Labels, error) {
	g.loads.Add(1)
	for {
		s := g.steps.Load()
		if int64(w.Steps()) <= s || g.steps.CompareAndSwap(s, int64(w.Steps())) {
			break
		}
	}
	g.entered <- struct{}{}
	select {
	case <-g.release:
		return source.Labels{}, nil
	case <-ctx.Done():
		return source.Labels{}, ctx.Err()
	}
}

var limitsNow = time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC)

func limitsTenancy(t *testing.T) *tenancy.Tenancy {
	t.Helper()
	tn, err := tenancy.New(tenancy.Config{
		Label:       "namespace",
		AdminGroups: []string{"platform-sre"},
		Tenants: []tenancy.TenantConfig{
			{Name: "payments", Groups: []string{"team-payments"}, Namespaces: []string{"team-payments-prod"}},
			{Name: "checkout", Groups: []string{"team-checkout"}, Namespaces: []string{"team-checkout-prod"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

type apiError struct {
	Code      int    `json:"code"`
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Message   string `json:"message"`
}

func serve(h *api.Handler, a tenancy.Access, path string, params url.Values) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.Serve(rec, httptest.NewRequest(http.MethodGet, path+"?"+params.Encode(), nil), a)
	return rec
}

func decodeError(t *testing.T, rec *httptest.ResponseRecorder) apiError {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Fatalf("%d %s: not the API's error format: %v", rec.Code, rec.Body, err)
	}
	return e
}

// At most cost.max_concurrent_per_tenant computations run at once for a
// tenant; the next is 429 at once, in the API's error format, without
// reading Prometheus, while other tenants go on. Admins have a budget of
// their own, and an identity of two tenants draws on both.
func TestConcurrentComputationsPerTenant(t *testing.T) {
	tn := limitsTenancy(t)
	gate := newGateLoader()
	engine := cost.New(cost.Options{Source: gate, Tenancy: tn, MaxConcurrentPerTenant: 2})
	h := api.New(api.Options{Engine: engine, Now: func() time.Time { return limitsNow }})
	payments, checkout := tn.Resolve([]string{"team-payments"}), tn.Resolve([]string{"team-checkout"})
	both, admin := tn.Resolve([]string{"team-payments", "team-checkout"}), tenancy.Access{Admin: true}
	params := url.Values{"window": {"24h"}, "aggregate": {"namespace"}}

	var wg sync.WaitGroup
	codes := make(chan int, 16)
	start := func(a tenancy.Access) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- serve(h, a, "/allocation", params).Code
		}()
		<-gate.entered // it is reading "Prometheus" now
	}
	refused := func(who string, a tenancy.Access, path, budget string) {
		t.Helper()
		before := gate.loads.Load()
		// Cancelled, so that a computation wrongly let through fails
		// instead of waiting at the gate for ever.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		rec := httptest.NewRecorder()
		h.Serve(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, path+"?"+params.Encode(), nil), a)
		if rec.Code != http.StatusTooManyRequests {
			t.Fatalf("%s %s with its budget used up: %d %s, want 429", who, path, rec.Code, rec.Body)
		}
		if path == "/allocation" {
			e := decodeError(t, rec)
			if e.Code != 429 || e.Status != "error" || e.ErrorType != "too_many_requests" ||
				!strings.Contains(e.Message, "cost.max_concurrent_per_tenant") || !strings.Contains(e.Message, budget) {
				t.Errorf("%s: %+v, want a 429 naming %s and cost.max_concurrent_per_tenant", who, e, budget)
			}
		}
		if gate.loads.Load() != before {
			t.Errorf("%s: a refused computation read Prometheus", who)
		}
	}

	start(payments)
	start(payments)
	refused("payments", payments, "/allocation", "tenant payments")
	refused("payments", payments, "/ui/chargeback", "tenant payments")
	refused("payments and checkout", both, "/allocation", "tenant payments")
	start(checkout) // another tenant is not held up
	start(admin)
	start(admin)
	refused("admin", admin, "/allocation", "admins")
	start(checkout)
	refused("checkout", checkout, "/allocation", "tenant checkout")
	if got := gate.loads.Load(); got != 6 {
		t.Fatalf("%d computations in flight, want 6", got)
	}

	close(gate.release)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("a computation within the budget answered %d", c)
		}
	}
	// The slots are given back.
	for _, a := range []tenancy.Access{payments, payments, both, admin} {
		if rec := serve(h, a, "/allocation", params); rec.Code != http.StatusOK {
			t.Errorf("after the others finished: %d %s", rec.Code, rec.Body)
		}
	}
}

// window ÷ resolution is bounded by cost.max_query_steps: 400 days at 1m
// (576,000 steps) is 400 before anything is read, naming the key and the
// resolution that would fit; every default resolution fits the default.
func TestQueryStepsBound(t *testing.T) {
	tn := limitsTenancy(t)
	gate := newGateLoader()
	close(gate.release)
	engine := cost.New(cost.Options{Source: gate, Tenancy: tn})
	h := api.New(api.Options{Engine: engine, Now: func() time.Time { return limitsNow }})
	payments, admin := tn.Resolve([]string{"team-payments"}), tenancy.Access{Admin: true}
	long := limitsNow.AddDate(0, 0, -400).Format(time.RFC3339) + "," + limitsNow.Format(time.RFC3339)

	for _, a := range []tenancy.Access{payments, admin} {
		rec := serve(h, a, "/allocation", url.Values{"window": {long}, "resolution": {"1m"}})
		e := decodeError(t, rec)
		if rec.Code != http.StatusBadRequest || e.ErrorType != "bad_data" || !strings.Contains(e.Message, `parameter "resolution"`) ||
			!strings.Contains(e.Message, "576000 steps") || !strings.Contains(e.Message, "cost.max_query_steps (10000)") || !strings.Contains(e.Message, "resolution=1h") {
			t.Errorf("400 days at 1m: %d %+v", rec.Code, e)
		}
	}
	if n := gate.loads.Load(); n != 0 {
		t.Fatalf("refused queries read Prometheus %d times", n)
	}
	// The defaults: 1h above two days, 5m up to two days; and the page.
	for _, w := range []string{long, "lastmonth", "2026-11-16T12:00:00Z,2026-11-18T12:00:00Z", "today"} {
		if rec := serve(h, payments, "/allocation", url.Values{"window": {w}}); rec.Code != http.StatusOK {
			t.Errorf("window %s at the default resolution: %d %s", w, rec.Code, rec.Body)
		}
	}
	if rec := serve(h, payments, "/ui/chargeback", url.Values{"window": {"lastmonth"}}); rec.Code != http.StatusOK {
		t.Errorf("the chargeback page for last month: %d", rec.Code)
	}
	if got := gate.steps.Load(); got != 9600 {
		t.Errorf("the longest load was %d steps, want 9600 (400 days at 1h)", got)
	}
}

// The resolution a refusal suggests is accepted, for any bound.
func TestQueryStepsSuggestion(t *testing.T) {
	gate := newGateLoader()
	close(gate.release)
	for _, limit := range []int{100, 744, 1000, 10_000} {
		h := api.New(api.Options{Engine: cost.New(cost.Options{Source: gate, MaxQuerySteps: limit}), Now: func() time.Time { return limitsNow }})
		admin := tenancy.Access{Admin: true}
		for _, days := range []int{1, 7, 31, 90, 400} {
			w := limitsNow.AddDate(0, 0, -days).Format(time.RFC3339) + "," + limitsNow.Format(time.RFC3339)
			rec := serve(h, admin, "/allocation", url.Values{"window": {w}, "resolution": {"1m"}})
			if rec.Code == http.StatusOK {
				continue
			}
			msg := decodeError(t, rec).Message
			i := strings.Index(msg, "resolution=")
			if rec.Code != http.StatusBadRequest || i < 0 {
				t.Fatalf("%d days, bound %d: %d %s", days, limit, rec.Code, msg)
			}
			suggested := strings.Fields(msg[i+len("resolution="):])[0]
			if rec := serve(h, admin, "/allocation", url.Values{"window": {w}, "resolution": {suggested}}); rec.Code != http.StatusOK {
				t.Errorf("%d days, bound %d: the suggested resolution=%s is refused: %s", days, limit, suggested, rec.Body)
			}
		}
	}
}
