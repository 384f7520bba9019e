// Package logql is Tollgate's own reading of LogQL, the query language of
// Grafana Loki v3.7: a lexer, a parser, the syntax tree, a walker and a
// printer.
//
// It exists so that the gateway reads every query exactly as Loki will,
// and prints it back exactly as written, without linking Loki's parser
// (licensed AGPL-3.0). It was written from Loki's documentation and from
// Loki's observable behaviour; a differential test holds it to a real Loki.
//
// Parsing is linear in the query's length and bounded: the depth and the
// size of the tree are checked while it is built (querybounds), so
// whatever walks or prints a tree afterwards recurses a bounded number of
// times. What Loki refuses, the parser refuses, with one exception: a
// stream selector whose matchers all match the empty string ({app=~".*"},
// {}), which Loki refuses on its own but accepts once a matcher such as a
// tenant's is added. And Loki's lexer does work quadratic in the query's
// length on some valid queries; the parser computes that work and refuses
// queries over MaxLokiLexCost.
//
// Tokens keep their text: a duration, byte size, number or string prints
// exactly as it was written.
package logql

import (
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// Node is any node of the syntax tree.
type Node interface {
	String() string
	node()
}

// Expr is a whole query, or an operand of one.
type Expr interface {
	Node
	expr()
}

// Stage is one stage of a log pipeline.
type Stage interface {
	Node
	stage()
}

// LabelFilter is a label filter, in a pipeline or after unwrap.
type LabelFilter interface {
	Node
	labelFilter()
}

// String is a string literal: Text as written, with its quotes, and the
// Value it stands for.
type String struct {
	Text  string
	Value string
}

// Number is a decimal number as written (12, 0.99, 1e3).
type Number struct {
	Text string
}

// Duration is a duration as written (5m, 1h30m, 1.5s, -5m) and its value.
type Duration struct {
	Text  string
	Value time.Duration
}

// Matcher is a label matcher: app="api", level=~"warn|error".
type Matcher struct {
	Name  string
	Type  labels.MatchType
	Value String
}

// LogExpr is a log query: a stream selector and a pipeline.
type LogExpr struct {
	Selector *Selector
	Pipeline []Stage
}

// Selector is a stream selector, {app="api", level!="debug"}.
type Selector struct {
	Matchers []*Matcher
}

// ParenExpr is an expression in parentheses.
type ParenExpr struct {
	Expr Expr
}

// BinaryExpr is a binary operation.
type BinaryExpr struct {
	Op       string // or, and, unless, ==, !=, >, >=, <, <=, +, -, *, /, %, ^
	LHS, RHS Expr
	Bool     bool
	Matching *VectorMatching // nil without on/ignoring
}

// VectorMatching is the on/ignoring clause of a binary operation and its
// group_left/group_right.
type VectorMatching struct {
	On      bool // false: ignoring
	Labels  []string
	Group   string   // "", group_left or group_right
	Include []string // nil when no list was written, empty for "()"
}

// Literal is a number, with the sign it was written with ("", "+", "-").
type Literal struct {
	Sign   string
	Number Number
}

// VectorExpr is vector(n).
type VectorExpr struct {
	Value Number
}

// RangeAggregation is a range aggregation, rate({…}[5m]) or
// quantile_over_time(0.99, {…} | unwrap x [5m]) by (pod).
type RangeAggregation struct {
	Op       string
	Param    *Number
	Range    *LogRange
	Grouping *Grouping
}

// VectorAggregation is a vector aggregation, sum by (a) (…) or topk(5, …).
type VectorAggregation struct {
	Op       string
	Param    *Number
	Grouping *Grouping
	Expr     Expr
}

// Grouping is by (…) or without (…); Labels may be empty.
type Grouping struct {
	Without bool
	Labels  []string
}

// LabelReplace is label_replace(expr, dst, replacement, src, regex).
type LabelReplace struct {
	Expr                         Expr
	Dst, Replacement, Src, Regex String
}

// Variants is variants(expr, …) of (range).
type Variants struct {
	Variants []Expr
	Range    *LogRange
}

// LogRange is a log query over a range: {…} | … | unwrap x [5m] offset 1h.
// Loki accepts the range, the offset, the pipeline and the unwrap in
// several orders; they mean the same and print in this one.
type LogRange struct {
	Log    *LogExpr
	Unwrap *Unwrap
	Range  Duration // the text between the brackets
	Offset *Duration
}

// Unwrap is | unwrap label, | unwrap bytes(label), with the label filters
// that follow it.
type Unwrap struct {
	Conversion string // "", bytes, duration or duration_seconds
	Label      string
	Filters    []LabelFilter
}

// LineFilter is a line filter and its alternatives: |= "a" or ip("b").
type LineFilter struct {
	Op     string // |=, !=, |~, !~, |>, !>
	Values []LineFilterValue
}

// LineFilterValue is one string of a line filter, or ip("…").
type LineFilterValue struct {
	IP    bool
	Value String
}

// Parser flags of logfmt.
const (
	FlagStrict    = "--strict"
	FlagKeepEmpty = "--keep-empty"
)

// LogfmtParser is | logfmt [flags] [extractions].
type LogfmtParser struct {
	Flags       []string
	Extractions []Extraction
}

// JSONParser is | json [extractions].
type JSONParser struct {
	Extractions []Extraction
}

// Extraction is label="expression", or a bare label.
type Extraction struct {
	Label string
	Expr  *String
}

// RegexpParser is | regexp "…".
type RegexpParser struct {
	Regexp String
}

// PatternParser is | pattern "…".
type PatternParser struct {
	Pattern String
}

// UnpackParser is | unpack.
type UnpackParser struct{}

// LineFormat is | line_format "…".
type LineFormat struct {
	Template String
}

// LabelFormat is | label_format a=b, c="{{…}}".
type LabelFormat struct {
	Items []LabelFormatItem
}

// LabelFormatItem renames Source to Label, or sets Label from Template.
type LabelFormatItem struct {
	Label    string
	Source   string
	Template *String
}

// Decolorize is | decolorize.
type Decolorize struct{}

// DropLabels is | drop a, b="x".
type DropLabels struct {
	Items []NamedMatcher
}

// KeepLabels is | keep a, b="x".
type KeepLabels struct {
	Items []NamedMatcher
}

// NamedMatcher is a label name, or a matcher, in drop and keep.
type NamedMatcher struct {
	Name    string
	Matcher *Matcher
}

// LabelFilterStage is a label filter as a pipeline stage.
type LabelFilterStage struct {
	Filter LabelFilter
}

// BinaryLabelFilter combines two label filters. Op is "and", "or", ","
// or "" for two filters written side by side; all but "or" mean and.
type BinaryLabelFilter struct {
	Op       string
	LHS, RHS LabelFilter
}

// ParenLabelFilter is a label filter in parentheses.
type ParenLabelFilter struct {
	Filter LabelFilter
}

// MatcherFilter compares a label with a string: level="error".
type MatcherFilter struct {
	Matcher *Matcher
}

// IPFilter is addr = ip("10.0.0.0/8") or addr != ip(…).
type IPFilter struct {
	Label   string
	Not     bool
	Pattern String
}

// ValueKind is the kind of the value a label is compared with.
type ValueKind int

// Value kinds.
const (
	NumberValue ValueKind = iota
	DurationValue
	BytesValue
)

// CompareFilter compares a label with a number, duration or byte size:
// status >= 500, latency > 1.5s, size <= 10KiB.
type CompareFilter struct {
	Label string
	Op    string // =, ==, !=, >, >=, <, <=
	Kind  ValueKind
	Sign  string // of a number: "", "+" or "-"
	Value string // as written
}

func (*LogExpr) node()           {}
func (*Selector) node()          {}
func (*ParenExpr) node()         {}
func (*BinaryExpr) node()        {}
func (*Literal) node()           {}
func (*VectorExpr) node()        {}
func (*RangeAggregation) node()  {}
func (*VectorAggregation) node() {}
func (*LabelReplace) node()      {}
func (*Variants) node()          {}
func (*LogRange) node()          {}
func (*Unwrap) node()            {}
func (*LineFilter) node()        {}
func (*LogfmtParser) node()      {}
func (*JSONParser) node()        {}
func (*RegexpParser) node()      {}
func (*PatternParser) node()     {}
func (*UnpackParser) node()      {}
func (*LineFormat) node()        {}
func (*LabelFormat) node()       {}
func (*Decolorize) node()        {}
func (*DropLabels) node()        {}
func (*KeepLabels) node()        {}
func (*LabelFilterStage) node()  {}
func (*BinaryLabelFilter) node() {}
func (*ParenLabelFilter) node()  {}
func (*MatcherFilter) node()     {}
func (*IPFilter) node()          {}
func (*CompareFilter) node()     {}

func (*LogExpr) expr()           {}
func (*ParenExpr) expr()         {}
func (*BinaryExpr) expr()        {}
func (*Literal) expr()           {}
func (*VectorExpr) expr()        {}
func (*RangeAggregation) expr()  {}
func (*VectorAggregation) expr() {}
func (*LabelReplace) expr()      {}
func (*Variants) expr()          {}

func (*LineFilter) stage()       {}
func (*LogfmtParser) stage()     {}
func (*JSONParser) stage()       {}
func (*RegexpParser) stage()     {}
func (*PatternParser) stage()    {}
func (*UnpackParser) stage()     {}
func (*LineFormat) stage()       {}
func (*LabelFormat) stage()      {}
func (*Decolorize) stage()       {}
func (*DropLabels) stage()       {}
func (*KeepLabels) stage()       {}
func (*LabelFilterStage) stage() {}

func (*BinaryLabelFilter) labelFilter() {}
func (*ParenLabelFilter) labelFilter()  {}
func (*MatcherFilter) labelFilter()     {}
func (*IPFilter) labelFilter()          {}
func (*CompareFilter) labelFilter()     {}
