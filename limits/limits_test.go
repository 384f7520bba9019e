package limits_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tollgate-dev/tollgate/limits"
)

// clock is a settable time for the token bucket.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newLimiter(t *testing.T, c *clock, opts limits.Options) (*limits.Limiter, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts.Registerer, opts.Now = reg, c.now
	l, err := limits.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return l, reg
}

func TestRateLimitRefillsAndNamesTheKey(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	l, reg := newLimiter(t, c, limits.Options{
		Global:  limits.Config{RequestsPerSecond: 2, Burst: 3},
		Tenants: []limits.Tenant{{Name: "payments"}, {Name: "checkout", Limits: &limits.Config{RequestsPerSecond: 0.5}}},
	})
	for i := range 3 {
		release, r := l.Admit([]string{"payments"}, false)
		if r != nil {
			t.Fatalf("request %d within the burst refused: %s", i+1, r.Msg)
		}
		release()
	}
	_, r := l.Admit([]string{"payments"}, false)
	if r == nil || r.Status != http.StatusTooManyRequests || r.Limit != "requests_per_second" {
		t.Fatalf("4th request in the same instant: %+v, want 429 requests_per_second", r)
	}
	if want := `tenant "payments" is over its request rate (limits.requests_per_second: 2, burst 3); retry after 500ms`; r.Msg != want {
		t.Errorf("message:\n got %s\nwant %s", r.Msg, want)
	}
	if got := r.Header().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1 (500ms rounded up to whole seconds)", got)
	}
	c.t = c.t.Add(500 * time.Millisecond) // one token back
	if _, r := l.Admit([]string{"payments"}, false); r != nil {
		t.Fatalf("after 500ms at 2/s: %s", r.Msg)
	}
	// checkout's own rate, with the burst its rate rounds up to (1).
	if _, r := l.Admit([]string{"checkout"}, false); r != nil {
		t.Fatal(r.Msg)
	}
	_, r = l.Admit([]string{"checkout"}, false)
	if r == nil || !strings.Contains(r.Msg, "tenancy.tenants[checkout].limits.requests_per_second: 0.5, burst 1") || r.Header().Get("Retry-After") != "2" {
		t.Fatalf("checkout's second request: %+v", r)
	}
	if n := testutil.ToFloat64(mustCounter(t, reg, "payments", "requests_per_second")); n != 1 {
		t.Errorf("throttled{payments,requests_per_second} = %v, want 1", n)
	}
}

func mustCounter(t *testing.T, reg *prometheus.Registry, tenant, limit string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "tollgate_limits_throttled_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			ls := map[string]string{}
			for _, lp := range m.GetLabel() {
				ls[lp.GetName()] = lp.GetValue()
			}
			if ls["tenant"] == tenant && ls["limit"] == limit {
				return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "x"}, func() float64 { return m.GetCounter().GetValue() })
			}
		}
	}
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "x"}, func() float64 { return 0 })
}

func TestConcurrencyCountsEveryTenantOfTheCaller(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	l, _ := newLimiter(t, c, limits.Options{
		Global:  limits.Config{MaxConcurrent: 1},
		Tenants: []limits.Tenant{{Name: "payments"}, {Name: "checkout"}},
	})
	release, r := l.Admit([]string{"payments"}, false)
	if r != nil {
		t.Fatal(r.Msg)
	}
	// A caller in both tenants counts against both: payments is full.
	_, r = l.Admit([]string{"checkout", "payments"}, false)
	if r == nil || r.Limit != "max_concurrent" || r.Tenant != "payments" || r.Status != http.StatusTooManyRequests {
		t.Fatalf("caller in payments+checkout while payments is full: %+v", r)
	}
	if want := `tenant "payments": 1 requests in flight already, the limit (limits.max_concurrent: 1); retry when one has finished`; r.Msg != want {
		t.Errorf("message:\n got %s\nwant %s", r.Msg, want)
	}
	// The refused caller's slot in checkout was given back.
	rc, r := l.Admit([]string{"checkout"}, false)
	if r != nil {
		t.Fatalf("checkout after a refused payments+checkout request: %s", r.Msg)
	}
	rc()
	release()
	if _, r := l.Admit([]string{"payments"}, false); r != nil {
		t.Fatalf("payments after its request ended: %s", r.Msg)
	}
}

