// Package cache is the gateway's results cache, in the shared forward path
// (proxy.Forward calls it for the routes that opt in): range query answers
// split at multiples of split_interval on the query's own step grid, kept
// as extents and merged, so that a dashboard's moving window asks the
// backend only for what it has not seen; metadata answers are kept
// briefly. Keys hash the confined parameters (the enforced query, never
// the one the client wrote), the upstream and the org ID: two scopes
// share an entry only when they would ask the backend the same question.
package cache

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/proxy"
	"github.com/tollgate-dev/tollgate/proxy/cache/store"
)

// Header tells whoever debugs a dashboard where an answer came from.
const Header = "X-Tollgate-Cache"

// Header values.
const (
	Hit     = "hit"
	Miss    = "miss"
	Partial = "partial"
)

// Options configure a Cache.
type Options struct {
	// API labels metrics ("prometheus", "loki").
	API     string
	Store   store.Store
	Codec   Codec
	Metrics *Metrics
	// MaxFreshness, SplitInterval, MetadataTTL, ResultsTTL and
	// MaxItemBytes are the cache.* settings of the same names.
	MaxFreshness  time.Duration
	SplitInterval time.Duration
	MetadataTTL   time.Duration
	ResultsTTL    time.Duration
	MaxItemBytes  int64
	Logger        *slog.Logger
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// Cache is one API's results cache: a proxy.Cacher.
type Cache struct {
	o       Options
	flights flights
}

// New builds a Cache.
func New(o Options) *Cache {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Cache{o: o}
}

// Serve implements proxy.Cacher.
func (c *Cache) Serve(w http.ResponseWriter, call *proxy.Call, b *proxy.Backend) *proxy.Error {
	if bypass(call.Request.Header) {
		return c.miss(w, call, b, "")
	}
	switch call.Route.Cache {
	case proxy.CacheRange:
		return c.serveRange(w, call, b)
	case proxy.CacheMetadata:
		return c.serveMetadata(w, call, b)
	}
	return proxy.ForwardDirect(b, w, call)
}

// bypass reports whether the client asked not to be answered from a cache
// (Cache-Control: no-cache or no-store): such a request neither reads nor
// writes it.
func bypass(h http.Header) bool {
	for _, v := range h.Values("Cache-Control") {
		for d := range strings.SplitSeq(v, ",") {
			switch strings.ToLower(strings.TrimSpace(d)) {
			case "no-cache", "no-store":
				return true
			}
		}
	}
	return false
}

// miss forwards a call as if there were no cache. kind, when set, counts
// it as a miss.
func (c *Cache) miss(w http.ResponseWriter, call *proxy.Call, b *proxy.Backend, kind string) *proxy.Error {
	if kind != "" {
		c.o.Metrics.misses.WithLabelValues(c.o.API, kind).Inc()
	}
	w.Header().Set(Header, Miss)
	return proxy.ForwardDirect(b, w, call)
}

// key hashes what decides an answer: the kind of entry, the upstream's URL
// and path, the org ID Tollgate sends, the confined parameters (the
// enforced query) without those named in drop, and extra.
func key(kind string, out *http.Request, ps url.Values, drop []string, extra ...int64) string {
	ps = cloneValues(ps)
	for _, d := range drop {
		ps.Del(d)
	}
	h := sha256.New()
	field := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	u := *out.URL
	u.RawQuery = ""
	for _, s := range []string{kind, u.String(), out.Header.Get("X-Scope-OrgID"), ps.Encode()} {
		field(s)
	}
	for _, x := range extra {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(x))
		h.Write(n[:])
	}
	return "tollgate:" + kind + ":" + hex.EncodeToString(h.Sum(nil))
}

// get reads keys, counting a failure of the backend and going on without
// it.
func (c *Cache) get(ctx context.Context, keys []string) [][]byte {
	vals, err := c.o.Store.GetMulti(ctx, keys)
	if err != nil || len(vals) != len(keys) {
		c.storeError("get", err)
		return make([][]byte, len(keys))
	}
	return vals
}

func (c *Cache) set(ctx context.Context, k string, v []byte, ttl time.Duration) {
	if int64(len(v)) > c.o.MaxItemBytes {
		return
	}
	if err := c.o.Store.Set(ctx, k, v, ttl); err != nil {
		c.storeError("set", err)
		return
	}
	c.o.Metrics.stored.WithLabelValues(c.o.API).Add(float64(len(v)))
}

func (c *Cache) storeError(op string, err error) {
	c.o.Metrics.errors.WithLabelValues(c.o.API, c.o.Store.Name()).Inc()
	c.o.Logger.Debug("cache backend failed; answering without it", "op", op, "backend", c.o.Store.Name(), "err", err)
}

// fetch asks the backend for sub, a call for part of the range, and
// returns the body of a 200 answer; false for any other answer, or one
// over max_item_bytes. An identical request in progress is joined, not
// sent again (flights).
func (c *Cache) fetch(b *proxy.Backend, sub *proxy.Call) ([]byte, bool) {
	out, cancel, perr := proxy.Outbound(b, sub)
	if perr != nil {
		return nil, false
	}
	defer cancel()
	k := key(kindFetch, out, sub.Params, nil)
	body, ok, shared := c.flights.do(out.Context(), k, func() ([]byte, bool) { return c.send(b, out) })
	if shared {
		c.o.Metrics.coalesced.WithLabelValues(c.o.API).Inc()
	}
	return body, ok
}

// kindFetch keys backend requests in progress.
const kindFetch = "fetch"

// send sends out, the request for part of a range.
func (c *Cache) send(b *proxy.Backend, out *http.Request) ([]byte, bool) {
	// Identity: the answer is decoded here, and compressing it on the
	// loopback costs more than it saves.
	out.Header.Set("Accept-Encoding", "identity")
	resp, err := b.Upstream.Fetch(out)
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, false
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.o.MaxItemBytes+1))
	if err != nil || int64(len(body)) > c.o.MaxItemBytes {
		return nil, false
	}
	return body, true
}

// fetchMatrices fetches the spans of a range call at once and decodes
// them; false if any answer cannot be cached. A whole query is fetched
// with its own parameters.
func (c *Cache) fetchMatrices(b *proxy.Backend, call *proxy.Call, gaps []span, whole bool) ([]matrix, bool) {
	ms := make([]matrix, len(gaps))
	oks := make([]bool, len(gaps))
	one := func(i int, g span) {
		sub := *call
		if !whole {
			sub.Params = c.o.Codec.WithRange(call.Params, g.start, g.end)
		} // else the range as asked: @ end() names its end
		body, ok := c.fetch(b, &sub)
		if !ok {
			return
		}
		m, err := decodeAnswer(body)
		ms[i], oks[i] = m, err == nil
	}
	var wg sync.WaitGroup
	for i, g := range gaps {
		if i == len(gaps)-1 {
			one(i, g) // the last (usually only) one on this goroutine
			break
		}
		wg.Go(func() { one(i, g) })
	}
	wg.Wait()
	for _, ok := range oks {
		if !ok {
			return nil, false
		}
	}
	return ms, true
}

func writeJSON(w http.ResponseWriter, state string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set(Header, state)
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
