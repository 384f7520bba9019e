// Package ingest bounds what a write endpoint (Loki push, Prometheus remote
// write) may cost before its payload is decoded: how many bytes arrive, how
// many come out of a decompressor, and how many writes run at once. Every
// bound carries the configuration key that sets it, so a refusal can tell
// the client what was exceeded and the operator what to raise.
package ingest

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"

	"github.com/golang/snappy"
)

// Limit is one bound and the configuration key that sets it.
type Limit struct {
	Max int64
	Key string
}

// LimitError is an input over a Limit. Callers answer it with 413.
type LimitError struct {
	// What was counted, in the plural: "decompressed bytes", "entries".
	What  string
	Limit Limit
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("more than %d %s (%s); send smaller requests, or ask the operator to raise %s", e.Limit.Max, e.What, e.Limit.Key, e.Limit.Key)
}

// Over returns the LimitError for one more than lim allows.
func Over(lim Limit, what string) error {
	return &LimitError{What: what, Limit: lim}
}

// Check returns a LimitError when n is over lim.
func Check(n int64, lim Limit, what string) error {
	if n > lim.Max {
		return Over(lim, what)
	}
	return nil
}

// EncodingError is a Content-Encoding this package cannot decode. Callers
// answer it with 415.
type EncodingError struct{ Encoding string }

func (e *EncodingError) Error() string {
	return fmt.Sprintf("Content-Encoding %q is not supported; use gzip, deflate or none", e.Encoding)
}

// Bounded returns a reader of r that fails with a LimitError as soon as
// more than lim.Max bytes have come out of it. Bytes past the bound are
// never returned, so whoever reads it never holds more than the bound.
func Bounded(r io.Reader, lim Limit, what string) io.Reader {
	return &boundedReader{r: r, left: lim.Max, lim: lim, what: what}
}

type boundedReader struct {
	r    io.Reader
	left int64 // may go to -1: one byte read past the bound proves it
	lim  Limit
	what string
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, Over(b.lim, b.what)
	}
	// Ask for at most one byte more than the bound allows: enough to
	// know it was passed, and never a large read past it.
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n - 1, Over(b.lim, b.what)
	}
	return n, err
}

// ReadBody reads a request body of at most lim.Max bytes. A declared
// Content-Length over the bound is refused before anything is read, and a
// declared length within it sizes the buffer once.
func ReadBody(body io.Reader, contentLength int64, lim Limit, what string) ([]byte, error) {
	if contentLength > lim.Max {
		return nil, Over(lim, what)
	}
	var buf bytes.Buffer
	if contentLength > 0 {
		buf.Grow(int(contentLength) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(Bounded(body, lim, what)); err != nil {
		return nil, readError(err)
	}
	return buf.Bytes(), nil
}

// ReadAll reads r to its end, at most lim.Max bytes.
func ReadAll(r io.Reader, lim Limit, what string) ([]byte, error) {
	return ReadBody(r, 0, lim, what)
}

// readError keeps a LimitError as it is, and says what failed otherwise.
func readError(err error) error {
	var le *LimitError
	if errors.As(err, &le) {
		return le
	}
	return fmt.Errorf("reading the body: %w", err)
}

// Decompress returns the decoded stream of a body sent with a
// Content-Encoding: gzip, deflate, or none ("" or "identity"). The stream
// fails with a LimitError once more than lim.Max bytes have come out, so
// the bound holds while decompressing, whatever the compression ratio.
// Snappy's block format is not a stream; see DecodeSnappy.
func Decompress(encoding string, body io.Reader, lim Limit) (io.ReadCloser, error) {
	var rd io.ReadCloser
	switch encoding {
	case "", "identity":
		rd = io.NopCloser(body)
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			var le *LimitError
			if errors.As(err, &le) {
				return nil, le
			}
			return nil, fmt.Errorf("the body is not gzip: %w", err)
		}
		rd = zr
	case "deflate":
		rd = flate.NewReader(body)
	default:
		return nil, &EncodingError{Encoding: encoding}
	}
	return readCloser{Bounded(rd, lim, "decompressed bytes"), rd}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// DecodeSnappy decodes a snappy block (Loki's push and Prometheus's remote
// write) of at most lim.Max bytes once decoded. The block states its
// decoded length first; a length over the bound is refused before any
// memory is allocated for it.
func DecodeSnappy(block []byte, lim Limit) ([]byte, error) {
	n, err := snappy.DecodedLen(block)
	if err != nil {
		return nil, fmt.Errorf("the body is not snappy-compressed: %w", err)
	}
	if int64(n) > lim.Max {
		return nil, Over(lim, "decompressed bytes")
	}
	out, err := snappy.Decode(nil, block)
	if err != nil {
		return nil, fmt.Errorf("decompressing the snappy body: %w", err)
	}
	return out, nil
}