func TestAdminsAreLimitedOnlyWhereConfigured(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	l, _ := newLimiter(t, c, limits.Options{Global: limits.Config{MaxConcurrent: 1, MaxRange: limits.Duration(time.Hour)}, Tenants: []limits.Tenant{{Name: "payments"}}})
	for range 3 {
		if _, r := l.Admit([]string{"payments"}, true); r != nil {
			t.Fatalf("admin limited without tenancy.admin_limits: %s", r.Msg)
		}
	}
	long := limits.Request{Params: url.Values{"start": {"0"}, "end": {"86400"}}, Ranged: true, Now: c.t}
	if r := l.CheckShape([]string{"payments"}, true, long); r != nil {
		t.Fatalf("admin's day-long range refused without tenancy.admin_limits: %s", r.Msg)
	}
	l, _ = newLimiter(t, c, limits.Options{Admins: &limits.Config{MaxConcurrent: 1}})
	if _, r := l.Admit(nil, true); r != nil {
		t.Fatal(r.Msg)
	}
	_, r := l.Admit(nil, true)
	if r == nil || !strings.Contains(r.Msg, "admins: 1 requests in flight already, the limit (tenancy.admin_limits.max_concurrent: 1)") {
		t.Fatalf("second admin request with admin_limits.max_concurrent 1: %+v", r)
	}
}

func TestShapeLimits(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l, _ := newLimiter(t, &clock{t: now}, limits.Options{
		Global: limits.Config{MaxRange: limits.Duration(24 * time.Hour), MaxPoints: 1000, MaxLimit: 500},
		Tenants: []limits.Tenant{{Name: "payments", Limits: &limits.Config{MaxRange: limits.Duration(7 * 24 * time.Hour)}},
			{Name: "checkout"}},
	})
	q := func(loki bool, kv ...string) limits.Request {
		ps := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			ps.Set(kv[i], kv[i+1])
		}
		return limits.Request{Params: ps, Ranged: true, LokiTimes: loki, Now: now}
	}
	day, week := "86400", "604800"
	for _, tc := range []struct {
		name    string
		tenants []string
		req     limits.Request
		want    string // "" admits
	}{
		{"a day for checkout", []string{"checkout"}, q(false, "start", "0", "end", day), ""},
		{"two days for checkout", []string{"checkout"}, q(false, "start", "0", "end", "172800"), `the time range (end - start) is 2d, over tenant "checkout"'s limit (limits.max_range: 1d)`},
		{"a week for payments", []string{"payments"}, q(false, "start", "0", "end", week), ""},
		{"a week for payments+checkout: the stricter", []string{"checkout", "payments"}, q(false, "start", "0", "end", week), `(limits.max_range: 1d)`},
		{"RFC 3339", []string{"checkout"}, q(false, "start", "2024-01-01T00:00:00Z", "end", "2024-01-03T00:00:00Z"), "is 2d"},
		{"Loki nanoseconds", []string{"checkout"}, q(true, "start", "1700000000000000000", "end", "1700172800000000000"), "is 2d"},
		{"Loki since", []string{"checkout"}, q(true, "since", "48h"), "is 2d"},
		{"Loki default hour", []string{"checkout"}, q(true), ""},
		{"Prometheus without start reads all history", []string{"checkout"}, q(false, "end", day), `parameter "start" is missing`},
		{"points", []string{"checkout"}, q(false, "start", "0", "end", "3600", "step", "1"), `the query asks for 3601 points per series (range 1h ÷ step 1s), over tenant "checkout"'s limit (limits.max_points: 1000)`},
		{"points with a duration step", []string{"checkout"}, q(false, "start", "0", "end", "3600", "step", "1m"), ""},
		{"limit", []string{"checkout"}, q(true, "limit", "5000"), `parameter "limit" is 5000, over tenant "checkout"'s limit (limits.max_limit: 500)`},
		{"limit=0 means none", []string{"checkout"}, q(true, "limit", "0"), `parameter "limit" is 0`},
		{"limit within", []string{"checkout"}, q(true, "limit", "500"), ""},
		{"not a time", []string{"checkout"}, q(false, "start", "yesterday", "end", day), `parameter "start" is not a time`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := l.CheckShape(tc.tenants, false, tc.req)
			switch {
			case tc.want == "" && r != nil:
				t.Fatalf("refused: %s", r.Msg)
			case tc.want != "" && r == nil:
				t.Fatalf("admitted, want %q", tc.want)
			case tc.want != "" && (!strings.Contains(r.Msg, tc.want) || r.Status != http.StatusBadRequest || r.Header() != nil):
				t.Fatalf("got %d %q, want 400 containing %q and no Retry-After", r.Status, r.Msg, tc.want)
			}
		})
	}
}

func TestOverrideKeyByKey(t *testing.T) {
	global := limits.Config{RequestsPerSecond: 10, Burst: 20, MaxConcurrent: 4, MaxLimit: 100}
	got := global.Over(&limits.Config{RequestsPerSecond: 1, MaxLimit: 5000})
	want := limits.Config{RequestsPerSecond: 1, Burst: 0, MaxConcurrent: 4, MaxLimit: 5000}
	if got != want {
		t.Fatalf("got %+v, want %+v (a tenant's rate brings its own burst)", got, want)
	}
}
