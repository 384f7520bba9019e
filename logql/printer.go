package logql

import (
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
)

// The printer writes every token as it was written (strings with their
// quotes and escapes, numbers, durations, byte sizes) and parentheses
// where they were, so that parsing the output gives the same tree and
// Loki reads the output as it read the input. Layout is its own: one
// space between tokens, and the parts of a log range in one order.

func (e *LogExpr) String() string           { return sprint(e) }
func (e *Selector) String() string          { return sprint(e) }
func (e *ParenExpr) String() string         { return sprint(e) }
func (e *BinaryExpr) String() string        { return sprint(e) }
func (e *Literal) String() string           { return sprint(e) }
func (e *VectorExpr) String() string        { return sprint(e) }
func (e *RangeAggregation) String() string  { return sprint(e) }
func (e *VectorAggregation) String() string { return sprint(e) }
func (e *LabelReplace) String() string      { return sprint(e) }
func (e *Variants) String() string          { return sprint(e) }
func (e *LogRange) String() string          { return sprint(e) }
func (e *Unwrap) String() string            { return sprint(e) }
func (e *LineFilter) String() string        { return sprint(e) }
func (e *LogfmtParser) String() string      { return sprint(e) }
func (e *JSONParser) String() string        { return sprint(e) }
func (e *RegexpParser) String() string      { return sprint(e) }
func (e *PatternParser) String() string     { return sprint(e) }
func (e *UnpackParser) String() string      { return sprint(e) }
func (e *LineFormat) String() string        { return sprint(e) }
func (e *LabelFormat) String() string       { return sprint(e) }
func (e *Decolorize) String() string        { return sprint(e) }
func (e *DropLabels) String() string        { return sprint(e) }
func (e *KeepLabels) String() string        { return sprint(e) }
func (e *LabelFilterStage) String() string  { return sprint(e) }
func (e *BinaryLabelFilter) String() string { return sprint(e) }
func (e *ParenLabelFilter) String() string  { return sprint(e) }
func (e *MatcherFilter) String() string     { return sprint(e) }
func (e *IPFilter) String() string          { return sprint(e) }
func (e *CompareFilter) String() string     { return sprint(e) }

// String returns the matcher as written, e.g. app="api".
func (m *Matcher) String() string {
	var b strings.Builder
	writeMatcher(&b, m)
	return b.String()
}

func sprint(n Node) string {
	var b strings.Builder
	writeNode(&b, n)
	return b.String()
}

// NewString returns the string literal for v, double-quoted as Go quotes
// it, which Loki reads back as v.
func NewString(v string) String { return String{Text: strconv.Quote(v), Value: v} }

// NewMatcher returns the matcher m, with its value quoted by NewString.
func NewMatcher(m *labels.Matcher) *Matcher {
	return &Matcher{Name: m.Name, Type: m.Type, Value: NewString(m.Value)}
}

func writeNode(b *strings.Builder, n Node) {
	switch n := n.(type) {
	case Expr:
		writeExpr(b, n)
	case Stage:
		writeStage(b, n)
	case LabelFilter:
		writeLabelFilter(b, n)
	case *Selector:
		writeSelector(b, n)
	case *LogRange:
		writeLogRange(b, n)
	case *Unwrap:
		writeUnwrap(b, n)
	}
}

