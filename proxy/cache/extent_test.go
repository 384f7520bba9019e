package cache

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

func sampleExtent() *extent {
	return &extent{start: -30_000, end: 1_700_000_060_000, m: matrix{
		{labels: labels.FromStrings("namespace", "team-payments-prod", "service", "ledger"),
			values: []point{{t: 1_700_000_000_000, raw: json.RawMessage(`[1700000000,"1.5"]`)}, {t: 1_700_000_060_000, raw: json.RawMessage(`[1700000060,"NaN"]`)}}},
		{labels: labels.FromStrings("__name__", "x", "é", "\"quoted\""),
			histograms: []point{{t: 1_700_000_000_500, raw: json.RawMessage(`[1700000000.5,{"count":"2","sum":"1","buckets":[[0,"0","1","2"]]}]`)}}},
		{labels: labels.EmptyLabels()},
	}}
}

// TestExtentRoundTrip: what is stored is read back the same, point bytes
// included, and served byte for byte as before it was stored.
func TestExtentRoundTrip(t *testing.T) {
	e := sampleExtent()
	got, err := decodeExtent(encodeExtent(e))
	if err != nil {
		t.Fatal(err)
	}
	if got.start != e.start || got.end != e.end || len(got.m) != len(e.m) {
		t.Fatalf("read back [%d, %d] with %d series, want [%d, %d] with %d", got.start, got.end, len(got.m), e.start, e.end, len(e.m))
	}
	var want, have bytes.Buffer
	writeResult(&want, e.m)
	writeResult(&have, got.m)
	if want.String() != have.String() {
		t.Errorf("served from the cache:\n%s\nwant:\n%s", have.String(), want.String())
	}
	for i := range e.m {
		if !labels.Equal(got.m[i].labels, e.m[i].labels) {
			t.Errorf("series %d: labels %s, want %s", i, got.m[i].labels, e.m[i].labels)
		}
	}
}

// TestDamagedExtentsAreRefused: a truncated or altered entry, or one in
// the former JSON format, is an error (the request goes to the backend),
// never a panic or a wrong answer.
func TestDamagedExtentsAreRefused(t *testing.T) {
	good := encodeExtent(sampleExtent())
	for name, b := range map[string][]byte{
		"empty":          nil,
		"former JSON":    []byte(`{"s":0,"e":60000,"r":[]}`),
		"truncated":      good[:len(good)-3],
		"trailing bytes": append(bytes.Clone(good), 0),
		"huge count":     append([]byte(extentFormat), 0, 2, 0xff, 0xff, 0xff, 0xff, 0x0f),
		"ends first":     append([]byte(extentFormat), 4, 2, 0),
	} {
		if _, err := decodeExtent(b); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

// FuzzDecodeExtent: any stored bytes decode or fail, without panicking or
// allocating more than their length allows.
func FuzzDecodeExtent(f *testing.F) {
	f.Add(encodeExtent(sampleExtent()))
	f.Add([]byte(extentFormat))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeExtent(b)
		if err != nil {
			return
		}
		again, err := decodeExtent(encodeExtent(e))
		if err != nil || again.start != e.start || again.end != e.end || len(again.m) != len(e.m) {
			t.Fatalf("an extent read from %q does not survive a round trip: %v", b, err)
		}
	})
}

// TestLabelsAreWrittenAsJSONMarshalWritesThem: the metric of an answer
// served from the cache is byte for byte json.Marshal's, escapes included.
func TestLabelsAreWrittenAsJSONMarshalWritesThem(t *testing.T) {
	for _, ls := range []labels.Labels{
		labels.EmptyLabels(),
		labels.FromStrings("namespace", "team-payments-prod", "code", "200"),
		labels.FromStrings("a", `quote " backslash \ tab 	 <html> & é`, "ctl", "\x01\x7f", "bad", "\xff", "ls", "\u2028"),
	} {
		var got bytes.Buffer
		writeLabels(&got, ls)
		want, _ := json.Marshal(ls.Map())
		if got.String() != string(want) {
			t.Errorf("wrote %s, json.Marshal %s", got.String(), want)
		}
	}
}
