package resp

import (
	"bufio"
	"bytes"
	"testing"
)

// FuzzReadReply feeds arbitrary bytes to the reply reader, as a hostile or
// broken server could send them: it never panics, never returns a bulk
// string over its bound, and never reads more than it was given.
func FuzzReadReply(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "-ERR x\r\n", ":12\r\n", "$3\r\nabc\r\n", "$-1\r\n", "*2\r\n$1\r\na\r\n$-1\r\n",
		"*1\r\n*1\r\n:1\r\n", "$99999999999\r\n", "*99999\r\n", "$3\r\nabcXY", "\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const bound = 64
		v, _ := readReply(bufio.NewReader(bytes.NewReader(data)), bound, 0)
		check(t, v, bound, 0)
	})
}

func check(t *testing.T, v any, bound int, depth int) {
	switch x := v.(type) {
	case []byte:
		if len(x) > bound {
			t.Fatalf("bulk of %d bytes over the bound %d", len(x), bound)
		}
	case []any:
		if depth > 0 || len(x) > maxArrayLen {
			t.Fatalf("array of %d at depth %d", len(x), depth)
		}
		for _, e := range x {
			check(t, e, bound, depth+1)
		}
	}
}
