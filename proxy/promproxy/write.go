package promproxy

import (
	"bytes"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/tollgate-dev/tollgate/proxy"
	"github.com/tollgate-dev/tollgate/proxy/ingest"
	"github.com/tollgate-dev/tollgate/proxy/remotewrite"
	"github.com/tollgate-dev/tollgate/proxy/upstream"
)

const routeWrite = "/api/v1/write"

// WriteOptions configure the remote-write endpoint, /api/v1/write.
type WriteOptions struct {
	// URL is where checked writes go (upstreams.remote_write); nil means
	// Upstream followed by /api/v1/write.
	URL *url.URL
	// Label is the enforced label (tenancy.label).
	Label string
	// MaxBytes caps the body as sent (proxy.max_push_bytes).
	MaxBytes int64
	// Limits bound the decompressed body and what it holds.
	Limits remotewrite.Limits
	// Concurrent bounds the writes decoded at once
	// (proxy.max_concurrent_pushes).
	Concurrent int64
}

// writer is the remote-write endpoint's state.
type writer struct {
	opts WriteOptions
	up   *upstream.Upstream
	gate *ingest.Gate
}

func (h *Handler) newWriter() *writer {
	o := h.opts.Write
	target := o.URL
	if target == nil {
		u := *h.opts.Upstream
		u.Path = strings.TrimSuffix(u.Path, "/") + routeWrite
		target = &u
	}
	return &writer{
		opts: o,
		up:   proxy.NewUpstream(target, "the remote-write receiver", h.opts.Transport, h.opts.Logger, h),
		gate: ingest.NewGate(ingest.Limit{Max: o.Concurrent, Key: "proxy.max_concurrent_pushes"}, "writes"),
	}
}

// serveWrite checks a remote write (protocol 1.0) series by series against
// the writer's tenants and forwards it re-encoded, or refuses it whole:
// one foreign series and nothing is written. Admins' writes are checked
// too (for their form and limits), and may name any namespace.
func (h *Handler) serveWrite(w http.ResponseWriter, c *proxy.Call) *proxy.Error {
	r := c.Request
	if r.Method != http.MethodPost {
		e := proxy.Errorf(http.StatusMethodNotAllowed, "method %s is not allowed on the remote-write endpoint; use POST", r.Method)
		e.Header = http.Header{"Allow": {http.MethodPost}}
		return e
	}
	version, perr := checkWriteHeaders(r)
	if perr != nil {
		return perr
	}
	// The slot is taken before the body is read: the body is where a
	// write's memory goes.
	leave, err := h.writer.gate.Enter()
	if err != nil {
		e := proxy.Errorf(http.StatusTooManyRequests, "remote write refused, nothing was written: %s", err)
		e.Header = http.Header{"Retry-After": {"1"}}
		return e
	}
	defer leave()
	o := h.writer.opts
	sent := ingest.Limit{Max: o.MaxBytes, Key: "proxy.max_push_bytes"}
	block, err := ingest.ReadBody(r.Body, r.ContentLength, sent, "bytes in the remote write as sent")
	if err != nil {
		return writeError(err)
	}
	checked, err := remotewrite.Rewrite(block, version, o.Label, c.Access, o.Limits)
	if err != nil {
		return writeError(err)
	}
	if version == remotewrite.V2 {
		// What a 2.0 sender reads to know its write landed whole; a
		// failed forward's status says otherwise.
		h := w.Header()
		h.Set("X-Prometheus-Remote-Write-Samples-Written", strconv.Itoa(checked.Samples))
		h.Set("X-Prometheus-Remote-Write-Histograms-Written", strconv.Itoa(checked.Histograms))
		h.Set("X-Prometheus-Remote-Write-Exemplars-Written", strconv.Itoa(checked.Exemplars))
	}
	if checked.Series == 0 && checked.Metadata == 0 {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return h.forwardWrite(w, c, checked.Block)
}

// checkWriteHeaders reads the protocol version of a remote write:
// protobuf and snappy, message prometheus.WriteRequest (1.0, the default)
// or io.prometheus.write.v2.Request (2.0).
func checkWriteHeaders(r *http.Request) (remotewrite.Version, *proxy.Error) {
	ct, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/x-protobuf" {
		return 0, proxy.Errorf(http.StatusUnsupportedMediaType, "Content-Type %q is not supported; remote write sends application/x-protobuf", r.Header.Get("Content-Type"))
	}
	if enc := r.Header.Get("Content-Encoding"); enc != "snappy" {
		return 0, proxy.Errorf(http.StatusUnsupportedMediaType, "Content-Encoding %q is not supported; remote write sends snappy", enc)
	}
	switch p := params["proto"]; p {
	case "", "prometheus.WriteRequest":
		return remotewrite.V1, nil
	case "io.prometheus.write.v2.Request":
		return remotewrite.V2, nil
	default:
		return 0, proxy.Errorf(http.StatusUnsupportedMediaType, "remote-write message %q is not supported; use prometheus.WriteRequest (1.0) or io.prometheus.write.v2.Request (2.0)", p)
	}
}

// forwardWrite sends the re-encoded request. The org ID is Tollgate's,
// never the client's.
func (h *Handler) forwardWrite(w http.ResponseWriter, c *proxy.Call, body []byte) *proxy.Error {
	ctx, cancel := upstream.WithTimeout(c.Request.Context(), h.opts.Timeout)
	defer cancel()
	target := h.writer.up.URL("")
	out, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), bytes.NewReader(body))
	if err != nil {
		return proxy.Errorf(http.StatusInternalServerError, "building the remote-write request: %v", err)
	}
	upstream.CopyHeaders(out.Header, c.Request.Header, upstream.Forwarded())
	out.Header.Set("Content-Type", "application/x-protobuf")
	out.Header.Set("Content-Encoding", "snappy")
	out.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	h.setOrgID(out, c.Access)
	h.writer.up.ProxyConfined(w, out)
	return nil
}

// writeError is the answer to a write refused on the way.
func writeError(err error) *proxy.Error {
	var le *ingest.LimitError
	var ref *remotewrite.Refusal
	switch {
	case errors.As(err, &ref):
		return proxy.Forbidden("%s", ref)
	case errors.As(err, &le):
		return proxy.Errorf(http.StatusRequestEntityTooLarge, "remote write refused, nothing was written: %s", le)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return proxy.Errorf(http.StatusRequestTimeout, "remote write refused, nothing was written: the body did not arrive in time (proxy.body_read_timeout)")
	}
	return proxy.BadData("remote write refused, nothing was written: %s", err)
}