func writeExpr(b *strings.Builder, e Expr) {
	switch e := e.(type) {
	case *LogExpr:
		writeSelector(b, e.Selector)
		for _, s := range e.Pipeline {
			b.WriteByte(' ')
			writeStage(b, s)
		}
	case *ParenExpr:
		b.WriteByte('(')
		writeExpr(b, e.Expr)
		b.WriteByte(')')
	case *BinaryExpr:
		writeBinary(b, e)
	case *Literal:
		writeLiteral(b, e.Sign, e.Number.Text)
	case *VectorExpr:
		b.WriteString("vector(")
		b.WriteString(e.Value.Text)
		b.WriteByte(')')
	case *RangeAggregation:
		b.WriteString(e.Op)
		b.WriteByte('(')
		if e.Param != nil {
			b.WriteString(e.Param.Text)
			b.WriteString(", ")
		}
		writeLogRange(b, e.Range)
		b.WriteByte(')')
		if e.Grouping != nil {
			b.WriteByte(' ')
			writeGrouping(b, e.Grouping)
		}
	case *VectorAggregation:
		writeVectorAggregation(b, e)
	case *LabelReplace:
		b.WriteString("label_replace(")
		writeExpr(b, e.Expr)
		for _, s := range []String{e.Dst, e.Replacement, e.Src, e.Regex} {
			b.WriteString(", ")
			b.WriteString(s.Text)
		}
		b.WriteByte(')')
	case *Variants:
		b.WriteString("variants(")
		for i, v := range e.Variants {
			if i > 0 {
				b.WriteString(", ")
			}
			writeExpr(b, v)
		}
		b.WriteString(") of (")
		writeLogRange(b, e.Range)
		b.WriteByte(')')
	}
}

// writeLiteral writes a signed number. "-" and "0" are kept apart: Loki
// reads -0 as a duration.
func writeLiteral(b *strings.Builder, sign, number string) {
	b.WriteString(sign)
	if sign != "" && number == "0" {
		b.WriteByte(' ')
	}
	b.WriteString(number)
}

func writeBinary(b *strings.Builder, e *BinaryExpr) {
	writeExpr(b, e.LHS)
	b.WriteByte(' ')
	b.WriteString(e.Op)
	if e.Bool {
		b.WriteString(" bool")
	}
	if m := e.Matching; m != nil {
		if m.On {
			b.WriteString(" on ")
		} else {
			b.WriteString(" ignoring ")
		}
		writeLabelList(b, m.Labels)
		if m.Group != "" {
			b.WriteByte(' ')
			b.WriteString(m.Group)
			// nil: no list written; empty: "()" written, which keeps a
			// parenthesised right operand from being read as the list.
			if m.Include != nil {
				b.WriteByte(' ')
				writeLabelList(b, m.Include)
			}
		}
	}
	b.WriteByte(' ')
	writeExpr(b, e.RHS)
}

func writeVectorAggregation(b *strings.Builder, e *VectorAggregation) {
	b.WriteString(e.Op)
	if e.Grouping != nil {
		b.WriteByte(' ')
		writeGrouping(b, e.Grouping)
		b.WriteByte(' ')
	}
	b.WriteByte('(')
	if e.Param != nil {
		b.WriteString(e.Param.Text)
		b.WriteString(", ")
	}
	writeExpr(b, e.Expr)
	b.WriteByte(')')
}

func writeGrouping(b *strings.Builder, g *Grouping) {
	if g.Without {
		b.WriteString("without ")
	} else {
		b.WriteString("by ")
	}
	writeLabelList(b, g.Labels)
}

func writeLabelList(b *strings.Builder, names []string) {
	b.WriteByte('(')
	b.WriteString(strings.Join(names, ", "))
	b.WriteByte(')')
}

func writeSelector(b *strings.Builder, s *Selector) {
	b.WriteByte('{')
	for i, m := range s.Matchers {
		if i > 0 {
			b.WriteString(", ")
		}
		writeMatcher(b, m)
	}
	b.WriteByte('}')
}

func writeMatcher(b *strings.Builder, m *Matcher) {
	b.WriteString(m.Name)
	b.WriteString(m.Type.String())
	b.WriteString(m.Value.Text)
}

// writeLogRange writes S P U [R] offset O, an order Loki accepts for any
// combination of the parts.
func writeLogRange(b *strings.Builder, r *LogRange) {
	writeExpr(b, r.Log)
	if r.Unwrap != nil {
		b.WriteByte(' ')
		writeUnwrap(b, r.Unwrap)
	}
	if r.Unwrap != nil || len(r.Log.Pipeline) > 0 {
		b.WriteByte(' ')
	}
	b.WriteByte('[')
	b.WriteString(r.Range.Text)
	b.WriteByte(']')
	if r.Offset != nil {
		b.WriteString(" offset ")
		b.WriteString(r.Offset.Text)
	}
}

