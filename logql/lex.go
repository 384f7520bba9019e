package logql

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/util/strutil"
)

// lexer reads tokens on demand, left to right. Every byte of the query is
// read once, but for two look-aheads: the spaces and at most a word after a
// function name (is a call next?), and the run of unit characters after a
// number (is it a duration or a byte size?), which the next tokens read
// again when it is not. A valid query has at most three tokens in such a
// run, and the parser stops at the first token it cannot use, so parsing
// stays linear in the query's length, where Loki's lexer reads the rest of
// the query after every function name that is not a call.
//
// The tokens are Loki's: text/scanner's Go tokens as Loki v3.7 reads them,
// with its own rules for # comments, [ranges], --flags, durations and byte
// sizes. What Loki reads in a way nobody would write on purpose (a
// single-quoted "character", a lone '@' read as a label name, hexadecimal
// numbers) is refused instead.
type lexer struct {
	src string
	pos int
	err *Error

	// lokiCost is the work Loki's lexer does on this text; see LokiLexCost.
	lokiCost int64
}

func (l *lexer) fail(pos int, format string, args ...any) token {
	if l.err == nil {
		l.err = newError(l.src, pos, format, args...)
	}
	l.pos = len(l.src)
	return token{kind: tokEOF, pos: pos}
}

// next returns the next token, or tokEOF with l.err set.
func (l *lexer) next() token {
	if !l.skipSpaceAndComments() {
		return token{kind: tokEOF, pos: l.pos}
	}
	start := l.pos
	if start >= len(l.src) {
		return token{kind: tokEOF, pos: start}
	}
	c := l.src[start]
	switch {
	case c == '"':
		return l.quoted(start)
	case c == '`':
		return l.raw(start)
	case c == '\'':
		return l.fail(start, "single quotes do not make a LogQL string; use double quotes or backquotes")
	case c == '[':
		return l.rangeToken(start)
	case isDecimal(c) || c == '.' && start+1 < len(l.src) && isDecimal(l.src[start+1]):
		return l.number(start)
	case c == '-':
		return l.minus(start)
	case c == '_' || c >= utf8.RuneSelf || 'a' <= c|0x20 && c|0x20 <= 'z':
		return l.word(start)
	}
	return l.operator(start, c)
}

// skipSpaceAndComments skips what text/scanner skips between tokens in
// Loki: spaces, tabs and line breaks, // and /* */ comments, and Loki's #
// comments. It returns false after an unterminated /* comment.
func (l *lexer) skipSpaceAndComments() bool {
	for l.pos < len(l.src) {
		switch c := l.src[l.pos]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			l.pos++
		case c == '#' || c == '/' && strings.HasPrefix(l.src[l.pos:], "//"):
			if i := strings.IndexByte(l.src[l.pos:], '\n'); i >= 0 {
				l.pos += i + 1
			} else {
				l.pos = len(l.src)
			}
		case c == '/' && strings.HasPrefix(l.src[l.pos:], "/*"):
			i := strings.Index(l.src[l.pos+2:], "*/")
			if i < 0 {
				l.fail(l.pos, "comment not terminated")
				return false
			}
			l.pos += 2 + i + 2
		default:
			return true
		}
	}
	return true
}

func isDecimal(c byte) bool { return '0' <= c && c <= '9' }

// quoted reads a "…" string with Go's escapes, which cannot span lines.
func (l *lexer) quoted(start int) token {
	i := start + 1
	for {
		if i >= len(l.src) || l.src[i] == '\n' {
			return l.fail(start, "string not terminated")
		}
		switch l.src[i] {
		case '"':
			return l.stringToken(start, i+1)
		case '\\':
			n, ok := escapeLen(l.src[i+1:])
			if !ok {
				return l.fail(i, "invalid escape sequence in string")
			}
			i += 1 + n
		default:
			i++
		}
	}
}

// escapeLen returns the length of the escape after a backslash, as Go's
// scanner accepts it in a "…" string: \n and the like, three octal
// digits, \x and two hex digits, \u and four, \U and eight.
func escapeLen(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	switch c := s[0]; {
	case strings.IndexByte(`abfnrtv\"`, c) >= 0:
		return 1, true
	case c == 'x':
		return 3, allOf(s[1:], 2, isHex)
	case c == 'u':
		return 5, allOf(s[1:], 4, isHex)
	case c == 'U':
		return 9, allOf(s[1:], 8, isHex)
	case '0' <= c && c <= '7':
		return 3, allOf(s, 3, func(c byte) bool { return '0' <= c && c <= '7' })
	}
	return 0, false
}

