package remotewrite

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/tollgate-dev/tollgate/proxy/ingest"
)

// Field numbers of prometheus.WriteRequest and its messages (prompb's
// remote.proto and types.proto, remote write 1.0).
const (
	fieldTimeseries = 1 // WriteRequest
	fieldMetadata   = 3
	fieldLabels     = 1 // TimeSeries
	fieldSamples    = 2
	fieldExemplars  = 3
	fieldHistograms = 4
	fieldName       = 1 // Label
	fieldValue      = 2
)

var errMalformed = errors.New("the body is not a remote-write 1.0 WriteRequest")

// field is one field of a message on the wire.
type field struct {
	num protowire.Number
	typ protowire.Type
	v   []byte // the payload of a length-delimited field
	raw []byte // the whole field, tag included
}

// next reads the first field of b. Groups, which no remote-write message
// has, are malformed.
func next(b []byte) (field, []byte, error) {
	// The common case, a one-byte tag and a length under 128, read
	// without the general decoder.
	if len(b) >= 2 && b[0] < 0x80 && b[0]&7 == byte(protowire.BytesType) && b[0]>>3 != 0 && b[1] < 0x80 && int(b[1]) <= len(b)-2 {
		end := 2 + int(b[1])
		return field{num: protowire.Number(b[0] >> 3), typ: protowire.BytesType, v: b[2:end], raw: b[:end]}, b[end:], nil
	}
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return field{}, nil, fmt.Errorf("%w: %v", errMalformed, protowire.ParseError(n))
	}
	f := field{num: num, typ: typ}
	var m int
	switch typ {
	case protowire.BytesType:
		f.v, m = protowire.ConsumeBytes(b[n:])
	case protowire.VarintType, protowire.Fixed64Type, protowire.Fixed32Type:
		m = protowire.ConsumeFieldValue(num, typ, b[n:])
	default:
		return field{}, nil, fmt.Errorf("%w: field %d has wire type %d", errMalformed, num, typ)
	}
	if m < 0 {
		return field{}, nil, fmt.Errorf("%w: %v", errMalformed, protowire.ParseError(m))
	}
	f.raw = b[:n+m]
	return f, b[n+m:], nil
}

// each calls fn with every field of a message.
func each(b []byte, fn func(field) error) error {
	for len(b) > 0 {
		f, rest, err := next(b)
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			return err
		}
		b = rest
	}
	return nil
}

// want checks a known field's wire type.
func want(f field, typ protowire.Type, msg string) error {
	if f.typ != typ {
		return fmt.Errorf("%w: %s field %d has wire type %d", errMalformed, msg, f.num, f.typ)
	}
	return nil
}

// rewriter checks a request and writes it anew.
type rewriter struct {
	label string
	lim   Limits
	scope writerScope
	ref   Refusal

	series, samples, pairs int64
	metadata               int
	kinds                  [3]int // samples, histograms, exemplars

	// raw is the request read; out what is written of it, nil while
	// that is raw's first same bytes (every field so far kept as it came).
	raw     []byte
	same    int
	out     []byte
	body    []byte // the series being written, after its labels
	labels  []wireLabel
	exNS    []exemplarNS
	scratch []byte
	// cluster is the cluster label for a writer confined to clusters, ""
	// otherwise; clusterDef the writer's cluster when it has exactly one.
	cluster, clusterDef string
}

type wireLabel struct{ name, value []byte }

// exemplarNS is what one exemplar of a series says of the label.
type exemplarNS struct {
	value string
	n     int
	// cluster and nc are the same for the cluster label, read only for
	// writers confined to clusters.
	cluster string
	nc      int
}

// keep writes a field of the request as it came. Until something else
// is written, that only extends the run of raw's bytes kept.
func (rw *rewriter) keep(fieldRaw []byte) {
	// fieldRaw is a slice of raw: its offset is what its capacity lacks.
	if start := cap(rw.raw) - cap(fieldRaw); rw.out == nil && start == rw.same {
		rw.same += len(fieldRaw)
		return
	}
	rw.materialize()
	rw.out = append(rw.out, fieldRaw...)
}

// materialize starts out with the bytes of raw kept so far, before
// anything else is written to it.
func (rw *rewriter) materialize() {
	if rw.out == nil {
		rw.out = make([]byte, 0, len(rw.raw)+len(rw.raw)/8)
		rw.out = append(rw.out, rw.raw[:rw.same]...)
	}
}

func (rw *rewriter) count(n *int64, lim ingest.Limit, what string) error {
	*n++
	return ingest.Check(*n, lim, what)
}

