package cache

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/prometheus/prometheus/model/labels"
)

// A point is one sample of a range answer, kept as the backend wrote it
// ([ts,"value"] or [ts,{histogram}]) so that what is served from the cache
// is byte for byte what the backend said; t is its time in milliseconds.
type point struct {
	t   int64
	raw json.RawMessage
}

// series is one series of a matrix.
type series struct {
	labels     labels.Labels
	values     []point
	histograms []point
}

// matrix is a range answer's result, or a cached extent's.
type matrix []*series

// rawSeries is a series as the Prometheus and Loki APIs write it.
type rawSeries struct {
	Metric     map[string]string `json:"metric"`
	Values     []json.RawMessage `json:"values,omitempty"`
	Histograms []json.RawMessage `json:"histograms,omitempty"`
}

// apiAnswer is a query_range answer.
type apiAnswer struct {
	Status string `json:"status"`
	Data   struct {
		ResultType string      `json:"resultType"`
		Result     []rawSeries `json:"result"`
	} `json:"data"`
	Warnings []json.RawMessage `json:"warnings"`
	Infos    []json.RawMessage `json:"infos"`
}

var errNotCacheable = errors.New("answer is not cacheable")

// decodeAnswer reads a query_range answer that may be cached: a success
// with a matrix, without warnings or infos (partial data, truncated
// results, which must not outlive this request).
func decodeAnswer(body []byte) (matrix, error) {
	var a apiAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, fmt.Errorf("decoding the answer: %w", err)
	}
	if a.Status != "success" || a.Data.ResultType != "matrix" || len(a.Warnings) > 0 || len(a.Infos) > 0 {
		return nil, errNotCacheable
	}
	return fromRaw(a.Data.Result)
}

func fromRaw(rs []rawSeries) (matrix, error) {
	m := make(matrix, 0, len(rs))
	for _, r := range rs {
		s := &series{labels: labels.FromMap(r.Metric)}
		var err error
		if s.values, err = points(r.Values); err != nil {
			return nil, err
		}
		if s.histograms, err = points(r.Histograms); err != nil {
			return nil, err
		}
		m = append(m, s)
	}
	return m, nil
}

func points(raws []json.RawMessage) ([]point, error) {
	if len(raws) == 0 {
		return nil, nil
	}
	ps := make([]point, len(raws))
	for i, raw := range raws {
		t, err := pointTime(raw)
		if err != nil {
			return nil, err
		}
		ps[i] = point{t: t, raw: raw}
	}
	// Backends answer in time order; within relies on it.
	if !slices.IsSortedFunc(ps, byTime) {
		slices.SortStableFunc(ps, byTime)
	}
	return ps, nil
}

// pointTime reads the timestamp of [ts, value], seconds with up to
// millisecond decimals, as milliseconds.
func pointTime(raw json.RawMessage) (int64, error) {
	b := bytes.TrimSpace(raw)
	comma := bytes.IndexByte(b, ',')
	if len(b) < 2 || b[0] != '[' || comma < 0 {
		return 0, fmt.Errorf("point %.40s is not [time, value]", raw)
	}
	f, err := strconv.ParseFloat(string(bytes.TrimSpace(b[1:comma])), 64)
	if err != nil {
		return 0, fmt.Errorf("point %.40s: %w", raw, err)
	}
	return int64(math.Round(f * 1000)), nil
}

// builder merges pieces of matrices into one, series by series. Pieces
// are added in time order and never overlap, so points stay sorted.
type builder struct {
	index map[uint64][]*series // by label hash; a collision lists both
	out   matrix
}

func newBuilder() *builder { return &builder{index: map[uint64][]*series{}} }

// add appends the points of m within [lo, hi] that keep(t) accepts.
func (b *builder) add(m matrix, lo, hi int64, keep func(int64) bool) {
	for _, s := range m {
		vs, hs := within(s.values, lo, hi, keep), within(s.histograms, lo, hi, keep)
		if len(vs) == 0 && len(hs) == 0 {
			continue
		}
		dst := b.series(s.labels)
		dst.values = append(dst.values, vs...)
		dst.histograms = append(dst.histograms, hs...)
	}
}

// series is the merged series with these labels, added if new.
func (b *builder) series(ls labels.Labels) *series {
	h := ls.Hash()
	for _, s := range b.index[h] {
		if labels.Equal(s.labels, ls) {
			return s
		}
	}
	s := &series{labels: ls}
	b.index[h] = append(b.index[h], s)
	b.out = append(b.out, s)
	return s
}

// within returns the points of ps, which are in time order, within
// [lo, hi] that keep accepts: a part of ps itself when keep is nil.
func within(ps []point, lo, hi int64, keep func(int64) bool) []point {
	i, _ := slices.BinarySearchFunc(ps, lo, atTime)
	j, _ := slices.BinarySearchFunc(ps, hi+1, atTime)
	if i >= j {
		return nil
	}
	ps = ps[i:j:j]
	if keep == nil {
		return ps
	}
	out := make([]point, 0, len(ps))
	for _, p := range ps {
		if keep(p.t) {
			out = append(out, p)
		}
	}
	return out
}

func atTime(p point, t int64) int { return cmp.Compare(p.t, t) }

// matrix returns the merged series, points in time order and series in
// the order Prometheus sorts a range answer (by labels).
func (b *builder) matrix() matrix {
	for _, s := range b.out {
		slices.SortStableFunc(s.values, byTime)
		slices.SortStableFunc(s.histograms, byTime)
	}
	slices.SortFunc(b.out, func(x, y *series) int { return labels.Compare(x.labels, y.labels) })
	return b.out
}

func byTime(a, b point) int {
	switch {
	case a.t < b.t:
		return -1
	case a.t > b.t:
		return 1
	}
	return 0
}

// writeResult writes m as the API's result array.
func writeResult(buf *bytes.Buffer, m matrix) {
	buf.WriteByte('[')
	for i, s := range m {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(`{"metric":`)
		writeLabels(buf, s.labels)
		writePoints(buf, "values", s.values)
		writePoints(buf, "histograms", s.histograms)
		buf.WriteByte('}')
	}
	buf.WriteByte(']')
}

// writeLabels writes ls as a JSON object, names in order, as
// json.Marshal writes a map (and as Prometheus writes a metric).
func writeLabels(buf *bytes.Buffer, ls labels.Labels) {
	buf.WriteByte('{')
	first := true
	ls.Range(func(l labels.Label) {
		if !first {
			buf.WriteByte(',')
		}
		first = false
		writeJSONString(buf, l.Name)
		buf.WriteByte(':')
		writeJSONString(buf, l.Value)
	})
	buf.WriteByte('}')
}

// writeJSONString writes s quoted as json.Marshal does: plain ASCII as
// is, anything else (escapes, HTML characters, invalid UTF-8) by
// json.Marshal itself.
func writeJSONString(buf *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			buf.Write(q)
			return
		}
	}
	buf.WriteByte('"')
	buf.WriteString(s)
	buf.WriteByte('"')
}

func writePoints(buf *bytes.Buffer, name string, ps []point) {
	if len(ps) == 0 {
		return
	}
	buf.WriteString(`,"` + name + `":[`)
	for i, p := range ps {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(p.raw)
	}
	buf.WriteByte(']')
}

// encodeAnswer writes a successful query_range answer.
func encodeAnswer(m matrix) []byte {
	var buf bytes.Buffer
	buf.Grow(128 + extentSize(m))
	buf.WriteString(`{"status":"success","data":{"resultType":"matrix","result":`)
	writeResult(&buf, m)
	buf.WriteString(`}}`)
	return buf.Bytes()
}
