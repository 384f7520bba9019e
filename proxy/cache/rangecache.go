package cache

import (
	"net/http"

	"github.com/tollgate-dev/tollgate/proxy"
)

const kindRange = "range"

// serveRange answers a query_range: the stored extents of the intervals
// it covers, the stretches they lack fetched from the backend (one
// request for a moving window), merged. The extents are stored back
// extended. Whatever cannot be cached (an error, warnings, an answer over
// max_item_bytes) is answered by forwarding the request as it came, so
// that the client gets exactly the backend's answer.
func (c *Cache) serveRange(w http.ResponseWriter, call *proxy.Call, b *proxy.Backend) *proxy.Error {
	q, ok := c.o.Codec.Range(call.Params)
	if !ok {
		return c.miss(w, call, b, kindRange)
	}
	cutoff := c.o.Now().Add(-c.o.MaxFreshness).UnixMilli()
	if q.Whole {
		if q.End > cutoff {
			return c.miss(w, call, b, kindRange)
		}
		// A query that is not time-shift invariant is one interval:
		// exactly its own range.
		p := &plan{q: q, cacheEnd: q.atOrBefore(q.End), intervals: []interval{{idx: 0, span: span{q.Start, q.atOrBefore(q.End)}}}}
		return c.servePlan(w, call, b, p, q.Start, q.End)
	}
	p := newPlan(q, cutoff, c.o.SplitInterval.Milliseconds())
	if p == nil {
		return c.miss(w, call, b, kindRange)
	}
	return c.servePlan(w, call, b, p, q.Start%q.Step, c.o.SplitInterval.Milliseconds())
}

func (c *Cache) servePlan(w http.ResponseWriter, call *proxy.Call, b *proxy.Backend, p *plan, keyA, keyB int64) *proxy.Error {
	out, cancel, perr := proxy.Outbound(b, call)
	if perr != nil {
		return perr
	}
	cancel()
	keys := make([]string, len(p.intervals))
	for i, iv := range p.intervals {
		keys[i] = key(extentKind, out, call.Params, []string{"start", "end"}, p.q.Step, keyA, keyB, iv.idx)
	}
	ctx := call.Request.Context()
	exts := make([]*extent, len(keys))
	for i, v := range c.get(ctx, keys) {
		if v == nil {
			continue
		}
		x, err := decodeExtent(v)
		if err != nil {
			c.storeError("decode", err)
			continue
		}
		exts[i] = x
	}
	gaps := p.gaps(exts)
	fetched, ok := c.fetchMatrices(b, call, gaps, p.q.Whole)
	if !ok {
		return c.miss(w, call, b, kindRange)
	}
	answer, used := c.assemble(call, p, exts, gaps, fetched, keys)
	state := c.count(len(gaps), used)
	writeJSON(w, state, encodeAnswer(answer))
	return nil
}

// assemble merges the cached extents and the fetched spans into the
// answer, and stores every extent that grew. It reports whether any
// cached point was used.
func (c *Cache) assemble(call *proxy.Call, p *plan, exts []*extent, gaps []span, fetched []matrix, keys []string) (matrix, bool) {
	answer := newBuilder()
	notFetched := func(t int64) bool { return !covered(gaps, t) }
	used := false
	for i, iv := range p.intervals {
		x := exts[i]
		lo, hi := iv.start, iv.end
		if x != nil {
			lo, hi = min(lo, x.start), max(hi, x.end)
			used = true
		}
		grown := newBuilder()
		if x != nil {
			grown.add(x.m, lo, hi, notFetched)
		}
		for _, m := range fetched {
			grown.add(m, lo, hi, nil)
		}
		merged := grown.matrix()
		answer.add(merged, iv.start, iv.end, nil)
		if x == nil || lo < x.start || hi > x.end || overlapsAny(gaps, iv.span) {
			c.set(call.Request.Context(), keys[i], encodeExtent(&extent{start: lo, end: hi, m: merged}), c.o.ResultsTTL)
		}
	}
	if p.cacheEnd < p.q.End {
		for _, m := range fetched {
			answer.add(m, p.cacheEnd+1, p.q.End, nil)
		}
	}
	return answer.matrix(), used
}

func overlapsAny(gaps []span, s span) bool {
	for _, g := range gaps {
		if g.start <= s.end && g.end >= s.start {
			return true
		}
	}
	return false
}

// count records the outcome and returns the header value.
func (c *Cache) count(gaps int, used bool) string {
	switch {
	case gaps == 0:
		c.o.Metrics.hits.WithLabelValues(c.o.API, kindRange).Inc()
		return Hit
	case used:
		c.o.Metrics.partial.WithLabelValues(c.o.API, kindRange).Inc()
		return Partial
	}
	c.o.Metrics.misses.WithLabelValues(c.o.API, kindRange).Inc()
	return Miss
}
