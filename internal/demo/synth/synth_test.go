package synth

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
)

// The leak tests rely on every namespace's marker being a distinct power of
// two: any subset then has a unique sum.
func TestMarkersAreDistinctPowersOfTwo(t *testing.T) {
	seen := map[float64]string{}
	for _, ns := range Default().Namespaces {
		frac, _ := math.Frexp(ns.Marker)
		if frac != 0.5 {
			t.Errorf("%s: marker %v is not a power of two", ns.Name, ns.Marker)
		}
		if other, dup := seen[ns.Marker]; dup {
			t.Errorf("%s and %s share marker %v", ns.Name, other, ns.Marker)
		}
		seen[ns.Marker] = ns.Name
	}
}

func TestCountersNeverDecrease(t *testing.T) {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, s := range Default().Series() {
		if s.Type != "counter" {
			continue
		}
		prev := s.Value(start)
		for t2 := start; t2.Before(start.Add(6 * time.Hour)); t2 = t2.Add(time.Minute) {
			v := s.Value(t2)
			if v < prev {
				t.Fatalf("%s decreases at %s: %v < %v", s.Labels, t2, v, prev)
			}
			prev = v
		}
	}
}

func TestWriteOpenMetrics(t *testing.T) {
	series := Default().Series()
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	if err := WriteOpenMetrics(&b, series, Window{Start: end.Add(-time.Minute), End: end, Step: 30 * time.Second}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if lines[len(lines)-1] != "# EOF" {
		t.Errorf("last line %q, want # EOF", lines[len(lines)-1])
	}
	samples := 0
	for _, l := range lines {
		if !strings.HasPrefix(l, "#") {
			samples++
		}
	}
	if samples != 3*len(series) {
		t.Errorf("%d sample lines, want 3 per series (%d)", samples, 3*len(series))
	}
	want := `tollgate_demo_namespace_marker{namespace="team-checkout-prod"} 4 1793491200.000`
	if !strings.Contains(b.String(), want) {
		t.Errorf("output lacks %q", want)
	}
}

func TestWithinOneMonth(t *testing.T) {
	for _, c := range []struct{ now, want string }{
		{"2026-11-22T10:37:00Z", "2026-11-22T10:00:00Z"},
		{"2026-12-03T10:37:00Z", "2026-12-01T00:00:00Z"},
		{"2026-12-09T10:37:00Z", "2026-12-09T10:00:00Z"},
	} {
		now, _ := time.Parse(time.RFC3339, c.now)
		if got := WithinOneMonth(now, 8*24*time.Hour).Format(time.RFC3339); got != c.want {
			t.Errorf("WithinOneMonth(%s, 8d) = %s, want %s", c.now, got, c.want)
		}
	}
}
