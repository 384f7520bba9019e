package cache

// A span is a stretch [start, end] of a query's grid: start + k×step, in
// milliseconds, both ends on the grid.
type span struct{ start, end int64 }

// interval is the part of a query's grid inside one split interval
// [idx×split, (idx+1)×split).
type interval struct {
	idx int64
	span
}

// plan is how a range query is answered from the cache: its grid, the
// intervals whose answers may be stored (up to cacheEnd, the last point
// older than max_freshness) and the fresh tail after them.
type plan struct {
	q         Range
	cacheEnd  int64
	intervals []interval
}

// maxGaps is how many backend requests one query may cost; more missing
// stretches are fetched as the one span that covers them.
const maxGaps = 3

// maxIntervals bounds the keys one query looks up (a year at 24h).
const maxIntervals = 400

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// atOrAfter is the first grid point at or after t.
func (q Range) atOrAfter(t int64) int64 {
	if t <= q.Start {
		return q.Start
	}
	return q.Start + (t-q.Start+q.Step-1)/q.Step*q.Step
}

// atOrBefore is the last grid point at or before t (t ≥ Start).
func (q Range) atOrBefore(t int64) int64 {
	return q.Start + (t-q.Start)/q.Step*q.Step
}

// newPlan splits q at multiples of split, storing nothing newer than
// cutoff. It returns nil when no point of q may be stored, or when q spans
// too many intervals.
func newPlan(q Range, cutoff, split int64) *plan {
	last := min(q.End, cutoff)
	if last < q.Start {
		return nil
	}
	p := &plan{q: q, cacheEnd: q.atOrBefore(last)}
	for i := floorDiv(q.Start, split); i*split <= p.cacheEnd; i++ {
		s := q.atOrAfter(max(q.Start, i*split))
		if s > p.cacheEnd || s >= (i+1)*split {
			continue
		}
		e := q.atOrBefore(min(p.cacheEnd, (i+1)*split-1))
		p.intervals = append(p.intervals, interval{idx: i, span: span{s, e}})
		if len(p.intervals) > maxIntervals {
			return nil
		}
	}
	return p
}

// gaps returns what must be fetched given the cached extents (nil where
// absent): per interval, the stretches its extent lacks, or the whole
// interval when the extent is absent or does not touch it (such an extent
// is dropped from exts and replaced); then the fresh tail. Adjacent
// stretches are merged, so that a moving window costs one request.
func (p *plan) gaps(exts []*extent) []span {
	step := p.q.Step
	var gs []span
	for i, iv := range p.intervals {
		x := exts[i]
		if x != nil && (x.start > iv.end+step || x.end < iv.start-step) {
			exts[i], x = nil, nil
		}
		if x == nil {
			gs = append(gs, iv.span)
			continue
		}
		if iv.start < x.start {
			gs = append(gs, span{iv.start, x.start - step})
		}
		if iv.end > x.end {
			gs = append(gs, span{x.end + step, iv.end})
		}
	}
	if last := p.q.atOrBefore(p.q.End); p.cacheEnd < last {
		gs = append(gs, span{p.cacheEnd + step, last})
	}
	return coalesce(gs, step)
}

func coalesce(gs []span, step int64) []span {
	var out []span
	for _, g := range gs {
		if n := len(out); n > 0 && out[n-1].end+step >= g.start {
			out[n-1].end = max(out[n-1].end, g.end)
			continue
		}
		out = append(out, g)
	}
	if len(out) > maxGaps {
		out = []span{{out[0].start, out[len(out)-1].end}}
	}
	return out
}

// covered reports whether t is in one of the spans.
func covered(spans []span, t int64) bool {
	for _, s := range spans {
		if t >= s.start && t <= s.end {
			return true
		}
	}
	return false
}
