package lokiproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/golang/snappy"
	"github.com/grafana/loki/pkg/push"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/tollgate-dev/tollgate/logql"
	"github.com/tollgate-dev/tollgate/proxy"
	"github.com/tollgate-dev/tollgate/proxy/ingest"
	"github.com/tollgate-dev/tollgate/proxy/upstream"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// maxListed bounds how many offending streams a refusal names.
const maxListed = 10

// pushErr is a refused push with its status.
func pushErr(status int, format string, args ...any) error {
	return proxy.Errorf(status, format, args...)
}

// PushLimits bound what one push may hold, counted while it is decoded,
// and how many pushes are decoded at once. A limit of zero refuses every
// push; gateway.FromConfig passes the configured values or their defaults.
type PushLimits struct {
	Streams            int64 // proxy.max_push_streams
	Entries            int64 // proxy.max_push_entries
	StructuredMetadata int64 // proxy.max_push_structured_metadata_pairs
	LabelBytes         int64 // proxy.max_push_label_bytes
	Concurrent         int64 // proxy.max_concurrent_pushes
}

func newPushGate(opts Options) *ingest.Gate {
	return ingest.NewGate(ingest.Limit{Max: opts.PushLimits.Concurrent, Key: "proxy.max_concurrent_pushes"}, "pushes")
}

// pushCounter counts what a push holds as it is decoded and refuses it
// the moment it passes a limit.
type pushCounter struct {
	streams, entries, metadata, labelBytes             int64
	maxStreams, maxEntries, maxMetadata, maxLabelBytes ingest.Limit
}

func (h *Handler) newPushCounter() *pushCounter {
	l := h.opts.PushLimits
	return &pushCounter{
		maxStreams:    ingest.Limit{Max: l.Streams, Key: "proxy.max_push_streams"},
		maxEntries:    ingest.Limit{Max: l.Entries, Key: "proxy.max_push_entries"},
		maxMetadata:   ingest.Limit{Max: l.StructuredMetadata, Key: "proxy.max_push_structured_metadata_pairs"},
		maxLabelBytes: ingest.Limit{Max: l.LabelBytes, Key: "proxy.max_push_label_bytes"},
	}
}

func (c *pushCounter) addStream() error {
	c.streams++
	return ingest.Check(c.streams, c.maxStreams, "streams in one push")
}

func (c *pushCounter) addEntry() error {
	c.entries++
	return ingest.Check(c.entries, c.maxEntries, "entries in one push")
}

// appendEntry appends to a stream's entries, doubling the slice when it
// is full but never past what the entry limit leaves: append grows large
// slices by a quarter at a time, and with 100,000 entries the copies
// would cost five times the slice.
func (c *pushCounter) appendEntry(entries []push.Entry, e push.Entry) []push.Entry {
	if len(entries) == cap(entries) {
		// c.entries already counts e; the limit leaves room for the rest.
		n := min(max(2*cap(entries), 8), len(entries)+1+int(c.maxEntries.Max-c.entries))
		entries = slices.Grow(entries, n-len(entries))
	}
	return append(entries, e)
}

func (c *pushCounter) addMetadata() error {
	c.metadata++
	return ingest.Check(c.metadata, c.maxMetadata, "structured metadata pairs in one push")
}

func (c *pushCounter) addLabelBytes(n int) error {
	c.labelBytes += int64(n)
	return ingest.Check(c.labelBytes, c.maxLabelBytes, "bytes of stream labels in one push")
}

func (h *Handler) decompressedLimit() ingest.Limit {
	return ingest.Limit{Max: h.opts.MaxPushDecompressed, Key: "proxy.max_push_decompressed_bytes"}
}

// servePush checks every stream of a push against the identity's tenants
// and forwards the request whole, or refuses it whole: a push that mixes
// allowed and foreign streams writes nothing.
//
// The request is decoded (protobuf+snappy, or Loki's JSON format) and
// forwarded re-encoded as protobuf+snappy, so Loki receives exactly the
// streams that were checked, never bytes that a second parser might read
// differently. Every stage is bounded: the pushes decoded at once, the
// bytes read and decompressed, the streams, entries and labels decoded,
// and the size of the re-encoded request.
func (h *Handler) servePush(w http.ResponseWriter, c *proxy.Call) *proxy.Error {
	r := c.Request
	if r.Method != http.MethodPost {
		return proxy.Errorf(http.StatusMethodNotAllowed, "method %s is not allowed on the push endpoint; use POST", r.Method)
	}
	// The slot is taken before the body is read: the body is where a
	// push's memory goes.
	leave, err := h.pushGate.Enter()
	if err != nil {
		e := proxy.Errorf(http.StatusTooManyRequests, "push refused, nothing was written: %s", err)
		e.Header = http.Header{"Retry-After": {"1"}}
		return e
	}
	defer leave()
	req, err := h.decodePush(r)
	if err != nil {
		return pushError(err)
	}
	org, err := h.checkPush(req, c.Access)
	if err != nil {
		return pushError(err)
	}
	return h.forwardPush(w, r, req, org)
}

