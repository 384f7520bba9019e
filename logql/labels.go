package logql

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/util/strutil"
)

// ParseLabels parses the label set of a pushed stream, in the form Loki's
// push API carries it: {name="value", …}, as Loki reads it (with
// Prometheus's ParseMetric). Names are identifiers, or quoted (Prometheus
// 3's form for other UTF-8 names, which the caller may refuse); values are
// "…", '…' or `…` strings; a trailing comma is allowed, and an empty text
// is no labels. A label with an empty value is dropped, and a name given
// twice is kept twice, so that the caller can refuse it. A metric name
// before the braces, which no push client sends, is refused.
func ParseLabels(s string) (labels.Labels, error) {
	if !utf8.ValidString(s) {
		return labels.EmptyLabels(), errors.New("invalid UTF-8")
	}
	r := labelReader{s: s}
	r.skipSpace()
	if r.i == len(r.s) {
		return labels.EmptyLabels(), nil // as in Loki: no labels at all
	}
	if !r.take('{') {
		return labels.EmptyLabels(), r.errorf(`expected "{"`)
	}
	var b labels.ScratchBuilder
	for {
		r.skipSpace()
		if r.take('}') {
			break
		}
		name, err := r.name()
		if err != nil {
			return labels.EmptyLabels(), err
		}
		r.skipSpace()
		if !r.take('=') {
			return labels.EmptyLabels(), r.errorf(`expected "=" after label name %q`, name)
		}
		r.skipSpace()
		value, err := r.quoted(quotes, "a label value")
		if err != nil {
			return labels.EmptyLabels(), err
		}
		b.Add(name, value)
		r.skipSpace()
		if r.take('}') {
			break
		}
		if !r.take(',') {
			return labels.EmptyLabels(), r.errorf(`expected "," or "}"`)
		}
	}
	r.skipSpace()
	if r.i < len(r.s) {
		return labels.EmptyLabels(), r.errorf("unexpected text after the label set")
	}
	b.Sort()
	return b.Labels().WithoutEmpty(), nil
}

// quotes are the quotes of Prometheus's strings.
const quotes = "\"'`"

type labelReader struct {
	s string
	i int
}

func (r *labelReader) errorf(format string, args ...any) error {
	return fmt.Errorf("at byte %d: %s", r.i, fmt.Sprintf(format, args...))
}

func (r *labelReader) skipSpace() {
	for r.i < len(r.s) && strings.IndexByte(" \t\n\r", r.s[r.i]) >= 0 {
		r.i++
	}
}

func (r *labelReader) take(c byte) bool {
	if r.i < len(r.s) && r.s[r.i] == c {
		r.i++
		return true
	}
	return false
}

// name reads [a-zA-Z_][a-zA-Z0-9_]* or a quoted name.
func (r *labelReader) name() (string, error) {
	if r.i < len(r.s) && strings.IndexByte(quotes, r.s[r.i]) >= 0 {
		return r.quoted(quotes, "a label name")
	}
	start := r.i
	for r.i < len(r.s) {
		c := r.s[r.i]
		if c != '_' && !('a' <= c|0x20 && c|0x20 <= 'z') && (r.i == start || !isDecimal(c)) {
			break
		}
		r.i++
	}
	if r.i == start {
		return "", r.errorf("expected a label name")
	}
	return r.s[start:r.i], nil
}

// quoted reads a string in one of the given quotes, with Go's escapes.
func (r *labelReader) quoted(quotes, what string) (string, error) {
	if r.i >= len(r.s) || strings.IndexByte(quotes, r.s[r.i]) < 0 {
		return "", r.errorf("expected %s in quotes", what)
	}
	q := r.s[r.i]
	start := r.i
	for j := start + 1; j < len(r.s); j++ {
		switch c := r.s[j]; {
		case c == q:
			v, err := strutil.Unquote(r.s[start : j+1])
			if err != nil {
				return "", r.errorf("invalid %s %s: %v", what, r.s[start:j+1], err)
			}
			r.i = j + 1
			return v, nil
		case c == '\\' && q != '`':
			j++
		case c == '\n' && q != '`':
			return "", r.errorf("%s not terminated", what)
		}
	}
	return "", errors.New(what + " not terminated")
}
