package lokiproxy

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang/snappy"
	"github.com/grafana/loki/v3/pkg/logproto"
	"github.com/grafana/loki/v3/pkg/logql/syntax"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/tollgate-dev/tollgate/proxy/upstream"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// maxListed bounds how many offending streams a refusal names.
const maxListed = 10

// pushError is a refused push with its HTTP status.
type pushError struct {
	status int
	msg    string
}

func (e *pushError) Error() string { return e.msg }

func pushErr(status int, format string, args ...any) error {
	return &pushError{status: status, msg: fmt.Sprintf(format, args...)}
}

// servePush checks every stream of a push against the identity's tenants
// and forwards the request whole, or refuses it whole: a push that mixes
// allowed and foreign streams writes nothing.
//
// The request is decoded with logproto (protobuf+snappy, or Loki's JSON
// format) and forwarded re-encoded as protobuf+snappy, so Loki receives
// exactly the streams that were checked, never bytes that a second parser
// might read differently.
func (h *Handler) servePush(w http.ResponseWriter, r *http.Request, a tenancy.Access) {
	if r.Method != http.MethodPost {
		WriteError(w, http.StatusMethodNotAllowed, "", fmt.Sprintf("method %s is not allowed on the push endpoint; use POST", r.Method))
		return
	}
	req, err := h.decodePush(r)
	if err == nil {
		var org string
		org, err = h.checkPush(req, a)
		if err == nil {
			h.forwardPush(w, r, req, org)
			return
		}
	}
	var pe *pushError
	if errors.As(err, &pe) {
		WriteError(w, pe.status, "", pe.msg)
		return
	}
	WriteError(w, http.StatusBadRequest, "", err.Error())
}

func (h *Handler) decodePush(r *http.Request) (*logproto.PushRequest, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, h.opts.MaxPushBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the push body: %w", err)
	}
	if int64(len(body)) > h.opts.MaxPushBytes {
		return nil, pushErr(http.StatusRequestEntityTooLarge, "push body is larger than %d bytes (proxy.max_push_bytes)", h.opts.MaxPushBytes)
	}
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "", "snappy":
		// Protobuf bodies are snappy-compressed whatever this header says,
		// as in Loki.
	case "gzip", "deflate":
		if body, err = h.inflate(enc, body); err != nil {
			return nil, err
		}
	default:
		return nil, pushErr(http.StatusUnsupportedMediaType, "Content-Encoding %q is not supported; use gzip, deflate or none", enc)
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, pushErr(http.StatusUnsupportedMediaType, "Content-Type %q: %v; use application/x-protobuf or application/json", r.Header.Get("Content-Type"), err)
	}
	var req logproto.PushRequest
	switch ct {
	case "application/x-protobuf":
		n, err := snappy.DecodedLen(body)
		if err != nil {
			return nil, fmt.Errorf("push body is not snappy-compressed protobuf: %w", err)
		}
		if int64(n) > h.opts.MaxPushDecompressed {
			return nil, pushErr(http.StatusRequestEntityTooLarge, "decompressed push is %d bytes, more than %d", n, h.opts.MaxPushDecompressed)
		}
		raw, err := snappy.Decode(nil, body)
		if err != nil {
			return nil, fmt.Errorf("decompressing the push body: %w", err)
		}
		if err := req.Unmarshal(raw); err != nil {
			return nil, fmt.Errorf("decoding the push request: %w", err)
		}
	case "application/json":
		if err := decodeJSONPush(body, &req); err != nil {
			return nil, err
		}
	default:
		return nil, pushErr(http.StatusUnsupportedMediaType, "Content-Type %q is not supported; use application/x-protobuf or application/json", ct)
	}
	return &req, nil
}

func (h *Handler) inflate(enc string, body []byte) ([]byte, error) {
	var rd io.ReadCloser
	var err error
	if enc == "gzip" {
		rd, err = gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("push body is not gzip: %w", err)
		}
	} else {
		rd = flate.NewReader(bytes.NewReader(body))
	}
	defer rd.Close()
	out, err := io.ReadAll(io.LimitReader(rd, h.opts.MaxPushDecompressed+1))
	if err != nil {
		return nil, fmt.Errorf("decompressing the push body: %w", err)
	}
	if int64(len(out)) > h.opts.MaxPushDecompressed {
		return nil, pushErr(http.StatusRequestEntityTooLarge, "decompressed push is more than %d bytes", h.opts.MaxPushDecompressed)
	}
	return out, nil
}

// jsonPush is Loki's JSON push format:
// {"streams":[{"stream":{"k":"v"},"values":[["<ns>","<line>",{"meta":"v"}]]}]}
type jsonPush struct {
	Streams []struct {
		Stream map[string]string   `json:"stream"`
		Values [][]json.RawMessage `json:"values"`
	} `json:"streams"`
}

