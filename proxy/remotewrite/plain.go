package remotewrite

import (
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/tollgate-dev/tollgate/proxy/ingest"
)

// The plain path. Almost every series an agent sends is labels, each a
// name then a value, and samples, each a value then a timestamp, with its
// namespace already set. Written anew, such a series comes out byte for
// byte as it came in, so it is copied instead: the same bytes, for a
// third of the work. Anything else (an exemplar, a histogram, an unknown
// or repeated field, a label to add or drop, a refusal to explain) takes
// the general path, which writes the series field by field.

// plainSeries reads a series if it is plain, filling rw.labels, and
// returns its samples; false sends it down the general path.
func (rw *rewriter) plainSeries(v []byte) (int, bool) {
	rw.labels = rw.labels[:0]
	samples := 0
	for len(v) > 0 {
		tag := v[0]
		body, rest, ok := lengthPrefixed(v[1:])
		if !ok {
			return 0, false
		}
		v = rest
		switch tag {
		case byte(fieldLabels<<3 | protowire.BytesType):
			l, ok := plainLabel(body)
			if !ok {
				return 0, false
			}
			rw.labels = append(rw.labels, l)
		case byte(fieldSamples<<3 | protowire.BytesType):
			if !plainSample(body) {
				return 0, false
			}
			samples++
		default:
			return 0, false
		}
	}
	return samples, true
}

// lengthPrefixed splits a length-prefixed payload from what follows it.
func lengthPrefixed(b []byte) (payload, rest []byte, ok bool) {
	n, m := protowire.ConsumeVarint(b)
	if m < 0 || n > uint64(len(b)-m) {
		return nil, nil, false
	}
	return b[m : m+int(n)], b[m+int(n):], true
}

// plainLabel reads a Label written as exactly a name then a value.
func plainLabel(b []byte) (wireLabel, bool) {
	if len(b) == 0 || b[0] != byte(fieldName<<3|protowire.BytesType) {
		return wireLabel{}, false
	}
	name, rest, ok := lengthPrefixed(b[1:])
	if !ok || len(rest) == 0 || rest[0] != byte(fieldValue<<3|protowire.BytesType) {
		return wireLabel{}, false
	}
	value, rest, ok := lengthPrefixed(rest[1:])
	if !ok || len(rest) != 0 {
		return wireLabel{}, false
	}
	return wireLabel{name: name, value: value}, true
}

// plainSample reports whether a Sample is a value then a timestamp, each
// left out when zero, as proto3 writes them.
func plainSample(b []byte) bool {
	if len(b) >= 9 && b[0] == byte(1<<3|protowire.Fixed64Type) {
		b = b[9:]
	}
	if len(b) == 0 {
		return true
	}
	if b[0] != byte(2<<3|protowire.VarintType) {
		return false
	}
	_, m := protowire.ConsumeVarint(b[1:])
	return m > 0 && m == len(b)-1
}

// plainFinish writes a plain series as it came if its namespace is given
// once, not empty, and the writer's; it reports false, having counted
// nothing, when the general path must decide.
func (rw *rewriter) plainFinish(fieldRaw []byte, samples int) (bool, error) {
	value, n := rw.labelValue(rw.label)
	if n != 1 || len(value) == 0 {
		return false, nil
	}
	if !rw.scope.a.Admin && !rw.scope.matches(rw.scope.intern(value)) {
		return false, nil
	}
	if rw.cluster != "" && !rw.plainCluster() {
		return false, nil
	}
	rw.pairs += int64(len(rw.labels))
	rw.samples += int64(samples)
	if err := ingest.Check(rw.pairs, rw.lim.Labels, "label pairs in one remote write"); err != nil {
		return true, err
	}
	if err := ingest.Check(rw.samples, rw.lim.Samples, "samples, histograms and exemplars in one remote write"); err != nil {
		return true, err
	}
	rw.kinds[0] += samples
	if rw.ref.Total > 0 {
		return true, nil // refused already: nothing more to write
	}
	rw.keep(fieldRaw)
	return true, nil
}

// plainCluster reports whether a confined writer's plain series names one
// of its clusters exactly once; anything else takes the general path.
func (rw *rewriter) plainCluster() bool {
	value, n := rw.labelValue(rw.cluster)
	return n == 1 && len(value) > 0 && rw.scope.a.Clusters.Matches(string(value))
}
