package cache

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/prometheus/prometheus/model/labels"
)

// extent is a cached stretch [start, end] of one interval's grid.
type extent struct {
	start, end int64
	m          matrix
}

// extentFormat starts every stored extent. Extents were JSON before; the
// binary form is read without parsing a number or a string (decoding the
// JSON was a third of a cached refresh's CPU). The key's kind names the
// format too (extentKind), so an entry of another format is never read.
const extentFormat = "TGX2"

// extentKind is the kind hashed into an extent's key.
const extentKind = kindRange + "/" + extentFormat

// encodeExtent writes e as: the format, start and end (varints), the
// series count, then per series its label pairs and its values and
// histograms, each point as its time and its raw JSON.
func encodeExtent(e *extent) []byte {
	b := make([]byte, 0, 64+extentSize(e.m))
	b = append(b, extentFormat...)
	b = binary.AppendVarint(b, e.start)
	b = binary.AppendVarint(b, e.end)
	b = binary.AppendUvarint(b, uint64(len(e.m)))
	for _, s := range e.m {
		b = binary.AppendUvarint(b, uint64(s.labels.Len()))
		s.labels.Range(func(l labels.Label) {
			b = appendBytes(b, l.Name)
			b = appendBytes(b, l.Value)
		})
		b = appendPoints(b, s.values)
		b = appendPoints(b, s.histograms)
	}
	return b
}

func extentSize(m matrix) int {
	n := 0
	for _, s := range m {
		n += 16 * s.labels.Len()
		for _, p := range s.values {
			n += len(p.raw) + 8
		}
		for _, p := range s.histograms {
			n += len(p.raw) + 8
		}
	}
	return n
}

func appendBytes[T ~string | ~[]byte](b []byte, s T) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendPoints(b []byte, ps []point) []byte {
	b = binary.AppendUvarint(b, uint64(len(ps)))
	for _, p := range ps {
		b = binary.AppendVarint(b, p.t)
		b = appendBytes(b, p.raw)
	}
	return b
}

// errExtent is a stored extent that is not one: truncated, of another
// format, or with counts that its length cannot hold.
var errExtent = errors.New("not a cached extent")

// extentReader reads an encoded extent, every count checked against what
// is left, so that a damaged entry (Redis is shared) is an error, never a
// panic or a huge allocation. Points keep slices of b.
type extentReader struct {
	b   []byte
	err error
}

func (r *extentReader) uvarint() uint64 { return readVarint(r, binary.Uvarint) }

func (r *extentReader) varint() int64 { return readVarint(r, binary.Varint) }

// readVarint reads one number with read (binary.Uvarint or Varint).
func readVarint[T int64 | uint64](r *extentReader, read func([]byte) (T, int)) T {
	v, n := read(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a count of items of at least min bytes each.
func (r *extentReader) count(min int) int {
	n := r.uvarint()
	if n > uint64(len(r.b)/min) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *extentReader) bytes() []byte {
	n := r.count(1)
	if r.err != nil || n > len(r.b) {
		r.fail()
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *extentReader) fail() {
	if r.err == nil {
		r.err = errExtent
	}
	r.b = nil
}

func (r *extentReader) points() []point {
	n := r.count(2)
	if n == 0 {
		return nil
	}
	ps := make([]point, n)
	for i := range ps {
		ps[i] = point{t: r.varint(), raw: r.bytes()}
	}
	return ps
}

func decodeExtent(b []byte) (*extent, error) {
	if len(b) < len(extentFormat) || string(b[:len(extentFormat)]) != extentFormat {
		return nil, fmt.Errorf("decoding a cached extent: %w (format)", errExtent)
	}
	r := &extentReader{b: b[len(extentFormat):]}
	e := &extent{start: r.varint(), end: r.varint()}
	e.m = make(matrix, r.count(3))
	var lb labels.ScratchBuilder
	for i := range e.m {
		lb.Reset()
		for range r.count(2) {
			name, value := r.bytes(), r.bytes()
			lb.Add(string(name), string(value))
		}
		lb.Sort()
		e.m[i] = &series{labels: lb.Labels(), values: r.points(), histograms: r.points()}
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = errExtent
	}
	if r.err != nil {
		return nil, fmt.Errorf("decoding a cached extent: %w", r.err)
	}
	if e.end < e.start {
		return nil, fmt.Errorf("cached extent ends (%d) before it starts (%d)", e.end, e.start)
	}
	return e, nil
}
