package remotewrite

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of io.prometheus.write.v2.Request and its messages
// (prompb/io/prometheus/write/v2/types.proto).
const (
	v2Symbols    = 4 // Request
	v2Timeseries = 5
	v2LabelsRefs = 1 // TimeSeries, Exemplar
	v2Samples    = 2 // TimeSeries
	v2Histograms = 3
	v2Exemplars  = 4
)

// requestV2 reads a remote write 2.0 request and writes it as 1.0: the
// symbols first (they may come after the series on the wire), then each
// series with its labels resolved.
func (rw *rewriter) requestV2(raw []byte) error {
	var symbols [][]byte
	err := each(raw, func(f field) error {
		if f.num != v2Symbols {
			return nil
		}
		if err := want(f, protowire.BytesType, "Request"); err != nil {
			return err
		}
		symbols = append(symbols, f.v)
		return rw.count(&rw.pairs, rw.lim.Labels, "label pairs in one remote write")
	})
	if err != nil {
		return err
	}
	return each(raw, func(f field) error {
		if f.num != v2Timeseries {
			return nil
		}
		if err := want(f, protowire.BytesType, "Request"); err != nil {
			return err
		}
		if err := rw.count(&rw.series, rw.lim.Series, "series in one remote write"); err != nil {
			return err
		}
		return rw.timeseriesV2(f.v, symbols)
	})
}

func (rw *rewriter) timeseriesV2(v []byte, symbols [][]byte) error {
	rw.labels, rw.exNS, rw.body = rw.labels[:0], rw.exNS[:0], rw.body[:0]
	for len(v) > 0 {
		f, rest, err := next(v)
		if err != nil {
			return err
		}
		v = rest
		if err := rw.seriesFieldV2(f, symbols); err != nil {
			return err
		}
	}
	for _, l := range rw.labels {
		if l.value == nil {
			return fmt.Errorf("%w: a series' labels_refs has an odd count", errMalformed)
		}
	}
	return rw.finishSeries()
}

func (rw *rewriter) seriesFieldV2(f field, symbols [][]byte) error {
	switch f.num {
	case v2LabelsRefs:
		ls, err := resolve(rw.labels, f, symbols)
		rw.labels = ls
		return err
	case v2Samples, v2Histograms, v2Exemplars:
		if err := want(f, protowire.BytesType, "TimeSeries"); err != nil {
			return err
		}
	default:
		return nil // metadata, start timestamp: not in 1.0
	}
	if err := rw.count(&rw.samples, rw.lim.Samples, "samples, histograms and exemplars in one remote write"); err != nil {
		return err
	}
	switch f.num {
	case v2Samples:
		rw.kinds[0]++
		return rw.appendKnown(f, fieldSamples)
	case v2Histograms:
		rw.kinds[1]++
		return rw.appendKnown(f, fieldHistograms)
	}
	rw.kinds[2]++
	return rw.exemplarV2(f.v, symbols)
}

// resolve appends the label pairs a labels_refs field names: packed, or
// one varint per field, as protobuf allows for repeated numbers.
func resolve(ls []wireLabel, f field, symbols [][]byte) ([]wireLabel, error) {
	var refs []uint64
	switch f.typ {
	case protowire.VarintType:
		r, _ := protowire.ConsumeVarint(f.raw[protowire.SizeTag(f.num):])
		refs = append(refs, r)
	case protowire.BytesType:
		for b := f.v; len(b) > 0; {
			r, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return ls, fmt.Errorf("%w: labels_refs: %v", errMalformed, protowire.ParseError(n))
			}
			refs, b = append(refs, r), b[n:]
		}
	default:
		return ls, fmt.Errorf("%w: labels_refs has wire type %d", errMalformed, f.typ)
	}
	// Pairs may be split across fields; an odd count is completed by the
	// next field, or refused at the end of the series by pairLabels.
	for _, r := range refs {
		if r >= uint64(len(symbols)) {
			return ls, fmt.Errorf("%w: label reference %d, but there are %d symbols", errMalformed, r, len(symbols))
		}
		if n := len(ls); n > 0 && ls[n-1].value == nil {
			ls[n-1].value = nonNil(symbols[r])
			continue
		}
		ls = append(ls, wireLabel{name: symbols[r]})
	}
	return ls, nil
}

// nonNil marks a value as set: an empty symbol is an empty value.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// exemplarV2 writes a 2.0 exemplar as 1.0: its labels resolved.
func (rw *rewriter) exemplarV2(v []byte, symbols [][]byte) error {
	var ls []wireLabel
	var rest []byte
	err := each(v, func(f field) error {
		switch {
		case f.num == v2LabelsRefs:
			var err error
			ls, err = resolve(ls, f, symbols)
			return err
		case f.num == 2 && f.typ == protowire.Fixed64Type, f.num == 3 && f.typ == protowire.VarintType:
			rest = append(rest, f.raw...)
		case f.num == 2 || f.num == 3:
			return fmt.Errorf("%w: Exemplar field %d has wire type %d", errMalformed, f.num, f.typ)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var ex1 []byte
	for _, l := range ls {
		if l.value == nil {
			return fmt.Errorf("%w: an exemplar's labels_refs has an odd count", errMalformed)
		}
		ex1 = appendLabel(ex1, 1, l.name, l.value)
	}
	ex1 = append(ex1, rest...)
	return rw.exemplar(ex1)
}