func (rw *rewriter) request(raw []byte) error {
	return each(raw, func(f field) error {
		switch f.num {
		case fieldTimeseries:
			if err := want(f, protowire.BytesType, "WriteRequest"); err != nil {
				return err
			}
			if err := rw.count(&rw.series, rw.lim.Series, "series in one remote write"); err != nil {
				return err
			}
			return rw.timeseries(f)
		case fieldMetadata:
			if err := want(f, protowire.BytesType, "WriteRequest"); err != nil {
				return err
			}
			return rw.meta(f.v)
		}
		return nil // unknown: dropped
	})
}

// meta keeps an admin's metadata, its known fields only; a tenant's is
// dropped: it names a metric family, not a namespace.
func (rw *rewriter) meta(v []byte) error {
	if !rw.scope.a.Admin {
		return nil
	}
	rw.scratch = rw.scratch[:0]
	err := each(v, func(f field) error {
		switch {
		case f.num == 1 && f.typ == protowire.VarintType, (f.num == 2 || f.num == 4 || f.num == 5) && f.typ == protowire.BytesType:
			rw.scratch = append(rw.scratch, f.raw...)
		}
		return nil
	})
	if err != nil {
		return err
	}
	rw.metadata++
	rw.materialize()
	rw.out = protowire.AppendTag(rw.out, fieldMetadata, protowire.BytesType)
	rw.out = protowire.AppendBytes(rw.out, rw.scratch)
	return nil
}

// timeseries checks one series and appends it, rewritten, to out. The
// hot loops are written out rather than given to each: a closure per
// series and label costs a fifth of the time.
func (rw *rewriter) timeseries(ts field) error {
	v := ts.v
	if samples, ok := rw.plainSeries(v); ok {
		if done, err := rw.plainFinish(ts.raw, samples); done || err != nil {
			return err
		}
	}
	rw.labels, rw.exNS, rw.body = rw.labels[:0], rw.exNS[:0], rw.body[:0]
	for len(v) > 0 {
		f, rest, err := next(v)
		if err != nil {
			return err
		}
		v = rest
		if err := rw.seriesField(f); err != nil {
			return err
		}
	}
	return rw.finishSeries()
}

func (rw *rewriter) seriesField(f field) error {
	switch f.num {
	case fieldLabels, fieldSamples, fieldHistograms, fieldExemplars:
		if err := want(f, protowire.BytesType, "TimeSeries"); err != nil {
			return err
		}
	default:
		return nil // unknown: dropped
	}
	if f.num == fieldLabels {
		l, err := rw.readLabel(f.v)
		rw.labels = append(rw.labels, l)
		return err
	}
	if err := rw.count(&rw.samples, rw.lim.Samples, "samples, histograms and exemplars in one remote write"); err != nil {
		return err
	}
	if f.num == fieldExemplars {
		rw.kinds[2]++
		return rw.exemplar(f.v)
	}
	if f.num == fieldHistograms {
		rw.kinds[1]++
	} else {
		rw.kinds[0]++
	}
	return rw.appendKnown(f, f.num)
}

// readLabel reads a Label: its last name and last value, as protobuf
// decoders read repeated scalars; what is forwarded has one of each.
func (rw *rewriter) readLabel(v []byte) (wireLabel, error) {
	var l wireLabel
	if err := rw.count(&rw.pairs, rw.lim.Labels, "label pairs in one remote write"); err != nil {
		return l, err
	}
	for len(v) > 0 {
		f, rest, err := next(v)
		if err != nil {
			return l, err
		}
		v = rest
		if f.num != fieldName && f.num != fieldValue {
			continue
		}
		if err := want(f, protowire.BytesType, "Label"); err != nil {
			return l, err
		}
		if f.num == fieldName {
			l.name = f.v
		} else {
			l.value = f.v
		}
	}
	return l, nil
}

func appendLabel(b []byte, num protowire.Number, name, value []byte) []byte {
	size := protowire.SizeTag(fieldName) + protowire.SizeBytes(len(name)) + protowire.SizeTag(fieldValue) + protowire.SizeBytes(len(value))
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(size))
	b = protowire.AppendTag(b, fieldName, protowire.BytesType)
	b = protowire.AppendBytes(b, name)
	b = protowire.AppendTag(b, fieldValue, protowire.BytesType)
	return protowire.AppendBytes(b, value)
}

