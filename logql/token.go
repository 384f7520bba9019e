package logql

import (
	"fmt"
	"strconv"
)

// tokenKind is the kind of one lexical token.
type tokenKind int

const (
	tokEOF tokenKind = iota
	tokIdent
	tokString   // "…" or `…`
	tokNumber   // 12, 1.5, 1e3
	tokDuration // 5m, 1h30m, 1.5s, -5m: a number and the run of unit runes after it
	tokBytes    // 10KB, 1.5KiB
	tokRange    // [5m]: the text between the brackets
	tokFlag     // --strict, --keep-empty

	// Punctuation and operators.
	tokLBrace   // {
	tokRBrace   // }
	tokLParen   // (
	tokRParen   // )
	tokComma    // ,
	tokEq       // =
	tokNeq      // !=
	tokRe       // =~
	tokNre      // !~
	tokPipe     // |
	tokPipeEq   // |=
	tokPipeRe   // |~
	tokPipePat  // |>
	tokNotPat   // !>
	tokCmpEq    // ==
	tokGt       // >
	tokGte      // >=
	tokLt       // <
	tokLte      // <=
	tokAdd      // +
	tokSub      // -
	tokMul      // *
	tokDiv      // /
	tokMod      // %
	tokPow      // ^
	tokKeyword  // a word the language reserves: see keyword
	tokFunction // a function name followed by "(" (or by/without and "("): see function
)

func (k tokenKind) String() string {
	switch k {
	case tokEOF:
		return "end of query"
	case tokIdent:
		return "identifier"
	case tokString:
		return "string"
	case tokNumber:
		return "number"
	case tokDuration:
		return "duration"
	case tokBytes:
		return "byte size"
	case tokRange:
		return "range"
	case tokFlag:
		return "flag"
	case tokKeyword:
		return "keyword"
	case tokFunction:
		return "function"
	}
	if s, ok := punctuation(k); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("token(%d)", int(k))
}

// punctuation returns the text of an operator or punctuation token.
func punctuation(k tokenKind) (string, bool) {
	switch k {
	case tokLBrace:
		return "{", true
	case tokRBrace:
		return "}", true
	case tokLParen:
		return "(", true
	case tokRParen:
		return ")", true
	case tokComma:
		return ",", true
	case tokEq:
		return "=", true
	case tokNeq:
		return "!=", true
	case tokRe:
		return "=~", true
	case tokNre:
		return "!~", true
	case tokPipe:
		return "|", true
	case tokPipeEq:
		return "|=", true
	case tokPipeRe:
		return "|~", true
	case tokPipePat:
		return "|>", true
	case tokNotPat:
		return "!>", true
	case tokCmpEq:
		return "==", true
	case tokGt:
		return ">", true
	case tokGte:
		return ">=", true
	case tokLt:
		return "<", true
	case tokLte:
		return "<=", true
	case tokAdd:
		return "+", true
	case tokSub:
		return "-", true
	case tokMul:
		return "*", true
	case tokDiv:
		return "/", true
	case tokMod:
		return "%", true
	case tokPow:
		return "^", true
	}
	return "", false
}

// token is one lexical token. text is the token as written in the query
// (for a range, the text between the brackets), word the lower-cased
// keyword or function name.
type token struct {
	kind tokenKind
	text string
	word string
	pos  int // byte offset of the token in the query
}

// Keywords of LogQL v3. As in Loki, they are matched case-insensitively,
// and a keyword is never an identifier: {json="x"} does not parse.
const (
	kwBy          = "by"
	kwWithout     = "without"
	kwBool        = "bool"
	kwOn          = "on"
	kwIgnoring    = "ignoring"
	kwGroupLeft   = "group_left"
	kwGroupRight  = "group_right"
	kwOffset      = "offset"
	kwOr          = "or"
	kwAnd         = "and"
	kwUnless      = "unless"
	kwJSON        = "json"
	kwLogfmt      = "logfmt"
	kwRegexp      = "regexp"
	kwPattern     = "pattern"
	kwUnpack      = "unpack"
	kwLineFormat  = "line_format"
	kwLabelFormat = "label_format"
	kwDecolorize  = "decolorize"
	kwDrop        = "drop"
	kwKeep        = "keep"
	kwUnwrap      = "unwrap"
	kwVariants    = "variants"
	kwOf          = "of"
)

func isKeyword(w string) bool {
	switch w {
	case kwBy, kwWithout, kwBool, kwOn, kwIgnoring, kwGroupLeft, kwGroupRight, kwOffset, kwOr,
		kwAnd, kwUnless, kwJSON, kwLogfmt, kwRegexp, kwPattern, kwUnpack, kwLineFormat,
		kwLabelFormat, kwDecolorize, kwDrop, kwKeep, kwUnwrap, kwVariants, kwOf:
		return true
	}
	return false
}

// Function names. Unlike keywords, they are reserved only where a call
// follows: Loki reads `rate` as a function name before "(" (or before
// "by (" or "without ("), and as an identifier anywhere else, so a label
// may be named rate, count or bytes.
const (
	fnVector       = "vector"
	fnLabelReplace = "label_replace"
	fnIP           = "ip"
	fnBytes        = "bytes"
	fnDuration     = "duration"
	fnDurationSecs = "duration_seconds"
)

// isRangeOp reports whether w names a range aggregation.
func isRangeOp(w string) bool {
	switch w {
	case "count_over_time", "rate", "rate_counter", "bytes_over_time", "bytes_rate",
		"avg_over_time", "sum_over_time", "min_over_time", "max_over_time", "stdvar_over_time",
		"stddev_over_time", "quantile_over_time", "first_over_time", "last_over_time",
		"absent_over_time":
		return true
	}
	return false
}

// isVectorOp reports whether w names a vector aggregation.
func isVectorOp(w string) bool {
	switch w {
	case "sum", "avg", "max", "min", "count", "stddev", "stdvar", "bottomk", "topk", "sort",
		"sort_desc", "approx_topk":
		return true
	}
	return false
}

// isConversion reports whether w names a conversion unwrap may apply.
func isConversion(w string) bool {
	return w == fnBytes || w == fnDuration || w == fnDurationSecs
}

func isFunctionName(w string) bool {
	return isRangeOp(w) || isVectorOp(w) || isConversion(w) || w == fnVector || w == fnLabelReplace || w == fnIP
}
