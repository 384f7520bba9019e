package resp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// maxLine bounds a simple string, error or length line.
const maxLine = 64 << 10

var errProtocol = errors.New("redis: protocol error")

// readReply reads one RESP2 reply. Arrays nest at most one level (MGET's
// elements are bulk strings).
func readReply(r *bufio.Reader, maxBulk int64, depth int) (any, error) {
	line, err := readLine(r)
	if err != nil {
		return nil, err
	}
	if len(line) == 0 {
		return nil, fmt.Errorf("%w: empty line", errProtocol)
	}
	body := string(line[1:])
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return nil, Error(body)
	case ':':
		n, err := strconv.ParseInt(body, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: integer %q", errProtocol, body)
		}
		return n, nil
	case '$':
		return readBulk(r, body, maxBulk)
	case '*':
		return readArray(r, body, maxBulk, depth)
	}
	return nil, fmt.Errorf("%w: reply type %q", errProtocol, line[0])
}

func readBulk(r *bufio.Reader, size string, maxBulk int64) (any, error) {
	n, err := strconv.ParseInt(size, 10, 64)
	switch {
	case err != nil || n < -1:
		return nil, fmt.Errorf("%w: bulk length %q", errProtocol, size)
	case n == -1:
		return nil, nil
	case n > maxBulk:
		return nil, fmt.Errorf("redis: reply of %d bytes is over the %d-byte bound (cache.max_item_bytes)", n, maxBulk)
	}
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	if buf[n] != '\r' || buf[n+1] != '\n' {
		return nil, fmt.Errorf("%w: bulk string not ended by CRLF", errProtocol)
	}
	return buf[:n], nil
}

func readArray(r *bufio.Reader, size string, maxBulk int64, depth int) (any, error) {
	n, err := strconv.Atoi(size)
	switch {
	case err != nil || n < -1:
		return nil, fmt.Errorf("%w: array length %q", errProtocol, size)
	case n == -1:
		return nil, nil
	case n > maxArrayLen || depth > 0:
		return nil, fmt.Errorf("%w: array of %d elements at depth %d", errProtocol, n, depth)
	}
	out := make([]any, n)
	for i := range out {
		v, err := readReply(r, maxBulk, depth+1)
		var re Error
		if err != nil && !errors.As(err, &re) {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// readLine reads a CRLF-terminated line without its CRLF.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, isPrefix, err := r.ReadLine()
		if err != nil {
			return nil, err
		}
		line = append(line, chunk...)
		if len(line) > maxLine {
			return nil, fmt.Errorf("%w: line over %d bytes", errProtocol, maxLine)
		}
		if !isPrefix {
			return line, nil
		}
	}
}