func writeUnwrap(b *strings.Builder, u *Unwrap) {
	b.WriteString("| unwrap ")
	if u.Conversion != "" {
		b.WriteString(u.Conversion)
		b.WriteByte('(')
		b.WriteString(u.Label)
		b.WriteByte(')')
	} else {
		b.WriteString(u.Label)
	}
	for _, f := range u.Filters {
		b.WriteString(" | ")
		writeLabelFilter(b, f)
	}
}

func writeStage(b *strings.Builder, s Stage) {
	switch s := s.(type) {
	case *LineFilter:
		b.WriteString(s.Op)
		for i, v := range s.Values {
			if i > 0 {
				b.WriteString(" or")
			}
			b.WriteByte(' ')
			if v.IP {
				b.WriteString("ip(")
				b.WriteString(v.Value.Text)
				b.WriteByte(')')
			} else {
				b.WriteString(v.Value.Text)
			}
		}
	case *LogfmtParser:
		b.WriteString("| logfmt")
		for _, f := range s.Flags {
			b.WriteByte(' ')
			b.WriteString(f)
		}
		writeExtractions(b, s.Extractions)
	case *JSONParser:
		b.WriteString("| json")
		writeExtractions(b, s.Extractions)
	case *RegexpParser:
		b.WriteString("| regexp ")
		b.WriteString(s.Regexp.Text)
	case *PatternParser:
		b.WriteString("| pattern ")
		b.WriteString(s.Pattern.Text)
	case *UnpackParser:
		b.WriteString("| unpack")
	case *Decolorize:
		b.WriteString("| decolorize")
	case *LineFormat:
		b.WriteString("| line_format ")
		b.WriteString(s.Template.Text)
	case *LabelFormat:
		b.WriteString("| label_format ")
		writeLabelFormats(b, s.Items)
	case *DropLabels:
		b.WriteString("| drop ")
		writeNamedMatchers(b, s.Items)
	case *KeepLabels:
		b.WriteString("| keep ")
		writeNamedMatchers(b, s.Items)
	case *LabelFilterStage:
		b.WriteString("| ")
		writeLabelFilter(b, s.Filter)
	}
}

func writeExtractions(b *strings.Builder, xs []Extraction) {
	for i, x := range xs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte(' ')
		b.WriteString(x.Label)
		if x.Expr != nil {
			b.WriteByte('=')
			b.WriteString(x.Expr.Text)
		}
	}
}

func writeLabelFormats(b *strings.Builder, items []LabelFormatItem) {
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(it.Label)
		b.WriteByte('=')
		if it.Template != nil {
			b.WriteString(it.Template.Text)
		} else {
			b.WriteString(it.Source)
		}
	}
}

func writeNamedMatchers(b *strings.Builder, items []NamedMatcher) {
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		if it.Matcher != nil {
			writeMatcher(b, it.Matcher)
		} else {
			b.WriteString(it.Name)
		}
	}
}

func writeLabelFilter(b *strings.Builder, f LabelFilter) {
	switch f := f.(type) {
	case *BinaryLabelFilter:
		writeLabelFilter(b, f.LHS)
		switch f.Op {
		case ",":
			b.WriteString(", ")
		case "":
			b.WriteByte(' ')
		default:
			b.WriteByte(' ')
			b.WriteString(f.Op)
			b.WriteByte(' ')
		}
		writeLabelFilter(b, f.RHS)
	case *ParenLabelFilter:
		b.WriteByte('(')
		writeLabelFilter(b, f.Filter)
		b.WriteByte(')')
	case *MatcherFilter:
		writeMatcher(b, f.Matcher)
	case *IPFilter:
		b.WriteString(f.Label)
		if f.Not {
			b.WriteString(" != ip(")
		} else {
			b.WriteString(" = ip(")
		}
		b.WriteString(f.Pattern.Text)
		b.WriteByte(')')
	case *CompareFilter:
		b.WriteString(f.Label)
		b.WriteByte(' ')
		b.WriteString(f.Op)
		b.WriteByte(' ')
		writeLiteral(b, f.Sign, f.Value)
	}
}