// exemplar checks an exemplar's labels for the enforced label and appends
// it, labels rewritten and value and timestamp kept, to the series body.
func (rw *rewriter) exemplar(v []byte) error {
	var ex exemplarNS
	rw.scratch = rw.scratch[:0]
	err := each(v, func(f field) error {
		switch {
		case f.num == 1:
			if err := want(f, protowire.BytesType, "Exemplar"); err != nil {
				return err
			}
			l, err := rw.readLabel(f.v)
			if err != nil {
				return err
			}
			if string(l.name) == rw.label {
				ex.value, ex.n = string(l.value), ex.n+1
				if len(l.value) == 0 {
					return nil // no value: not forwarded
				}
			}
			if rw.cluster != "" && string(l.name) == rw.cluster {
				ex.cluster, ex.nc = string(l.value), ex.nc+1
			}
			rw.scratch = appendLabel(rw.scratch, 1, l.name, l.value)
		case f.num == 2 && f.typ == protowire.Fixed64Type, f.num == 3 && f.typ == protowire.VarintType:
			rw.scratch = append(rw.scratch, f.raw...)
		case f.num == 2 || f.num == 3:
			return fmt.Errorf("%w: Exemplar field %d has wire type %d", errMalformed, f.num, f.typ)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if ex.n == 1 && ex.value == "" {
		ex.n = 0 // an empty value is no value
	}
	rw.exNS = append(rw.exNS, ex)
	rw.body = protowire.AppendTag(rw.body, fieldExemplars, protowire.BytesType)
	rw.body = protowire.AppendBytes(rw.body, rw.scratch)
	return nil
}

// labelValue is the value of the series' label name and how many times
// the series names it (a series naming it twice is refused by callers).
func (rw *rewriter) labelValue(name string) (value []byte, n int) {
	for _, l := range rw.labels {
		if string(l.name) == name {
			value, n = l.value, n+1
		}
	}
	return value, n
}

// finishSeries checks the series' namespace and appends the series to
// out: its labels, the default namespace in its sorted place if it had
// none, then its samples, exemplars and histograms.
func (rw *rewriter) finishSeries() error {
	value, n := rw.labelValue(rw.label)
	ns := rw.scope.intern(value)
	if n == 1 && ns == "" {
		n = 0 // an empty value is no value: the label is dropped below
	}
	if p := rw.scope.problem(&ns, n, rw.label, rw.seriesName); p != "" {
		rw.refuse(p)
		return nil
	}
	cl, addCl, p := rw.seriesCluster()
	if p != "" {
		rw.refuse(p)
		return nil
	}
	for _, ex := range rw.exNS {
		if ex.n > 1 || (ex.n == 1 && ex.value != ns) {
			rw.refuse(fmt.Sprintf("an exemplar of %s names %s %q", rw.seriesName(), rw.label, ex.value))
			return nil
		}
		if ex.nc > 1 || (ex.nc == 1 && ex.cluster != cl) {
			rw.refuse(fmt.Sprintf("an exemplar of %s names %s %q", rw.seriesName(), rw.cluster, ex.cluster))
			return nil
		}
	}
	if rw.ref.Total > 0 {
		return nil // refused already: nothing more to write
	}
	var adds []wireLabel
	if n == 0 && ns != "" {
		adds = append(adds, wireLabel{name: []byte(rw.label), value: []byte(ns)})
	}
	if addCl {
		adds = append(adds, wireLabel{name: []byte(rw.cluster), value: []byte(cl)})
	}
	rw.scratch = rw.appendLabels(rw.scratch[:0], adds)
	rw.scratch = append(rw.scratch, rw.body...)
	rw.materialize()
	rw.out = protowire.AppendTag(rw.out, fieldTimeseries, protowire.BytesType)
	rw.out = protowire.AppendBytes(rw.out, rw.scratch)
	if int64(len(rw.out)) > 2*rw.lim.Decompressed.Max {
		return ingest.Over(rw.lim.Decompressed, "bytes in the remote write once checked (twice the limit)")
	}
	return nil
}

// appendLabels writes the series' labels, an empty enforced (namespace
// or cluster) label left out, and each of adds inserted before the first
// label sorting after it.
func (rw *rewriter) appendLabels(b []byte, adds []wireLabel) []byte {
	slices.SortFunc(adds, func(x, y wireLabel) int { return bytes.Compare(x.name, y.name) })
	for _, l := range rw.labels {
		if len(l.value) == 0 && (string(l.name) == rw.label || (rw.cluster != "" && string(l.name) == rw.cluster)) {
			continue
		}
		for len(adds) > 0 && bytes.Compare(l.name, adds[0].name) > 0 {
			b, adds = appendLabel(b, fieldLabels, adds[0].name, adds[0].value), adds[1:]
		}
		b = appendLabel(b, fieldLabels, l.name, l.value)
	}
	for _, a := range adds {
		b = appendLabel(b, fieldLabels, a.name, a.value)
	}
	return b
}

// seriesCluster checks the cluster label of a confined writer's series:
// given once and one of the writer's clusters, or absent (or empty) when
// the writer has exactly one cluster, which is then added (add). It
// returns the series' cluster, or why the series is refused.
func (rw *rewriter) seriesCluster() (cluster string, add bool, problem string) {
	if rw.cluster == "" {
		return "", false, ""
	}
	n := 0
	for _, l := range rw.labels {
		if string(l.name) == rw.cluster && len(l.value) > 0 {
			cluster, n = string(l.value), n+1
		} else if string(l.name) == rw.cluster {
			n++
		}
	}
	switch {
	case n > 1:
		return "", false, fmt.Sprintf("%s has label %q %d times", rw.seriesName(), rw.cluster, n)
	case cluster != "" && !rw.scope.a.Clusters.Matches(cluster):
		return "", false, fmt.Sprintf("%s is in %s %q, not one of your clusters", rw.seriesName(), rw.cluster, cluster)
	case cluster != "":
		return cluster, false, ""
	case rw.clusterDef != "":
		return rw.clusterDef, true, ""
	}
	return "", false, fmt.Sprintf("%s has no %s and you have several clusters", rw.seriesName(), rw.cluster)
}

func (rw *rewriter) refuse(problem string) {
	rw.ref.Total++
	if len(rw.ref.Problems) < maxListed {
		rw.ref.Problems = append(rw.ref.Problems, problem)
	}
}

// seriesName prints the series being read, for a refusal, bounded.
func (rw *rewriter) seriesName() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range rw.labels {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%q", l.name, l.value)
		if b.Len() > 200 {
			b.WriteString(", ...")
			break
		}
	}
	b.WriteByte('}')
	return b.String()
}

// appendKnown appends a Sample or Histogram to the series body, as field
// out, with the fields remote write 1.0 knows only; a known field of the
// wrong wire type is malformed.
func (rw *rewriter) appendKnown(f field, out protowire.Number) error {
	kind, what := sampleType, "Sample"
	if out == fieldHistograms {
		kind, what = histogramType, "Histogram"
	}
	rw.scratch = rw.scratch[:0]
	err := each(f.v, func(sub field) error {
		typ, known := kind(sub.num)
		switch {
		case !known:
			return nil
		case sub.typ != typ:
			return fmt.Errorf("%w: %s field %d has wire type %d", errMalformed, what, sub.num, sub.typ)
		case out == fieldHistograms && (sub.num == 8 || sub.num == 11):
			return rw.appendSpan(sub)
		}
		rw.scratch = append(rw.scratch, sub.raw...)
		return nil
	})
	if err != nil {
		return err
	}
	rw.body = protowire.AppendTag(rw.body, out, protowire.BytesType)
	rw.body = protowire.AppendBytes(rw.body, rw.scratch)
	return nil
}

// appendSpan appends a histogram's BucketSpan (offset, length) with its
// known fields only.
func (rw *rewriter) appendSpan(f field) error {
	var span []byte
	err := each(f.v, func(sub field) error {
		switch {
		case sub.num != 1 && sub.num != 2:
			return nil
		case sub.typ != protowire.VarintType:
			return fmt.Errorf("%w: BucketSpan field %d has wire type %d", errMalformed, sub.num, sub.typ)
		}
		span = append(span, sub.raw...)
		return nil
	})
	if err != nil {
		return err
	}
	rw.scratch = protowire.AppendTag(rw.scratch, f.num, protowire.BytesType)
	rw.scratch = protowire.AppendBytes(rw.scratch, span)
	return nil
}

// sampleType is the wire type of Sample's fields: value, timestamp.
func sampleType(n protowire.Number) (protowire.Type, bool) {
	switch n {
	case 1:
		return protowire.Fixed64Type, true
	case 2:
		return protowire.VarintType, true
	}
	return 0, false
}

// histogramType is the wire type of Histogram's fields: counts, sum,
// schema, zero bucket, spans, packed deltas and counts, reset hint,
// timestamp, custom values.
func histogramType(n protowire.Number) (protowire.Type, bool) {
	switch n {
	case 1, 4, 6, 14, 15:
		return protowire.VarintType, true
	case 2, 3, 5, 7:
		return protowire.Fixed64Type, true
	case 8, 9, 10, 11, 12, 13, 16:
		return protowire.BytesType, true
	}
	return 0, false
}
