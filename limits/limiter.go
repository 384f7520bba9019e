package limits

import (
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Tenant is one tenant's own limits, as configured in
// tenancy.tenants[].limits (nil: the global ones alone).
type Tenant struct {
	Name   string
	Limits *Config
}

// Options configure a Limiter.
type Options struct {
	// Global are the `limits:` that every tenant inherits.
	Global Config
	// Tenants are the configured tenants with their overrides. A tenant
	// not listed gets Global.
	Tenants []Tenant
	// Admins are tenancy.admin_limits; nil leaves admins unlimited.
	Admins *Config
	// Registerer receives tollgate_limits_throttled_total; nil for none.
	Registerer prometheus.Registerer
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// AdminsKey is the name admins are counted under, together.
const AdminsKey = "_admin"

// Limiter enforces the limits. Its state is one bucket and one counter of
// requests in flight per configured tenant (and one for all admins), so it
// is bounded by the configuration, never by traffic.
type Limiter struct {
	byName    map[string]*state
	global    Config
	admins    *state
	now       func() time.Time
	throttled *prometheus.CounterVec
}

// state is one tenant's bucket and requests in flight.
type state struct {
	name   string
	key    string // configuration key prefix, for messages
	cfg    Config
	mu     sync.Mutex
	tokens float64
	last   time.Time
	active int
}

// New builds a Limiter.
func New(opts Options) (*Limiter, error) {
	l := &Limiter{byName: map[string]*state{}, global: opts.Global, now: opts.Now,
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tollgate_limits_throttled_total",
			Help: "Requests refused by a per-tenant limit, by tenant and limit (requests_per_second, max_concurrent, max_range, max_points, max_limit).",
		}, []string{"tenant", "limit"})}
	if l.now == nil {
		l.now = time.Now
	}
	for _, t := range opts.Tenants {
		key := "limits"
		if t.Limits != nil && !t.Limits.Empty() {
			key = fmt.Sprintf("tenancy.tenants[%s].limits", t.Name)
		}
		l.byName[t.Name] = l.newState(t.Name, key, opts.Global.Over(t.Limits))
	}
	if opts.Admins != nil {
		l.admins = l.newState(AdminsKey, "tenancy.admin_limits", *opts.Admins)
	}
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(l.throttled); err != nil {
			return nil, fmt.Errorf("registering the limits metric: %w", err)
		}
	}
	return l, nil
}

func (l *Limiter) newState(name, key string, cfg Config) *state {
	return &state{name: name, key: key, cfg: cfg, tokens: float64(cfg.burst()), last: l.now()}
}

// Refusal is a request over a limit.
type Refusal struct {
	// Status is 429 for rate and concurrency, 400 for a query's shape.
	Status int
	// Tenant is whose limit it is (AdminsKey for admins); Limit the key.
	Tenant, Limit string
	Msg           string
	// RetryAfter is when to try again (429 only).
	RetryAfter time.Duration
}

// Header returns the headers the answer carries: Retry-After for a 429.
func (r *Refusal) Header() http.Header {
	if r.Status != http.StatusTooManyRequests {
		return nil
	}
	return http.Header{"Retry-After": {strconv.Itoa(int(math.Ceil(max(r.RetryAfter, time.Second).Seconds())))}}
}

// states returns the states a caller is held to: the admins' for admins
// (none where tenancy.admin_limits is not set), else every one of its
// tenants', sorted by name so that locks are always taken in one order.
func (l *Limiter) states(tenants []string, admin bool) []*state {
	if admin {
		if l.admins == nil {
			return nil
		}
		return []*state{l.admins}
	}
	out := make([]*state, 0, len(tenants))
	for _, n := range tenants {
		if s, ok := l.byName[n]; ok {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// Admit takes a token and a concurrency slot from each of the caller's
// tenants: a request reads every one of its caller's tenants' data, so it
// counts against each, and is refused if any one is at its limit. On
// success the caller must call release when the request ends.
func (l *Limiter) Admit(tenants []string, admin bool) (release func(), refusal *Refusal) {
	ss := l.states(tenants, admin)
	now := l.now()
	for i, s := range ss {
		if r := s.take(now); r != nil {
			for _, t := range ss[:i] {
				t.giveBack()
			}
			l.throttled.WithLabelValues(r.Tenant, r.Limit).Inc()
			return nil, r
		}
	}
	return func() {
		for _, s := range ss {
			s.done()
		}
	}, nil
}

// take admits one request or says which limit refuses it.
func (s *state) take(now time.Time) *Refusal {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cfg
	if c.MaxConcurrent > 0 && s.active >= c.MaxConcurrent {
		return &Refusal{Status: http.StatusTooManyRequests, Tenant: s.name, Limit: "max_concurrent", RetryAfter: time.Second,
			Msg: fmt.Sprintf("%s: %d requests in flight already, the limit (%s.max_concurrent: %d); retry when one has finished", s.who(), s.active, s.key, c.MaxConcurrent)}
	}
	if c.RequestsPerSecond > 0 {
		burst := float64(c.burst())
		s.tokens = math.Min(burst, s.tokens+now.Sub(s.last).Seconds()*c.RequestsPerSecond)
		s.last = now
		if s.tokens < 1 {
			wait := time.Duration((1 - s.tokens) / c.RequestsPerSecond * float64(time.Second))
			return &Refusal{Status: http.StatusTooManyRequests, Tenant: s.name, Limit: "requests_per_second", RetryAfter: wait,
				Msg: fmt.Sprintf("%s is over its request rate (%s.requests_per_second: %g, burst %d); retry after %s", s.who(), s.key, c.RequestsPerSecond, c.burst(), wait.Round(time.Millisecond))}
		}
		s.tokens--
	}
	s.active++
	return nil
}

// giveBack undoes a take whose request another tenant's limit refused.
func (s *state) giveBack() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active--
	if s.cfg.RequestsPerSecond > 0 {
		s.tokens = math.Min(float64(s.cfg.burst()), s.tokens+1)
	}
}

func (s *state) done() {
	s.mu.Lock()
	s.active--
	s.mu.Unlock()
}

func (s *state) who() string {
	if s.name == AdminsKey {
		return "admins"
	}
	return fmt.Sprintf("tenant %q", s.name)
}
