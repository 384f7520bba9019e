package promapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Point is one [timestamp, "value"] pair of the API. The value stays a
// string until asked for: callers skip what does not parse rather than
// failing the answer.
type Point struct {
	// T is Unix seconds, with milliseconds as the fraction.
	T float64
	V string
}

// Time is the point's timestamp, to the millisecond.
func (p Point) Time() time.Time { return time.UnixMilli(int64(p.T*1000 + 0.5)) }

// Float is the point's value.
func (p Point) Float() (float64, error) { return strconv.ParseFloat(p.V, 64) }

// UnmarshalJSON reads [1700000000.5,"1.25"] without going through
// []any: a month's matrix holds millions of points.
func (p *Point) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' {
		return fmt.Errorf("point %.40s is not a [time, value] pair", b)
	}
	ts, v, ok := bytes.Cut(b[1:len(b)-1], []byte(","))
	if !ok {
		return fmt.Errorf("point %.40s is not a [time, value] pair", b)
	}
	t, err := strconv.ParseFloat(string(bytes.TrimSpace(ts)), 64)
	if err != nil {
		return fmt.Errorf("point %.40s: the time is not a number", b)
	}
	v = bytes.TrimSpace(v)
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' && bytes.IndexByte(v, '\\') < 0 {
		p.T, p.V = t, string(v[1:len(v)-1])
		return nil
	}
	// Escapes, or not a string at all: let encoding/json decide.
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return fmt.Errorf("point %.40s: the value is not a string", b)
	}
	p.T, p.V = t, s
	return nil
}