// pushError is the answer to a push refused on the way.
func pushError(err error) *proxy.Error {
	var pe *proxy.Error
	var le *ingest.LimitError
	var ee *ingest.EncodingError
	switch {
	case errors.As(err, &pe):
		return pe
	case errors.As(err, &le):
		return proxy.Errorf(http.StatusRequestEntityTooLarge, "push refused, nothing was written: %s", le)
	case errors.As(err, &ee):
		return proxy.Errorf(http.StatusUnsupportedMediaType, "%s", ee)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return proxy.Errorf(http.StatusRequestTimeout, "push refused, nothing was written: the body did not arrive in time (proxy.body_read_timeout)")
	}
	return proxy.BadData("push refused, nothing was written: %s", err)
}

func (h *Handler) decodePush(r *http.Request) (*push.PushRequest, error) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, pushErr(http.StatusUnsupportedMediaType, "Content-Type %q: %v; use application/x-protobuf or application/json", r.Header.Get("Content-Type"), err)
	}
	if ct != "application/x-protobuf" && ct != "application/json" {
		return nil, pushErr(http.StatusUnsupportedMediaType, "Content-Type %q is not supported; use application/x-protobuf or application/json", ct)
	}
	sent := ingest.Limit{Max: h.opts.MaxPushBytes, Key: "proxy.max_push_bytes"}
	if err := ingest.Check(r.ContentLength, sent, "bytes in the push body as sent"); err != nil {
		return nil, err
	}
	enc := r.Header.Get("Content-Encoding")
	if enc == "snappy" {
		// Protobuf bodies are snappy-compressed whatever this header
		// says, as in Loki.
		enc = ""
	}
	body, err := ingest.Decompress(enc, ingest.Bounded(r.Body, sent, "bytes in the push body as sent"), h.decompressedLimit())
	if err != nil {
		return nil, err
	}
	defer body.Close()
	c := h.newPushCounter()
	if ct == "application/json" {
		return decodeJSONPush(body, c)
	}
	sizeHint := int64(0)
	if enc == "" {
		sizeHint = r.ContentLength
	}
	compressed, err := ingest.ReadBody(body, sizeHint, h.decompressedLimit(), "decompressed bytes")
	if err != nil {
		return nil, err
	}
	raw, err := ingest.DecodeSnappy(compressed, h.decompressedLimit())
	if err != nil {
		return nil, fmt.Errorf("push body: %w", err)
	}
	return decodeProtoPush(raw, c)
}

// checkPush verifies that every stream's namespace belongs to one of the
// identity's tenants, gives streams without one the identity's default
// namespace, and returns the one Loki org ID the whole request goes to.
func (h *Handler) checkPush(req *push.PushRequest, a tenancy.Access) (string, error) {
	var offenders []string
	var orgs []string // org IDs that own every accepted stream so far
	anyAccepted := false
	for i := range req.Streams {
		streamOrgs, offence, err := h.checkStream(&req.Streams[i], a)
		switch {
		case err != nil:
			return "", err
		case offence != "":
			offenders = append(offenders, offence)
		case !anyAccepted:
			orgs, anyAccepted = streamOrgs, true
		default:
			orgs = slices.DeleteFunc(orgs, func(o string) bool { return !slices.Contains(streamOrgs, o) })
		}
	}
	if len(offenders) > 0 {
		n := len(offenders)
		if n > maxListed {
			offenders = append(offenders[:maxListed], fmt.Sprintf("and %d more", n-maxListed))
		}
		return "", pushErr(http.StatusForbidden, "push refused, nothing was written: %d of %d streams are outside your namespaces: %s",
			n, len(req.Streams), strings.Join(offenders, "; "))
	}
	orgs = slices.Compact(sortedCopy(orgs))
	switch {
	case len(req.Streams) == 0:
		return "", nil
	case len(orgs) != 1:
		return "", pushErr(http.StatusBadRequest, "push refused, nothing was written: its streams belong to different Loki tenants; push each tenant's streams in its own request")
	}
	return orgs[0], nil
}

