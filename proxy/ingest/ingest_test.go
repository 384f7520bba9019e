package ingest

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/golang/snappy"
)

var lim = Limit{Max: 1000, Key: "proxy.test_bytes"}

func limitError(t *testing.T, err error) *LimitError {
	t.Helper()
	var le *LimitError
	if !errors.As(err, &le) {
		t.Fatalf("got %v, want a LimitError", err)
	}
	if !strings.Contains(le.Error(), "more than 1000") || !strings.Contains(le.Error(), "proxy.test_bytes") {
		t.Errorf("message %q names neither the bound nor its key", le)
	}
	return le
}

func TestBoundedReader(t *testing.T) {
	got, err := io.ReadAll(Bounded(bytes.NewReader(make([]byte, 1000)), lim, "bytes"))
	if err != nil || len(got) != 1000 {
		t.Errorf("exactly at the bound: %d bytes, %v", len(got), err)
	}
	got, err = io.ReadAll(Bounded(bytes.NewReader(make([]byte, 1001)), lim, "bytes"))
	limitError(t, err)
	if len(got) != 1000 {
		t.Errorf("one over: returned %d bytes, want the 1000 within the bound", len(got))
	}
	// A reader that fills every buffer is asked for at most one byte past
	// the bound.
	c := &countingReader{}
	_, err = io.ReadAll(Bounded(c, lim, "bytes"))
	limitError(t, err)
	if c.n > 1001 {
		t.Errorf("read %d bytes from the source for a bound of 1000", c.n)
	}
}

type countingReader struct{ n int }

func (c *countingReader) Read(p []byte) (int, error) {
	c.n += len(p)
	return len(p), nil
}

// failingReader fails the test if it is read.
type failingReader struct{ t *testing.T }

func (f failingReader) Read([]byte) (int, error) {
	f.t.Error("the body was read")
	return 0, io.EOF
}

func TestReadBody(t *testing.T) {
	if _, err := ReadBody(failingReader{t}, 1001, lim, "bytes as sent"); err == nil {
		t.Error("a declared Content-Length over the bound was accepted")
	} else {
		limitError(t, err)
	}
	b, err := ReadBody(strings.NewReader("hello"), 5, lim, "bytes")
	if err != nil || string(b) != "hello" {
		t.Errorf("%q %v", b, err)
	}
	// A Content-Length that lies low does not let more through.
	_, err = ReadBody(bytes.NewReader(make([]byte, 5000)), 10, lim, "bytes")
	limitError(t, err)
}

// zeros compressed: a few KB that inflate to size bytes.
func compressedZeros(t *testing.T, enc string, size int) []byte {
	t.Helper()
	var b bytes.Buffer
	var w io.WriteCloser
	if enc == "gzip" {
		w = gzip.NewWriter(&b)
	} else {
		w, _ = flate.NewWriter(&b, flate.BestCompression)
	}
	block := make([]byte, 1<<16)
	for n := 0; n < size; n += len(block) {
		_, _ = w.Write(block)
	}
	_ = w.Close()
	return b.Bytes()
}

// A bomb is cut where the bound is, while it inflates: reading it
// allocates a small multiple of the bound, not of what it would inflate
// to.
func TestDecompressIsBoundedWhileStreaming(t *testing.T) {
	big := Limit{Max: 1 << 20, Key: "proxy.test_bytes"}
	for _, enc := range []string{"gzip", "deflate"} {
		bomb := compressedZeros(t, enc, 64<<20)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		rd, err := Decompress(enc, bytes.NewReader(bomb), big)
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, rd)
		_ = rd.Close()
		runtime.ReadMemStats(&after)
		var le *LimitError
		if !errors.As(err, &le) || n != 1<<20 {
			t.Errorf("%s: %d bytes, %v; want 1 MiB and a LimitError", enc, n, err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
			t.Errorf("%s: inflating %d bytes to the 1 MiB bound allocated %d bytes", enc, len(bomb), alloc)
		}
	}
	for _, enc := range []string{"", "identity"} {
		rd, err := Decompress(enc, strings.NewReader("plain"), lim)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := io.ReadAll(rd); string(b) != "plain" {
			t.Errorf("%q: %q", enc, b)
		}
	}
	var ee *EncodingError
	if _, err := Decompress("br", strings.NewReader("x"), lim); !errors.As(err, &ee) {
		t.Errorf("br: %v, want an EncodingError", err)
	}
	if _, err := Decompress("gzip", strings.NewReader("not gzip"), lim); err == nil || errors.As(err, new(*LimitError)) {
		t.Errorf("not gzip: %v", err)
	}
}

func TestDecodeSnappy(t *testing.T) {
	if b, err := DecodeSnappy(snappy.Encode(nil, make([]byte, 1000)), lim); err != nil || len(b) != 1000 {
		t.Errorf("at the bound: %d %v", len(b), err)
	}
	_, err := DecodeSnappy(snappy.Encode(nil, make([]byte, 1001)), lim)
	limitError(t, err)
	// A block that claims 1 GiB is refused from its header, before any
	// of it is allocated.
	claim := []byte{0x80, 0x80, 0x80, 0x80, 0x04, 0x00}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = DecodeSnappy(claim, lim)
	runtime.ReadMemStats(&after)
	limitError(t, err)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<10 {
		t.Errorf("refusing a 1 GiB claim allocated %d bytes", alloc)
	}
	if _, err := DecodeSnappy([]byte("\xff\xff\xff\xff\xff\xff"), lim); err == nil || errors.As(err, new(*LimitError)) {
		t.Errorf("garbage: %v", err)
	}
}

func TestGate(t *testing.T) {
	g := NewGate(Limit{Max: 2, Key: "proxy.test_concurrent"}, "writes")
	leave1, err1 := g.Enter()
	leave2, err2 := g.Enter()
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	_, err := g.Enter()
	var be *BusyError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "proxy.test_concurrent") {
		t.Fatalf("third: %v, want a BusyError naming the key", err)
	}
	leave1()
	leave1() // a second call gives back nothing more
	leave3, err := g.Enter()
	if err != nil {
		t.Fatalf("after one left: %v", err)
	}
	if _, err := g.Enter(); err == nil {
		t.Error("leaving twice freed two slots")
	}
	leave2()
	leave3()
	if _, err := NewGate(Limit{Max: 0, Key: "k"}, "writes").Enter(); err == nil {
		t.Error("a gate of zero slots let a write in")
	}
}
