package logqlenforce

import (
	"fmt"
	"strings"

	"github.com/grafana/loki/v3/pkg/logql/syntax"
)

// MaxLexCost bounds the work Loki's lexer may be asked to do for one query.
//
// Loki's lexer (v3.7.8, lex.go isFunction) decides whether an identifier
// that names a function (`rate`, `count`, `sum`, ...) starts a call by
// reading the rest of the query rune by rune, lower-casing the whole text
// read so far at each rune, until it meets "(" right away or "by"/"without".
// A function name used as a label name (`| rate="1"`) therefore costs the
// square of the query's remaining length, and a 13 KB query repeating it
// took 18 s of CPU to parse. Tollgate parses every query twice, and Loki
// again, so such queries are refused before any parser sees them. The budget
// is about 10 ms of lexing; ordinary queries are far below it.
const MaxLexCost = 10_000_000

// functionTokens are the identifiers Loki's lexer treats as possible
// function calls, from the exported operator names.
var functionTokens = func() map[string]bool {
	m := map[string]bool{}
	for _, op := range []string{
		syntax.OpRangeTypeRate, syntax.OpRangeTypeRateCounter, syntax.OpRangeTypeCount, syntax.OpRangeTypeBytesRate,
		syntax.OpRangeTypeBytes, syntax.OpRangeTypeAvg, syntax.OpRangeTypeSum, syntax.OpRangeTypeMin, syntax.OpRangeTypeMax,
		syntax.OpRangeTypeStdvar, syntax.OpRangeTypeStddev, syntax.OpRangeTypeQuantile, syntax.OpRangeTypeFirst,
		syntax.OpRangeTypeLast, syntax.OpRangeTypeAbsent, syntax.OpTypeVector, syntax.OpTypeSum, syntax.OpTypeAvg,
		syntax.OpTypeMax, syntax.OpTypeMin, syntax.OpTypeCount, syntax.OpTypeStddev, syntax.OpTypeStdvar,
		syntax.OpTypeBottomK, syntax.OpTypeTopK, syntax.OpTypeSort, syntax.OpTypeSortDesc, syntax.OpLabelReplace,
		syntax.OpTypeApproxTopK, syntax.OpConvBytes, syntax.OpConvDuration, syntax.OpConvDurationSeconds, syntax.OpFilterIP,
	} {
		m[op] = true
	}
	return m
}()

// lexCost estimates, in characters handled, the work of Loki's lexer on q:
// for every function-named identifier outside strings and comments that is
// not immediately a call, the square of the text after it.
func lexCost(q string) int64 {
	var cost int64
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '"' || c == '`':
			i = skipString(q, i)
		case c == '#':
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case isIdentStart(c):
			j := i + 1
			for j < len(q) && isIdentChar(q[j]) {
				j++
			}
			if functionTokens[strings.ToLower(q[i:j])] && !isCall(q[j:]) {
				rest := int64(len(q) - j)
				cost += rest * rest
			}
			i = j
		default:
			i++
		}
	}
	return cost
}

// isCall reports whether the text after a function name makes Loki's lexer
// stop at once: "(" or a "by"/"without" grouping, after optional spaces.
func isCall(rest string) bool {
	rest = strings.TrimLeft(rest, " \t\r\n")
	lower := strings.ToLower(rest)
	return strings.HasPrefix(lower, "(") || strings.HasPrefix(lower, "by") || strings.HasPrefix(lower, "without")
}

func skipString(q string, i int) int {
	quote := q[i]
	for i++; i < len(q); i++ {
		switch {
		case quote == '"' && q[i] == '\\':
			i++ // skip the escaped character
		case q[i] == quote:
			return i + 1
		}
	}
	return i
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || c >= '0' && c <= '9' }

func checkCost(q string) error {
	if c := lexCost(q); c > MaxLexCost {
		return fmt.Errorf("%w: the query would take Loki's parser too long (function names such as rate or count used as label names, in a long query); shorten it or rename the label with label_format", ErrInvalid)
	}
	return nil
}
