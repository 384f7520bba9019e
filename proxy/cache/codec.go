package cache

import (
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/tollgate-dev/tollgate/logql"
)

// Range is a range query's grid in milliseconds: Start, Start+Step, ...
// up to End. Whole marks a query that is not time-shift invariant (the @
// modifier, whose start() and end() name the request's own range): it is
// cached only as a whole, never split or merged.
type Range struct {
	Start, End, Step int64
	Whole            bool
}

// Codec reads and writes the range parameters of one API's query_range.
type Codec interface {
	// Range reads a call's range; false when it is not cached (no explicit
	// step, stats asked for, a log query).
	Range(ps url.Values) (Range, bool)
	// WithRange returns ps asking for [start, end] instead.
	WithRange(ps url.Values, start, end int64) url.Values
}

// Prometheus is the Prometheus API's query_range codec.
type Prometheus struct{}

// Range implements Codec.
func (Prometheus) Range(ps url.Values) (Range, bool) {
	if ps.Get("stats") != "" {
		return Range{}, false // per-request statistics are not the data's
	}
	start, ok1 := parseTime(ps.Get("start"))
	end, ok2 := parseTime(ps.Get("end"))
	step, ok3 := parseStep(ps.Get("step"))
	if !ok1 || !ok2 || !ok3 || end < start {
		return Range{}, false
	}
	return Range{Start: start, End: end, Step: step, Whole: strings.Contains(ps.Get("query"), "@")}, true
}

// WithRange implements Codec: seconds with millisecond decimals.
func (Prometheus) WithRange(ps url.Values, start, end int64) url.Values {
	out := cloneValues(ps)
	out.Set("start", strconv.FormatFloat(float64(start)/1000, 'f', 3, 64))
	out.Set("end", strconv.FormatFloat(float64(end)/1000, 'f', 3, 64))
	return out
}

// Loki is Loki's query_range codec: metric queries only (log queries
// answer streams, limited by count, which do not split).
type Loki struct{}

// Range implements Codec.
func (Loki) Range(ps url.Values) (Range, bool) {
	expr, err := logql.ParseExpr(ps.Get("query"))
	if err != nil || !isMetric(expr) || ps.Get("since") != "" {
		return Range{}, false
	}
	start, ok1 := parseLokiTime(ps.Get("start"))
	end, ok2 := parseLokiTime(ps.Get("end"))
	step, ok3 := parseStep(ps.Get("step"))
	if !ok1 || !ok2 || !ok3 || end < start {
		return Range{}, false
	}
	return Range{Start: start, End: end, Step: step, Whole: strings.Contains(ps.Get("query"), "@")}, true
}

// WithRange implements Codec: nanoseconds, Loki's own unit.
func (Loki) WithRange(ps url.Values, start, end int64) url.Values {
	out := cloneValues(ps)
	out.Set("start", strconv.FormatInt(start*1e6, 10))
	out.Set("end", strconv.FormatInt(end*1e6, 10))
	return out
}

// isMetric reports whether a LogQL expression is a metric query.
func isMetric(e logql.Expr) bool {
	for {
		p, ok := e.(*logql.ParenExpr)
		if !ok {
			break
		}
		e = p.Expr
	}
	_, isLog := e.(*logql.LogExpr)
	return !isLog
}

func cloneValues(ps url.Values) url.Values {
	out := make(url.Values, len(ps))
	for k, v := range ps {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// parseTime reads a Prometheus API time (Unix seconds, decimals allowed,
// or RFC 3339) as milliseconds; false for anything else or sub-millisecond
// precision, which the grid could not hold.
func parseTime(s string) (int64, bool) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e11 {
			return 0, false
		}
		ms := math.Round(f * 1000)
		return int64(ms), math.Abs(f*1000-ms) < 1e-3
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Nanosecond()%int(time.Millisecond) != 0 {
		return 0, false
	}
	return t.UnixMilli(), true
}

// parseLokiTime reads a Loki API time: nanoseconds as an integer (Unix
// seconds when ten digits or fewer), Unix seconds with decimals, or
// RFC 3339.
func parseLokiTime(s string) (int64, bool) {
	if strings.Contains(s, ".") {
		return parseTime(s)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return parseTime(s)
	}
	if len(s) <= 10 {
		return n * 1000, true
	}
	return n / 1e6, n%1e6 == 0
}

// parseStep reads a step, seconds or a duration, as whole milliseconds.
func parseStep(s string) (int64, bool) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		ms := math.Round(f * 1000)
		return int64(ms), ms >= 1 && ms < 1e12 && math.Abs(f*1000-ms) < 1e-3
	}
	d, err := model.ParseDuration(s)
	if err != nil || time.Duration(d) < time.Millisecond || time.Duration(d)%time.Millisecond != 0 {
		return 0, false
	}
	return time.Duration(d).Milliseconds(), true
}
