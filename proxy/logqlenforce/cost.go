package logqlenforce

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/grafana/loki/v3/pkg/logql/syntax"
)

// MaxLexCost bounds the work Loki's lexer may be asked to do for one query.
//
// Loki's lexer (v3.7.8, lex.go) has two kinds of work that grow faster than
// the query:
//
//   - isFunction: after an identifier that names a function (`rate`,
//     `count`, `topk`, ...), compared case-insensitively with Unicode
//     folding (a Kelvin sign K lower-cases to k), it reads the rest of the
//     query rune by rune, lower-casing the whole text read so far at each
//     rune, until it meets "(" right away or "by"/"without". A function
//     name used as a label name (`| rate="1"`) therefore costs the square
//     of the query's remaining length; a 13 KB query repeating it took
//     18 s of CPU to parse.
//   - tryScanDuration and tryScanBytes: after every number they read the
//     run of digits, unit letters and dots that follows, so `1.1.1.1…`
//     costs the square of the run.
//
// Tollgate parses every query twice, and Loki again, so such queries are
// refused before any parser sees them. The budget is about 10 ms of
// lexing; ordinary queries are far below it.
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

// lexCost estimates, in characters handled, the work of Loki's lexer on q.
func lexCost(q string) int64 { return scan(q, 1<<30).cost }

// scanResult is what one pass over a query learns.
type scanResult struct {
	// cost estimates the lexer's work (see MaxLexCost), an upper bound.
	cost int64
	// depth is an upper bound on the depth of the syntax tree, or a value
	// above the limit given to scan.
	depth int
}

// scan tokenises q the way Loki's lexer (text/scanner in Go mode, plus
// Loki's own rules) does, in one linear pass, and returns an upper bound on
// the lexer's work and on the tree's depth. Where it cannot tell how Loki
// reads something, it counts the more expensive reading.
//
// What text/scanner skips, scan skips: "…" and '…' literals (which end at
// a newline, as the scanner's do), `…` raw strings, // and /* */ comments;
// Loki adds # comments and reads [ ] ranges raw. Identifiers are Unicode
// letters, digits and '_'.
func scan(q string, depthLimit int) scanResult {
	s := queryScanner{q: q, depth: newDepthCounter(depthLimit)}
	for s.i < len(q) && s.cost <= MaxLexCost && !s.depth.over() {
		s.step()
	}
	return scanResult{cost: s.cost, depth: s.depth.result()}
}

type queryScanner struct {
	q      string
	i      int
	cost   int64
	numEnd int // end of the last number run already charged
	depth  *depthCounter
}

func (s *queryScanner) step() {
	q, i := s.q, s.i
	r, w := utf8.DecodeRuneInString(q[i:])
	switch {
	case r == '"' || r == '\'':
		s.i = skipQuoted(q, i+w, byte(r))
	case r == '`':
		s.i = skipPast(q, i+1, "`")
	case r == '#':
		s.i = skipPast(q, i+1, "\n")
	case r == '/' && strings.HasPrefix(q[i:], "//"):
		s.i = skipPast(q, i+2, "\n")
	case r == '/' && strings.HasPrefix(q[i:], "/*"):
		s.i = skipPast(q, i+2, "*/")
	case r == '[':
		// Loki reads a range raw up to ']'; it wraps the operand before it.
		s.i = skipPast(q, i+1, "]")
		s.depth.op(2)
	case r == '_' || unicode.IsLetter(r):
		s.identifier()
	case r >= '0' && r <= '9' || r == '.' && i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9':
		s.number()
	case r == '(' || r == '{':
		s.depth.open(r)
		s.i += w
	case r == ')' || r == '}':
		s.depth.close()
		s.i += w
	case strings.ContainsRune(operatorRunes, r):
		for s.i < len(q) && strings.IndexByte(operatorRunes, q[s.i]) >= 0 {
			s.i++
		}
		s.depth.op(1)
	default:
		s.i += w
	}
}

const operatorRunes = "+-*/%^=!<>|~"

// identifier reads one identifier and charges isFunction's work for a
// function name that is not a call.
func (s *queryScanner) identifier() {
	start := s.i
	for s.i < len(s.q) {
		r, w := utf8.DecodeRuneInString(s.q[s.i:])
		if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			break
		}
		s.i += w
	}
	word := strings.ToLower(s.q[start:s.i])
	switch word {
	case "and", "or", "unless", "offset":
		s.depth.op(1)
	}
	if functionTokens[word] && !isCall(s.q[s.i:]) {
		rest := int64(len(s.q) - s.i)
		s.cost += rest * rest
	}
}

// number reads the digits of one number and charges, once per run, the
// square of the run of digits, unit letters and dots that Loki's
// tryScanDuration and tryScanBytes read after each number in it. The
// letters are then read again as identifiers: a function name may follow a
// number (`1sum{`).
func (s *queryScanner) number() {
	if s.i >= s.numEnd {
		end := s.i
		for end < len(s.q) {
			r, w := utf8.DecodeRuneInString(s.q[end:])
			if !unicode.IsNumber(r) && !isUnitRune(r) && r != '.' {
				break
			}
			end += w
		}
		run := int64(end - s.i)
		s.cost += run * run
		s.numEnd = end
	}
	for s.i < len(s.q) && (s.q[s.i] >= '0' && s.q[s.i] <= '9' || s.q[s.i] == '.') {
		s.i++
	}
}

// isUnitRune covers Loki's duration and byte-size unit runes.
func isUnitRune(r rune) bool {
	return strings.ContainsRune("nuµmshdwyBikKMGTP", r)
}

// isCall reports whether the text after a function name makes Loki's lexer
// stop at once: after Unicode spaces, "(" or a "by"/"without" grouping,
// compared as Loki does, rune by rune after lower-casing. It reads at most
// the spaces and seven runes.
func isCall(rest string) bool {
	rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
	var read []rune
	for _, r := range rest {
		read = append(read, unicode.ToLower(r))
		got := string(read)
		switch got {
		case "(", "by", "without":
			return true
		}
		if !strings.HasPrefix("(", got) && !strings.HasPrefix("by", got) && !strings.HasPrefix("without", got) {
			return false
		}
	}
	return false
}

// skipQuoted skips a "…" or '…' literal from just after its quote: to the
// closing quote, or to a newline or the end, where text/scanner stops.
func skipQuoted(q string, i int, quote byte) int {
	for ; i < len(q); i++ {
		switch q[i] {
		case '\\':
			i++
		case quote:
			return i + 1
		case '\n':
			return i
		}
	}
	return len(q)
}

// skipPast returns the index after the first end at or after i, or len(q).
func skipPast(q string, i int, end string) int {
	if i > len(q) {
		return len(q)
	}
	if j := strings.Index(q[i:], end); j >= 0 {
		return i + j + len(end)
	}
	return len(q)
}

func checkCost(cost int64) error {
	if cost > MaxLexCost {
		return fmt.Errorf("%w: the query would take Loki's parser too long (function names such as rate or count used as label names, or long runs of numbers and units, in a long query); shorten it or rename the label with label_format", ErrInvalid)
	}
	return nil
}