// allOf reports whether s starts with n bytes that satisfy ok.
func allOf(s string, n int, ok func(byte) bool) bool {
	if len(s) < n {
		return false
	}
	for i := range n {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool { return isDecimal(c) || 'a' <= c|0x20 && c|0x20 <= 'f' }

// raw reads a `…` string, which may span lines and has no escapes.
func (l *lexer) raw(start int) token {
	i := strings.IndexByte(l.src[start+1:], '`')
	if i < 0 {
		return l.fail(start, "raw string not terminated")
	}
	return l.stringToken(start, start+1+i+1)
}

// stringToken checks the value as Loki unquotes it (Prometheus's
// strutil.Unquote): an octal escape above \377 or a \u escape that is not
// a code point is an error there too.
func (l *lexer) stringToken(start, end int) token {
	text := l.src[start:end]
	if _, err := strutil.Unquote(text); err != nil {
		return l.fail(start, "invalid string %s: %v", text, err)
	}
	l.pos = end
	return token{kind: tokString, text: text, pos: start}
}

// rangeToken reads a range, [5m]: Loki reads the text up to "]" as is and
// parses it as a Prometheus duration (units in order, no fractions, no
// sign).
func (l *lexer) rangeToken(start int) token {
	i := strings.IndexByte(l.src[start+1:], ']')
	if i < 0 {
		return l.fail(start, "missing closing ']' in range")
	}
	text := l.src[start+1 : start+1+i]
	if _, err := model.ParseDuration(text); err != nil {
		return l.fail(start, "invalid range [%s]: %v", text, err)
	}
	l.pos = start + 1 + i + 1
	return token{kind: tokRange, text: text, pos: start}
}

// number reads a decimal number as Go's scanner does, then, as Loki does,
// tries the number and the run of unit runes after it as a duration, then
// as a byte size.
func (l *lexer) number(start int) token {
	end, isInt, msg := scanDecimal(l.src, start)
	if msg != "" {
		return l.fail(start, "%s", msg)
	}
	text := l.src[start:end]
	if isInt && len(text) > 1 && text[0] == '0' && strings.ContainsAny(text, "89") {
		// Go's scanner reads 089 as an octal literal and fails; so does Loki.
		return l.fail(start, "invalid digit in octal number %s", text)
	}
	if runEnd := unitRun(l.src, end, isDurationRune); runEnd > end {
		if _, ok := parseDuration(l.src[start:runEnd]); ok {
			l.pos = runEnd
			return token{kind: tokDuration, text: l.src[start:runEnd], pos: start}
		}
	}
	if runEnd := unitRun(l.src, end, isBytesRune); runEnd > end {
		if _, ok := parseBytes(l.src[start:runEnd]); ok {
			l.pos = runEnd
			return token{kind: tokBytes, text: l.src[start:runEnd], pos: start}
		}
	}
	l.pos = end
	return token{kind: tokNumber, text: text, pos: start}
}

// scanDecimal returns the end of the decimal number at start: digits, an
// optional fraction, an optional exponent. Go's other number forms
// (0x1F, 0b1, 0o7, 1_000) are refused: Loki reads some of them as 0.
func scanDecimal(s string, start int) (end int, isInt bool, msg string) {
	i := start
	digits := func() {
		for i < len(s) && isDecimal(s[i]) {
			i++
		}
	}
	if s[i] == '0' && i+1 < len(s) && strings.IndexByte("xXbBoO", s[i+1]) >= 0 {
		return 0, false, "hexadecimal, binary and octal number forms are not supported; write the number in decimal"
	}
	digits()
	isInt = true
	if i < len(s) && s[i] == '.' {
		isInt = false
		i++
		digits()
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		isInt = false
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDecimal(s[i]) {
			return 0, false, "exponent has no digits"
		}
		digits()
	}
	switch {
	case i < len(s) && s[i] == '_':
		return 0, false, "digit separators (_) are not supported in numbers"
	case i < len(s) && (s[i] == 'p' || s[i] == 'P'):
		// Go's scanner reads 1PB as a number with a p exponent, and fails.
		return 0, false, "'p' exponent requires hexadecimal mantissa"
	}
	return i, isInt, ""
}

// unitRun returns the end of the run after i of digits, dots and the
// given unit runes, the text Loki tries as a duration or a byte size.
func unitRun(s string, i int, unit func(rune) bool) int {
	for i < len(s) {
		r, w := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsNumber(r) && r != '.' && !unit(r) {
			break
		}
		i += w
	}
	return i
}

func isDurationRune(r rune) bool {
	switch r {
	case 'n', 'u', 'µ', 'm', 's', 'h', 'd', 'w', 'y':
		return true
	}
	return false
}

func isBytesRune(r rune) bool {
	switch r {
	case 'B', 'i', 'k', 'K', 'M', 'G', 'T', 'P':
		return true
	}
	return false
}

// parseDuration reads a duration as Loki does: a Prometheus duration
// (1d12h), else a Go duration (1.5s, -5m).
func parseDuration(s string) (time.Duration, bool) {
	if d, err := model.ParseDuration(s); err == nil {
		return time.Duration(d), true
	}
	d, err := time.ParseDuration(s)
	return d, err == nil
}

// minus reads "-": a parser flag (--strict), a negative duration (-5m,
// which Loki reads as one token), or the operator.
func (l *lexer) minus(start int) token {
	if strings.HasPrefix(l.src[start:], "--") {
		end := start + 1
		for end < len(l.src) {
			r, w := utf8.DecodeRuneInString(l.src[end:])
			if r != '-' && !unicode.IsLetter(r) {
				break
			}
			end += w
		}
		if f := l.src[start:end]; f == FlagStrict || f == FlagKeepEmpty {
			l.pos = end
			return token{kind: tokFlag, text: f, pos: start}
		}
	} else if runEnd := unitRun(l.src, start+1, isDurationRune); runEnd > start+1 {
		if _, ok := parseDuration(l.src[start:runEnd]); ok {
			l.pos = runEnd
			return token{kind: tokDuration, text: l.src[start:runEnd], pos: start}
		}
	}
	l.pos = start + 1
	return token{kind: tokSub, text: "-", pos: start}
}

// word reads an identifier (Unicode letters, digits and _, as in Go) and
// tells keywords and function calls from label names.
func (l *lexer) word(start int) token {
	end := start
	for end < len(l.src) {
		r, w := utf8.DecodeRuneInString(l.src[end:])
		if r != '_' && !unicode.IsLetter(r) && (end == start || !unicode.IsDigit(r)) {
			break
		}
		end += w
	}
	if end == start {
		r, _ := utf8.DecodeRuneInString(l.src[start:])
		return l.fail(start, "unexpected character %q", r)
	}
	l.pos = end
	text := l.src[start:end]
	lower := lowerWord(text)
	if isFunctionName(lower) {
		switch callAhead(l.src[end:]) {
		case isCall:
			return token{kind: tokFunction, text: text, word: lower, pos: start}
		case readToEnd:
			// Loki's lexer reads the rest of the query, lower-casing what it
			// has read at every rune: the square of what is left.
			rest := int64(len(l.src) - end)
			l.lokiCost = min(l.lokiCost+rest*rest, 1<<62)
		}
		return token{kind: tokIdent, text: text, pos: start}
	}
	if isKeyword(lower) {
		return token{kind: tokKeyword, text: text, word: lower, pos: start}
	}
	return token{kind: tokIdent, text: text, pos: start}
}

// lowerWord lower-cases an identifier as Loki does (strings.ToLower, under
// which the Kelvin sign K is k), without allocating for ASCII.
func lowerWord(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return strings.ToLower(s)
		}
		if 'A' <= c && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

type lookahead int

const (
	notCall   lookahead = iota // Loki stops early and reads an identifier
	isCall                     // Loki reads a function name
	readToEnd                  // Loki reads an identifier, after reading to the end
)

// callAhead decides, as Loki's lexer does after a function name, whether
// a call follows: after spaces, "(", or "by" or "without" (any case) then
// spaces then "(". Loki gives up early only after "by" or "without";
// otherwise it reads on to the end of the query. Only the four spaces of
// text/scanner are skipped: any other space is an error either way.
func callAhead(rest string) lookahead {
	rest = strings.TrimLeft(rest, " \t\n\r")
	if strings.HasPrefix(rest, "(") {
		return isCall
	}
	for _, g := range [...]string{kwBy, kwWithout} {
		if len(rest) >= len(g) && strings.EqualFold(rest[:len(g)], g) {
			if strings.HasPrefix(strings.TrimLeft(rest[len(g):], " \t\n\r"), "(") {
				return isCall
			}
			return notCall
		}
	}
	return readToEnd
}

// operator reads punctuation and operators; two-character operators are
// read as in Loki, by looking at the next byte.
func (l *lexer) operator(start int, c byte) token {
	next := byte(0)
	if start+1 < len(l.src) {
		next = l.src[start+1]
	}
	kind, two := operatorKind(c, next)
	if kind == tokEOF {
		r, _ := utf8.DecodeRuneInString(l.src[start:])
		return l.fail(start, "unexpected character %q", r)
	}
	width := 1
	if two {
		width = 2
	}
	l.pos = start + width
	return token{kind: kind, text: l.src[start : start+width], pos: start}
}

// operatorKind returns the operator that starts with c, and whether it
// takes next too; tokEOF for none.
func operatorKind(c, next byte) (tokenKind, bool) {
	switch c {
	case '{':
		return tokLBrace, false
	case '}':
		return tokRBrace, false
	case '(':
		return tokLParen, false
	case ')':
		return tokRParen, false
	case ',':
		return tokComma, false
	case '+':
		return tokAdd, false
	case '*':
		return tokMul, false
	case '/':
		return tokDiv, false
	case '%':
		return tokMod, false
	case '^':
		return tokPow, false
	case '=':
		switch next {
		case '~':
			return tokRe, true
		case '=':
			return tokCmpEq, true
		}
		return tokEq, false
	case '!':
		switch next {
		case '=':
			return tokNeq, true
		case '~':
			return tokNre, true
		case '>':
			return tokNotPat, true
		}
	case '|':
		switch next {
		case '=':
			return tokPipeEq, true
		case '~':
			return tokPipeRe, true
		case '>':
			return tokPipePat, true
		}
		return tokPipe, false
	case '>':
		if next == '=' {
			return tokGte, true
		}
		return tokGt, false
	case '<':
		if next == '=' {
			return tokLte, true
		}
		return tokLt, false
	}
	return tokEOF, false
}
