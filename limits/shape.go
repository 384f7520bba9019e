package limits

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// Request is what the shape limits read of a request: its parameters,
// already checked against the route's, and how its API reads times.
type Request struct {
	Params url.Values
	// Ranged is true where the route takes start and end.
	Ranged bool
	// LokiTimes: integer times of more than 10 digits are nanoseconds, and
	// a missing start is an hour before end, as Loki reads them. Otherwise
	// (Prometheus) times are seconds and a missing start is all of history.
	LokiTimes bool
	Now       time.Time
}

// bound is the strictest value of one shape limit among a caller's
// states, and whose it is.
type bound struct {
	v int64
	s *state
}

func (b *bound) tighten(v int64, s *state) {
	if v > 0 && (b.s == nil || v < b.v) {
		b.v, b.s = v, s
	}
}

// CheckShape holds a request's time range, points per series and `limit`
// to the strictest of the caller's tenants' limits: the request reads
// every one of those tenants' data. The answer is 400, naming the limit.
func (l *Limiter) CheckShape(tenants []string, admin bool, req Request) *Refusal {
	var rng, points, limit bound
	for _, s := range l.states(tenants, admin) {
		rng.tighten(int64(s.cfg.MaxRange), s)
		points.tighten(s.cfg.MaxPoints, s)
		limit.tighten(s.cfg.MaxLimit, s)
	}
	if rng.s == nil && points.s == nil && limit.s == nil {
		return nil
	}
	r := l.checkShape(req, rng, points, limit)
	if r != nil {
		l.throttled.WithLabelValues(r.Tenant, r.Limit).Inc()
	}
	return r
}

func (l *Limiter) checkShape(req Request, rng, points, limit bound) *Refusal {
	ps := req.Params
	if limit.s != nil && ps.Get("limit") != "" {
		n, err := strconv.ParseInt(ps.Get("limit"), 10, 64)
		if err != nil {
			return badShape(limit.s, "max_limit", `parameter "limit" is not a whole number`)
		}
		if n > limit.v || n <= 0 {
			// Prometheus and Loki read limit=0 as "no limit".
			return badShape(limit.s, "max_limit", fmt.Sprintf(`parameter "limit" is %d, over %s's limit (%s.max_limit: %d)`, n, limit.s.who(), limit.s.key, limit.v))
		}
	}
	if !req.Ranged || (rng.s == nil && points.s == nil) {
		return nil
	}
	span, err := span(req)
	if err != nil {
		s := rng.s
		if s == nil {
			s = points.s
		}
		return badShape(s, "max_range", err.Error())
	}
	if rng.s != nil && int64(span) > rng.v {
		return badShape(rng.s, "max_range", fmt.Sprintf("the time range (end - start) is %s, over %s's limit (%s.max_range: %s)", fmtDuration(span), rng.s.who(), rng.s.key, fmtDuration(time.Duration(rng.v))))
	}
	if points.s != nil && ps.Get("step") != "" {
		step, err := parseStep(ps.Get("step"))
		if err != nil || step <= 0 {
			return badShape(points.s, "max_points", `parameter "step" is not a positive duration or number of seconds`)
		}
		if n := int64(span/step) + 1; n > points.v {
			return badShape(points.s, "max_points", fmt.Sprintf("the query asks for %d points per series (range %s ÷ step %s), over %s's limit (%s.max_points: %d); raise step or shorten the range", n, fmtDuration(span), fmtDuration(step), points.s.who(), points.s.key, points.v))
		}
	}
	return nil
}

func badShape(s *state, limit, msg string) *Refusal {
	return &Refusal{Status: http.StatusBadRequest, Tenant: s.name, Limit: limit, Msg: msg}
}

// span is end - start, with the API's defaults for missing ones.
func span(req Request) (time.Duration, error) {
	end := req.Now
	if v := req.Params.Get("end"); v != "" {
		t, err := parseTime(v, req.LokiTimes)
		if err != nil {
			return 0, fmt.Errorf(`parameter "end" is not a time: give Unix seconds or RFC 3339`)
		}
		end = t
	}
	v := req.Params.Get("start")
	switch {
	case v == "" && req.LokiTimes && req.Params.Get("since") != "":
		since, err := model.ParseDuration(req.Params.Get("since"))
		if err != nil {
			return 0, fmt.Errorf(`parameter "since" is not a duration: write it like 1h or 7d`)
		}
		return time.Duration(since), nil
	case v == "" && req.LokiTimes:
		return time.Hour, nil
	case v == "":
		return 0, fmt.Errorf(`parameter "start" is missing, which reads all of history; give start within the range limit`)
	}
	start, err := parseTime(v, req.LokiTimes)
	if err != nil {
		return 0, fmt.Errorf(`parameter "start" is not a time: give Unix seconds or RFC 3339`)
	}
	return max(0, end.Sub(start)), nil
}

// parseTime reads a time as Prometheus (seconds, RFC 3339) or Loki (also
// nanoseconds) does.
func parseTime(v string, loki bool) (time.Time, error) {
	if loki && !strings.Contains(v, ".") {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			if len(v) <= 10 {
				return time.Unix(n, 0), nil
			}
			return time.Unix(0, n), nil
		}
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) && math.Abs(f) < 1e12 {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)), nil
	}
	return time.Parse(time.RFC3339Nano, v)
}

// parseStep reads a step as seconds ("15", "0.5") or a duration ("1m").
func parseStep(v string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) || f > 1e9 {
			return 0, fmt.Errorf("step %q is out of range", v)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := model.ParseDuration(v)
	return time.Duration(d), err
}

// fmtDuration prints a duration as the configuration writes it ("7d"
// rather than "168h0m0s").
func fmtDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return model.Duration(d).String()
	}
	return d.String()
}