func decodeJSONPush(body []byte, req *logproto.PushRequest) error {
	var p jsonPush
	if err := json.Unmarshal(body, &p); err != nil {
		return fmt.Errorf("decoding the JSON push request: %w", err)
	}
	for i, s := range p.Streams {
		stream := logproto.Stream{Labels: labels.FromMap(s.Stream).String()}
		for j, v := range s.Values {
			e, err := decodeJSONEntry(v)
			if err != nil {
				return fmt.Errorf("streams[%d].values[%d]: %w", i, j, err)
			}
			stream.Entries = append(stream.Entries, e)
		}
		req.Streams = append(req.Streams, stream)
	}
	return nil
}

func decodeJSONEntry(v []json.RawMessage) (logproto.Entry, error) {
	var e logproto.Entry
	if len(v) != 2 && len(v) != 3 {
		return e, fmt.Errorf("an entry is [\"<unix nanoseconds>\", \"<line>\"] with an optional object of structured metadata, got %d elements", len(v))
	}
	var ts, line string
	if err := json.Unmarshal(v[0], &ts); err != nil {
		return e, fmt.Errorf("timestamp must be a string of Unix nanoseconds: %w", err)
	}
	ns, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return e, fmt.Errorf("timestamp %q is not Unix nanoseconds", ts)
	}
	if err := json.Unmarshal(v[1], &line); err != nil {
		return e, fmt.Errorf("line must be a string: %w", err)
	}
	e.Timestamp, e.Line = time.Unix(0, ns).UTC(), line
	if len(v) == 3 {
		var meta map[string]string
		if err := json.Unmarshal(v[2], &meta); err != nil {
			return e, fmt.Errorf("structured metadata must be an object of strings: %w", err)
		}
		labels.FromMap(meta).Range(func(l labels.Label) {
			e.StructuredMetadata = append(e.StructuredMetadata, logproto.LabelAdapter{Name: l.Name, Value: l.Value})
		})
	}
	return e, nil
}

// checkPush verifies that every stream's namespace belongs to one of the
// identity's tenants, gives streams without one the identity's default
// namespace, and returns the one Loki org ID the whole request goes to.
func (h *Handler) checkPush(req *logproto.PushRequest, a tenancy.Access) (string, error) {
	label := h.opts.Label
	var offenders []string
	var orgs []string // org IDs that own every accepted stream so far
	anyAccepted := false
	for i := range req.Streams {
		s := &req.Streams[i]
		lbs, err := syntax.ParseLabels(s.Labels)
		if err != nil {
			return "", fmt.Errorf("stream %s: invalid labels: %w", s.Labels, err)
		}
		// Loki's parser accepts a label named twice; Get would check only
		// one of the values, so such a stream is never let through.
		if name, dup := lbs.HasDuplicateLabelNames(); dup {
			return "", pushErr(http.StatusBadRequest, "push refused, nothing was written: stream %s names label %q twice", s.Labels, name)
		}
		ns := lbs.Get(label)
		if ns == "" {
			def, ok := a.DefaultNamespace()
			if !ok {
				offenders = append(offenders, fmt.Sprintf("%s (no %s label, and you have no single default_namespace)", s.Labels, label))
				continue
			}
			ns = def
			lbs = labels.NewBuilder(lbs).Set(label, ns).Labels()
		}
		// Forward the labels as parsed and checked, in canonical form.
		s.Labels = lbs.String()
		owners := a.Owners(ns)
		if len(owners) == 0 {
			offenders = append(offenders, fmt.Sprintf("%s (%s %q is not yours)", s.Labels, label, ns))
			continue
		}
		var streamOrgs []string
		for _, tn := range owners {
			streamOrgs = append(streamOrgs, tn.LokiOrgID)
		}
		if !anyAccepted {
			orgs, anyAccepted = streamOrgs, true
		} else {
			orgs = slices.DeleteFunc(orgs, func(o string) bool { return !slices.Contains(streamOrgs, o) })
		}
		// Entries carry no "parsed" labels in a push; drop any a client
		// sent, so that Loki stores only what was checked.
		for j := range s.Entries {
			s.Entries[j].Parsed = nil
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

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// forwardPush sends the checked request to Loki as protobuf+snappy.
func (h *Handler) forwardPush(w http.ResponseWriter, r *http.Request, req *logproto.PushRequest, org string) {
	if len(req.Streams) == 0 {
		w.WriteHeader(http.StatusNoContent) // nothing to write, nothing to ask Loki
		return
	}
	raw, err := req.Marshal()
	if err != nil {
		WriteError(w, http.StatusInternalServerError, "", fmt.Sprintf("encoding the push request: %v", err))
		return
	}
	ctx, cancel := upstream.WithTimeout(r.Context(), h.opts.Timeout)
	defer cancel()
	out, err := h.pushRequest(ctx, snappy.Encode(nil, raw), r.Header)
	if err != nil {
		WriteError(w, http.StatusInternalServerError, "", err.Error())
		return
	}
	out.Header.Set(OrgHeader, org)
	h.up.Proxy(w, out)
}

func (h *Handler) pushRequest(ctx context.Context, body []byte, src http.Header) (*http.Request, error) {
	target := h.up.URL("/loki/api/v1/push")
	out, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("building the push request: %w", err)
	}
	out.Header.Set("Content-Type", "application/x-protobuf")
	upstream.CopyHeaders(out.Header, src, upstream.Forwarded)
	return out, nil
}
