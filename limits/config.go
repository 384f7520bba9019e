// Package limits holds each tenant to its share of the backends: a token
// bucket of requests per second, a cap on concurrent requests, and caps on
// the shape of a query (its time range, its points per series, its
// `limit`). The gateway configures it from `limits:` and
// `tenancy.tenants[].limits`; the request pipeline asks it before a
// request reaches an upstream.
package limits

import (
	"fmt"
	"strings"

	"github.com/prometheus/common/model"

	"github.com/tollgate-dev/tollgate/internal/problem"
	"github.com/tollgate-dev/tollgate/internal/yamlduration"
)

// Config is one set of limits: `limits:`, a tenant's `limits:` or
// `tenancy.admin_limits`. A zero field sets no limit.
type Config struct {
	// RequestsPerSecond refills the token bucket; Burst is its size
	// (default: RequestsPerSecond rounded up, at least 1).
	RequestsPerSecond float64 `yaml:"requests_per_second"`
	Burst             int     `yaml:"burst"`
	// MaxConcurrent caps the requests in flight at once.
	MaxConcurrent int `yaml:"max_concurrent"`
	// MaxRange caps end - start of a request that reads a time range.
	MaxRange Duration `yaml:"max_range"`
	// MaxPoints caps (end - start) ÷ step, the points of each series.
	MaxPoints int64 `yaml:"max_points"`
	// MaxLimit caps the `limit` parameter (log lines, series, values).
	MaxLimit int64 `yaml:"max_limit"`
}

// Duration is the configuration's duration ("30s", "5m", "1h30m", "7d").
type Duration = yamlduration.Duration

// Empty reports whether the set limits nothing.
func (c Config) Empty() bool { return c == Config{} }

// Over returns c with every key that over sets replaced: a tenant's
// limits override the global ones key by key.
func (c Config) Over(over *Config) Config {
	if over == nil {
		return c
	}
	if over.RequestsPerSecond != 0 {
		c.RequestsPerSecond, c.Burst = over.RequestsPerSecond, over.Burst
	} else if over.Burst != 0 {
		c.Burst = over.Burst
	}
	if over.MaxConcurrent != 0 {
		c.MaxConcurrent = over.MaxConcurrent
	}
	if over.MaxRange != 0 {
		c.MaxRange = over.MaxRange
	}
	if over.MaxPoints != 0 {
		c.MaxPoints = over.MaxPoints
	}
	if over.MaxLimit != 0 {
		c.MaxLimit = over.MaxLimit
	}
	return c
}

// burst is the bucket's size.
func (c Config) burst() int {
	if c.Burst > 0 {
		return c.Burst
	}
	return max(1, int(c.RequestsPerSecond+0.999999))
}

// Validate checks one set; prefix is its key path ("limits").
func (c *Config) Validate(prefix string) problem.List {
	var ps problem.List
	if c == nil {
		return ps
	}
	if c.RequestsPerSecond < 0 {
		ps.Add(prefix+".requests_per_second", "is negative", "give the requests per second a tenant may send on average, e.g. 10, or leave it out for no rate limit")
	}
	if c.Burst < 0 {
		ps.Add(prefix+".burst", "is negative", "give how many requests may come at once above the rate, e.g. 20, or leave it out for requests_per_second rounded up")
	}
	if c.Burst > 0 && c.RequestsPerSecond == 0 {
		ps.Warn(prefix+".burst", "is set without requests_per_second here", "burst sizes the bucket that requests_per_second refills; set requests_per_second too, or the inherited rate is used")
	}
	for _, k := range []struct {
		key string
		v   int64
		eg  string
	}{{"max_concurrent", int64(c.MaxConcurrent), "8"}, {"max_points", c.MaxPoints, "11000"}, {"max_limit", c.MaxLimit, "5000"}} {
		if k.v < 0 {
			ps.Add(prefix+"."+k.key, "is negative", fmt.Sprintf("give a positive number, e.g. %s, or leave it out for no limit", k.eg))
		}
	}
	return ps
}

// String lists the keys set, as the configuration writes them.
func (c Config) String() string {
	if c.Empty() {
		return "none"
	}
	var parts []string
	add := func(key string, set bool, v any) {
		if set {
			parts = append(parts, fmt.Sprintf("%s %v", key, v))
		}
	}
	add("requests_per_second", c.RequestsPerSecond > 0, c.RequestsPerSecond)
	add("burst", c.RequestsPerSecond > 0, c.burst())
	add("max_concurrent", c.MaxConcurrent > 0, c.MaxConcurrent)
	add("max_range", c.MaxRange > 0, model.Duration(c.MaxRange))
	add("max_points", c.MaxPoints > 0, c.MaxPoints)
	add("max_limit", c.MaxLimit > 0, c.MaxLimit)
	return strings.Join(parts, ", ")
}
