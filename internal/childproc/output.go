package childproc

import (
	"bytes"
	"slices"
	"sync"
)

// maxLine bounds what outputWriter holds while waiting for the end of a
// line: no line a server logs is that long.
const maxLine = 64 << 10

// outputWriter keeps the end of a child's output (all of it if keep is 0)
// for error messages, and passes each complete line to line. exec copies
// the output in goroutines of its own, so it locks.
type outputWriter struct {
	keep int
	line func(string)

	mu      sync.Mutex
	buf     []byte
	partial []byte
}

func (w *outputWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	if over := len(w.buf) - w.keep; w.keep > 0 && over > 0 {
		w.buf = slices.Delete(w.buf, 0, over)
	}
	if w.line == nil {
		return len(b), nil
	}
	w.partial = append(w.partial, b...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.line(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	if len(w.partial) > maxLine {
		// No line is that long; drop what cannot be one.
		w.partial = w.partial[:0]
	}
	return len(b), nil
}

func (w *outputWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}
