// Package remotewrite checks Prometheus remote-write requests (protocol
// 1.0, prometheus.WriteRequest) against the writer's tenants, the way Loki
// pushes are checked stream by stream: every series' namespace label must
// be one of the writer's, a series without one gets the writer's default
// namespace, and one foreign series refuses the whole request. What is
// forwarded is re-encoded from what was checked.
package remotewrite

import (
	"fmt"
	"slices"
	"strings"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/tollgate-dev/tollgate/proxy/ingest"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// Limits bound what one request may hold, counted on the wire before it
// is decoded: decoding multiplies a request's size in memory, and these
// bound the multiple.
type Limits struct {
	Decompressed ingest.Limit // proxy.max_push_decompressed_bytes
	Series       ingest.Limit // proxy.max_remote_write_series
	Samples      ingest.Limit // proxy.max_remote_write_samples: samples, histograms and exemplars
	Labels       ingest.Limit // proxy.max_remote_write_label_pairs: of series and exemplars
}

// maxListed bounds how many offending series a refusal names.
const maxListed = 10

// Decode decompresses a snappy block and decodes the WriteRequest in it.
// The decoded length stated by the block is checked before anything is
// allocated for it, and the series, samples and labels are counted on the
// wire before the request is decoded.
func Decode(block []byte, lim Limits) (*prompb.WriteRequest, error) {
	raw, err := ingest.DecodeSnappy(block, lim.Decompressed)
	if err != nil {
		return nil, err
	}
	n, err := count(raw, lim)
	if err != nil {
		return nil, err
	}
	// The decoder appends series one by one; sized from the count, the
	// slice is allocated once instead of copied as it grows.
	req := prompb.WriteRequest{Timeseries: make([]prompb.TimeSeries, 0, n)}
	if err := req.Unmarshal(raw); err != nil {
		return nil, fmt.Errorf("the body is not a remote-write 1.0 WriteRequest: %w", err)
	}
	return &req, nil
}

// Encode re-encodes a checked request as a snappy block.
func Encode(req *prompb.WriteRequest) ([]byte, error) {
	raw, err := req.Marshal()
	if err != nil {
		return nil, fmt.Errorf("encoding the checked request: %w", err)
	}
	return snappy.Encode(nil, raw), nil
}

// counter tallies what a request holds against its limits.
type counter struct {
	lim                    Limits
	series, samples, pairs int64
}

func (c *counter) add(n *int64, lim ingest.Limit, what string) error {
	*n++
	return ingest.Check(*n, lim, what)
}

// count walks the request's wire format: WriteRequest.timeseries (1),
// and in each TimeSeries its labels (1), samples (2), exemplars (3, with
// their labels) and histograms (4).
func count(raw []byte, lim Limits) (int64, error) {
	c := &counter{lim: lim}
	err := fields(raw, func(num protowire.Number, v []byte) error {
		if num != 1 {
			return nil
		}
		if err := c.add(&c.series, lim.Series, "series in one remote write"); err != nil {
			return err
		}
		return fields(v, func(num protowire.Number, v []byte) error {
			switch num {
			case 1:
				return c.add(&c.pairs, lim.Labels, "label pairs in one remote write")
			case 2, 4:
				return c.add(&c.samples, lim.Samples, "samples, histograms and exemplars in one remote write")
			case 3:
				if err := c.add(&c.samples, lim.Samples, "samples, histograms and exemplars in one remote write"); err != nil {
					return err
				}
				return fields(v, func(num protowire.Number, _ []byte) error {
					if num == 1 {
						return c.add(&c.pairs, lim.Labels, "label pairs in one remote write")
					}
					return nil
				})
			}
			return nil
		})
	})
	return c.series, err
}

// fields calls f with each length-delimited field of a message; other
// wire types are skipped. Malformed input is an error.
func fields(b []byte, f func(protowire.Number, []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("the body is not a remote-write 1.0 WriteRequest: %w", protowire.ParseError(n))
		}
		b = b[n:]
		if typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return fmt.Errorf("the body is not a remote-write 1.0 WriteRequest: %w", protowire.ParseError(n))
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return fmt.Errorf("the body is not a remote-write 1.0 WriteRequest: %w", protowire.ParseError(n))
		}
		if err := f(num, v); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// Refusal is a request refused because of what its series say: foreign
// namespaces, or no namespace and no default. Callers answer it with 403.
type Refusal struct {
	Label    string
	Problems []string // at most maxListed
	Total    int
}

func (r *Refusal) Error() string {
	more := ""
	if r.Total > len(r.Problems) {
		more = fmt.Sprintf(" (and %d more)", r.Total-len(r.Problems))
	}
	return fmt.Sprintf("remote write refused, nothing was written: %d series are outside your namespaces on label %q: %s%s",
		r.Total, r.Label, strings.Join(r.Problems, "; "), more)
}

// Check confines a decoded request to the writer's namespaces, in place:
// every series' label must be one of them (for admins, any), a series
// without it gets the writer's default namespace, and exemplars may carry
// the label only with the series' own value. Metadata carries no labels
// and cannot be confined, so a tenant's is dropped; admins' pass. Fields
// this version does not know are dropped, so that what is forwarded is
// exactly what was checked. Any offence refuses the whole request.
func Check(req *prompb.WriteRequest, label string, a tenancy.Access) error {
	def, hasDef := a.DefaultNamespace()
	ref := &Refusal{Label: label}
	w := &writerScope{a: a, def: def, hasDef: hasDef, seen: map[string]bool{}}
	for i := range req.Timeseries {
		if problem := w.checkSeries(&req.Timeseries[i], label); problem != "" {
			ref.Total++
			if len(ref.Problems) < maxListed {
				ref.Problems = append(ref.Problems, problem)
			}
		}
	}
	if ref.Total > 0 {
		return ref
	}
	if !a.Admin {
		req.Metadata = nil
	}
	scrub(req)
	return nil
}

// checkSeries checks one series and gives it the default namespace if it
// has none; it returns what is wrong with it, or "".
func (w *writerScope) checkSeries(ts *prompb.TimeSeries, label string) string {
	ns, n := value(ts.Labels, label)
	switch {
	case n > 1:
		return fmt.Sprintf("%s has label %q %d times", seriesName(ts.Labels), label, n)
	case ns == "" && w.a.Admin && !w.hasDef:
		// Admins write platform series, which belong to no tenant.
		return ""
	case ns == "" && !w.hasDef:
		return fmt.Sprintf("%s has no %s and you have no default_namespace", seriesName(ts.Labels), label)
	case ns == "":
		ts.Labels = withLabel(ts.Labels, label, w.def)
		ns = w.def
	case !w.a.Admin && !w.matches(ns):
		return fmt.Sprintf("%s is in %s %q", seriesName(ts.Labels), label, ns)
	}
	for _, ex := range ts.Exemplars {
		if v, n := value(ex.Labels, label); n > 1 || (n == 1 && v != ns) {
			return fmt.Sprintf("an exemplar of %s names %s %q", seriesName(ts.Labels), label, v)
		}
	}
	return ""
}

// writerScope is the writer's access and what it has been found to
// allow in this request: a request's series share a few namespaces, whose
// glob match is computed once.
type writerScope struct {
	a      tenancy.Access
	def    string
	hasDef bool
	seen   map[string]bool
}

func (w *writerScope) matches(ns string) bool {
	ok, known := w.seen[ns]
	if !known {
		ok = w.a.Scope.Matches(ns)
		if len(w.seen) < maxCachedNamespaces {
			w.seen[ns] = ok
		}
	}
	return ok
}

// maxCachedNamespaces bounds the per-request cache of namespace checks.
const maxCachedNamespaces = 1024

// value returns a label's value and how many times it is given. A single
// empty value counts as absent, as Prometheus reads it.
func value(ls []prompb.Label, name string) (string, int) {
	var v string
	n := 0
	for _, l := range ls {
		if l.Name == name {
			v = l.Value
			n++
		}
	}
	if n == 1 && v == "" {
		return "", 0
	}
	return v, n
}

// withLabel sets a label, keeping the labels sorted by name as remote
// write requires; an empty-valued copy is replaced.
func withLabel(ls []prompb.Label, name, v string) []prompb.Label {
	ls = slices.DeleteFunc(ls, func(l prompb.Label) bool { return l.Name == name })
	i, _ := slices.BinarySearchFunc(ls, name, func(l prompb.Label, n string) int { return strings.Compare(l.Name, n) })
	return slices.Insert(ls, i, prompb.Label{Name: name, Value: v})
}

// seriesName prints a series for a refusal, its labels bounded.
func seriesName(ls []prompb.Label) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range ls {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%q", l.Name, l.Value)
		if b.Len() > 200 {
			b.WriteString(", ...")
			break
		}
	}
	b.WriteByte('}')
	return b.String()
}

// scrub drops the fields the decoder kept without knowing them.
func scrub(req *prompb.WriteRequest) {
	req.XXX_unrecognized = nil
	for i := range req.Timeseries {
		ts := &req.Timeseries[i]
		ts.XXX_unrecognized = nil
		scrubLabels(ts.Labels)
		for j := range ts.Samples {
			ts.Samples[j].XXX_unrecognized = nil
		}
		for j := range ts.Exemplars {
			ts.Exemplars[j].XXX_unrecognized = nil
			scrubLabels(ts.Exemplars[j].Labels)
		}
		for j := range ts.Histograms {
			h := &ts.Histograms[j]
			h.XXX_unrecognized = nil
			for k := range h.NegativeSpans {
				h.NegativeSpans[k].XXX_unrecognized = nil
			}
			for k := range h.PositiveSpans {
				h.PositiveSpans[k].XXX_unrecognized = nil
			}
		}
	}
	for i := range req.Metadata {
		req.Metadata[i].XXX_unrecognized = nil
	}
}

func scrubLabels(ls []prompb.Label) {
	for i := range ls {
		ls[i].XXX_unrecognized = nil
	}
}
