package cache

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/tollgate-dev/tollgate/proxy"
)

const kindMetadata = "metadata"

// serveMetadata answers labels, label values and series from an answer
// at most metadata_ttl old, keyed by the confined matchers and the range
// rounded to the TTL: Grafana fires these on every dashboard load, with a
// range that moves by seconds.
func (c *Cache) serveMetadata(w http.ResponseWriter, call *proxy.Call, b *proxy.Backend) *proxy.Error {
	out, cancel, perr := proxy.Outbound(b, call)
	if perr != nil {
		return perr
	}
	defer cancel()
	ttl := max(c.o.MetadataTTL.Milliseconds(), 1)
	start, ok1 := roundTime(call.Params.Get("start"), ttl)
	end, ok2 := roundTime(call.Params.Get("end"), ttl)
	if !ok1 || !ok2 {
		return c.miss(w, call, b, kindMetadata) // the backend says what is wrong
	}
	k := key(kindMetadata, out, call.Params, []string{"start", "end"}, start, end, c.o.Now().UnixMilli()/ttl)
	ctx := call.Request.Context()
	if v := c.get(ctx, []string{k})[0]; v != nil {
		c.o.Metrics.hits.WithLabelValues(c.o.API, kindMetadata).Inc()
		writeJSON(w, Hit, v)
		return nil
	}
	c.o.Metrics.misses.WithLabelValues(c.o.API, kindMetadata).Inc()
	out.Header.Set("Accept-Encoding", "identity")
	resp, err := b.Upstream.Do(out)
	if err != nil {
		b.Upstream.Error(w, call.Request, err)
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Errors are never cached; screened as every tenant's error is.
		if err := b.Upstream.Screen(resp); err != nil {
			b.Upstream.Error(w, call.Request, err)
			return nil
		}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.o.MaxItemBytes+1))
	if err != nil {
		b.Upstream.Error(w, call.Request, err)
		return nil
	}
	if resp.StatusCode == http.StatusOK && int64(len(body)) <= c.o.MaxItemBytes && cleanSuccess(body) {
		c.set(ctx, k, body, c.o.MetadataTTL)
	}
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.Header().Set(Header, Miss)
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
	if int64(len(body)) > c.o.MaxItemBytes {
		// Too large to cache: the rest follows as the backend sends it.
		// A backend failing midway aborts the answer, so that it is never
		// taken for a whole one.
		if _, err := io.Copy(w, resp.Body); err != nil {
			panic(http.ErrAbortHandler)
		}
	}
	return nil
}

// cleanSuccess reports whether an answer is a success without warnings.
func cleanSuccess(body []byte) bool {
	var a struct {
		Status   string            `json:"status"`
		Warnings []json.RawMessage `json:"warnings"`
		Infos    []json.RawMessage `json:"infos"`
	}
	if bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) && json.Unmarshal(body, &a) == nil {
		return a.Status == "success" && len(a.Warnings) == 0 && len(a.Infos) == 0
	}
	return false
}

// roundTime rounds an API time down to a multiple of ttl milliseconds;
// -1 for none, false for one it cannot read.
func roundTime(s string, ttl int64) (int64, bool) {
	if s == "" {
		return -1, true
	}
	t, ok := parseLokiTime(s)
	return floorDiv(t, ttl) * ttl, ok
}