// checkStream checks one stream and puts its labels in canonical form. It
// returns the org IDs that own the stream's namespace, or why the stream
// is not the identity's to push (offence), or an error that refuses the
// whole push at once.
func (h *Handler) checkStream(s *push.Stream, a tenancy.Access) (orgs []string, offence string, err error) {
	label := h.opts.Label
	lbs, err := logql.ParseLabels(s.Labels)
	if err != nil {
		return nil, "", fmt.Errorf("stream %s: invalid labels: %w", s.Labels, err)
	}
	// Loki's parser accepts a label named twice, and so does ParseLabels;
	// Get would check only one of the values, so such a stream is never
	// let through.
	if name, dup := lbs.HasDuplicateLabelNames(); dup {
		return nil, "", pushErr(http.StatusBadRequest, "push refused, nothing was written: stream %s names label %q twice", s.Labels, name)
	}
	if err := checkNames(s, lbs); err != nil {
		return nil, "", err
	}
	ns := lbs.Get(label)
	if ns == "" {
		def, ok := a.DefaultNamespace()
		if !ok {
			return nil, fmt.Sprintf("%s (no %s label, and you have no single default_namespace)", s.Labels, label), nil
		}
		ns = def
		lbs = labels.NewBuilder(lbs).Set(label, ns).Labels()
	}
	if a.ClusterConfined() {
		var offence string
		if lbs, offence = confineCluster(lbs, a); offence != "" {
			return nil, fmt.Sprintf("%s (%s)", s.Labels, offence), nil
		}
	}
	// Forward the labels as parsed and checked, in canonical form.
	s.Labels = lbs.String()
	owners := a.Owners(ns)
	if len(owners) == 0 {
		return nil, fmt.Sprintf("%s (%s %q is not yours)", s.Labels, label, ns), nil
	}
	for _, tn := range owners {
		orgs = append(orgs, tn.LokiOrgID)
	}
	// Entries carry no "parsed" labels in a push; drop any a client sent,
	// so that Loki stores only what was checked.
	for j := range s.Entries {
		s.Entries[j].Parsed = nil
	}
	s.Hash = 0 // Loki computes it from the labels it stores
	return orgs, "", nil
}

// confineCluster checks a stream of a tenant confined to clusters: its
// cluster label must name one of the tenant's clusters, or be absent when
// the tenant has exactly one cluster, which is then set. Otherwise it
// returns why the stream is refused.
func confineCluster(lbs labels.Labels, a tenancy.Access) (labels.Labels, string) {
	label, mine := a.Clusters.Label(), a.Clusters.Namespaces()
	cl := lbs.Get(label)
	switch {
	case cl != "" && a.Clusters.Matches(cl):
		return lbs, ""
	case cl != "":
		return lbs, fmt.Sprintf("%s %q is not one of your clusters %s", label, cl, strings.Join(mine, ", "))
	case len(mine) != 1:
		return lbs, fmt.Sprintf("no %s label, and you have several clusters: %s", label, strings.Join(mine, ", "))
	}
	return labels.NewBuilder(lbs).Set(label, mine[0]).Labels(), ""
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// forwardPush sends the checked request to Loki as protobuf+snappy.
func (h *Handler) forwardPush(w http.ResponseWriter, r *http.Request, req *push.PushRequest, org string) *proxy.Error {
	if len(req.Streams) == 0 {
		w.WriteHeader(http.StatusNoContent) // nothing to write, nothing to ask Loki
		return nil
	}
	// Labels added (a default namespace) and the protobuf framing of a JSON
	// push can make the request Loki receives larger than the one that was
	// bounded; it is never built larger than the decompressed bound.
	if n := req.Size(); int64(n) > h.opts.MaxPushDecompressed {
		return pushError(ingest.Over(h.decompressedLimit(), "bytes once re-encoded for Loki"))
	}
	raw, err := req.Marshal()
	if err != nil {
		return proxy.Errorf(http.StatusInternalServerError, "encoding the push request: %v", err)
	}
	ctx, cancel := upstream.WithTimeout(r.Context(), h.opts.Timeout)
	defer cancel()
	out, err := h.pushRequest(ctx, snappy.Encode(nil, raw), r.Header)
	if err != nil {
		return proxy.Errorf(http.StatusInternalServerError, "%s", err)
	}
	out.Header.Set(OrgHeader, org)
	h.up.ProxyConfined(w, out)
	return nil
}

func (h *Handler) pushRequest(ctx context.Context, body []byte, src http.Header) (*http.Request, error) {
	target := h.up.URL("/loki/api/v1/push")
	out, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("building the push request: %w", err)
	}
	out.Header.Set("Content-Type", "application/x-protobuf")
	upstream.CopyHeaders(out.Header, src, upstream.Forwarded())
	return out, nil
}
