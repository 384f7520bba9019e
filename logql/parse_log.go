package logql

import (
	"github.com/prometheus/prometheus/model/labels"
)

// parseSelector parses {name op "value", …} or {}.
func (p *parser) parseSelector() *Selector {
	p.expect(tokLBrace, `"{"`)
	s := &Selector{}
	p.count(1)
	if p.peek().kind == tokRBrace {
		p.next()
		return s
	}
	for {
		s.Matchers = append(s.Matchers, p.parseMatcher())
		if p.next().kind == tokRBrace {
			return s
		}
		if p.last.kind != tokComma {
			p.unexpected(p.last, `"," or "}"`)
		}
	}
}

func matchType(k tokenKind) (labels.MatchType, bool) {
	switch k {
	case tokEq:
		return labels.MatchEqual, true
	case tokNeq:
		return labels.MatchNotEqual, true
	case tokRe:
		return labels.MatchRegexp, true
	case tokNre:
		return labels.MatchNotRegexp, true
	}
	return 0, false
}

// parseMatcher parses name op "value".
func (p *parser) parseMatcher() *Matcher {
	name := p.parseIdent("a label name")
	op := p.next()
	typ, ok := matchType(op.kind)
	if !ok {
		p.unexpected(op, `"=", "!=", "=~" or "!~"`)
	}
	return p.finishMatcher(name, typ)
}

// finishMatcher reads the value of a matcher; Loki refuses a regular
// expression that does not compile.
func (p *parser) finishMatcher(name string, typ labels.MatchType) *Matcher {
	v := p.expect(tokString, "a string")
	m := &Matcher{Name: name, Type: typ, Value: stringOf(v.text)}
	if typ == labels.MatchRegexp || typ == labels.MatchNotRegexp {
		if err := checkMatcherRegexp(m.Value.Value); err != nil {
			p.failAt(v, "invalid regular expression %s: %v", v.text, err)
		}
	}
	p.count(1)
	return m
}

// parseLogExpr parses a stream selector and its pipeline. Within a range
// (inRange), the pipeline stops before | unwrap.
func (p *parser) parseLogExpr(inRange bool) *LogExpr {
	e := &LogExpr{Selector: p.parseSelector()}
	e.Pipeline = p.parsePipeline(inRange, nil)
	p.count(1)
	return e
}

func isLineFilterOp(k tokenKind) bool {
	switch k {
	case tokPipeEq, tokNeq, tokPipeRe, tokNre, tokPipePat, tokNotPat:
		return true
	}
	return false
}

func (p *parser) atUnwrap() bool {
	return p.peek().kind == tokPipe && p.isKeyword(p.peekAt(1), kwUnwrap)
}

// parsePipeline parses stages, appending to stages.
func (p *parser) parsePipeline(inRange bool, stages []Stage) []Stage {
	for {
		t := p.peek()
		switch {
		case isLineFilterOp(t.kind):
			stages = append(stages, p.parseLineFilter())
		case t.kind == tokPipe && !(inRange && p.atUnwrap()):
			p.next()
			stages = append(stages, p.parseStage())
		default:
			return stages
		}
		p.count(1)
	}
}

func (p *parser) parseLineFilter() Stage {
	f := &LineFilter{Op: p.next().text}
	for {
		v := LineFilterValue{}
		t := p.next()
		switch {
		case t.kind == tokString:
			v.Value = stringOf(t.text)
		case t.kind == tokFunction && t.word == fnIP:
			v.IP = true
			p.expect(tokLParen, `"("`)
			v.Value = p.parseString("a string")
			p.expect(tokRParen, `")"`)
		default:
			p.unexpected(t, `a string or ip("…")`)
		}
		f.Values = append(f.Values, v)
		p.count(1)
		if !p.acceptKeyword(kwOr) {
			return f
		}
	}
}

// parseStage parses what follows "|".
func (p *parser) parseStage() Stage {
	t := p.peek()
	if t.kind == tokIdent || t.kind == tokLParen {
		return &LabelFilterStage{Filter: p.parseLabelFilter()}
	}
	if t.kind != tokKeyword {
		p.unexpected(t, "a parser, a label filter or a formatting stage")
	}
	p.next()
	switch t.word {
	case kwLogfmt:
		s := &LogfmtParser{}
		for p.peek().kind == tokFlag {
			s.Flags = append(s.Flags, p.next().text)
		}
		s.Extractions = p.parseExtractions()
		return s
	case kwJSON:
		return &JSONParser{Extractions: p.parseExtractions()}
	case kwRegexp:
		s := &RegexpParser{Regexp: p.parseString("a regular expression")}
		if err := checkRegexpParser(s.Regexp.Value); err != nil {
			p.failAt(t, "invalid regexp parser: %v", err)
		}
		return s
	case kwPattern:
		s := &PatternParser{Pattern: p.parseString("a pattern")}
		if err := checkPattern(s.Pattern.Value); err != nil {
			p.failAt(t, "invalid pattern parser: %v", err)
		}
		return s
	case kwUnpack:
		return &UnpackParser{}
	case kwDecolorize:
		return &Decolorize{}
	case kwLineFormat:
		return &LineFormat{Template: p.parseString("a template string")}
	case kwLabelFormat:
		return &LabelFormat{Items: p.parseLabelFormats()}
	case kwDrop:
		return &DropLabels{Items: p.parseNamedMatchers()}
	case kwKeep:
		return &KeepLabels{Items: p.parseNamedMatchers()}
	}
	p.unexpected(t, "a parser, a label filter or a formatting stage")
	return nil
}

// parseExtractions parses the optional label="expression", label, … of
// json and logfmt.
func (p *parser) parseExtractions() []Extraction {
	if p.peek().kind != tokIdent {
		return nil
	}
	var out []Extraction
	for {
		x := Extraction{Label: p.parseIdent("a label name")}
		if p.peek().kind == tokEq {
			p.next()
			s := p.parseString("a string")
			x.Expr = &s
		}
		out = append(out, x)
		p.count(1)
		if p.peek().kind != tokComma {
			return out
		}
		p.next()
	}
}

func (p *parser) parseLabelFormats() []LabelFormatItem {
	var out []LabelFormatItem
	for {
		it := LabelFormatItem{Label: p.parseIdent("a label name")}
		p.expect(tokEq, `"="`)
		switch t := p.next(); t.kind {
		case tokIdent:
			it.Source = t.text
		case tokString:
			s := stringOf(t.text)
			it.Template = &s
		default:
			p.unexpected(t, "a label name or a template string")
		}
		out = append(out, it)
		p.count(1)
		if p.peek().kind != tokComma {
			return out
		}
		p.next()
	}
}

func (p *parser) parseNamedMatchers() []NamedMatcher {
	var out []NamedMatcher
	for {
		name := p.parseIdent("a label name")
		it := NamedMatcher{Name: name}
		if typ, ok := matchType(p.peek().kind); ok {
			p.next()
			it = NamedMatcher{Matcher: p.finishMatcher(name, typ)}
		}
		out = append(out, it)
		p.count(1)
		if p.peek().kind != tokComma {
			return out
		}
		p.next()
	}
}

// parseLabelFilter parses label filters joined by "or", "and", "," or
// nothing. Loki's grammar gives these no precedence against one another
// except or below and; its parser then shifts, so that after "," or
// between two filters written side by side, everything to the right is
// one operand:
//
//	a or b , c        a or (b , c)
//	a , b or c        a , (b or c)
//	a and b , c or d  a and (b , (c or d))
//	a and b or c      (a and b) or c
func (p *parser) parseLabelFilter() LabelFilter {
	p.enter()
	defer p.leave()
	lhs := p.parseLabelFilterAnd()
	for p.acceptKeyword(kwOr) {
		lhs = &BinaryLabelFilter{Op: kwOr, LHS: lhs, RHS: p.parseLabelFilterAnd()}
		p.count(1)
	}
	return lhs
}

func (p *parser) parseLabelFilterAnd() LabelFilter {
	lhs := p.parseLabelFilterTerm()
	for p.acceptKeyword(kwAnd) {
		lhs = &BinaryLabelFilter{Op: kwAnd, LHS: lhs, RHS: p.parseLabelFilterTerm()}
		p.count(1)
	}
	return lhs
}

func (p *parser) parseLabelFilterTerm() LabelFilter {
	lhs := p.parseLabelFilterPrimary()
	op := ""
	switch p.peek().kind {
	case tokComma:
		p.next()
		op = ","
	case tokIdent, tokLParen:
	default:
		return lhs
	}
	p.count(1)
	return &BinaryLabelFilter{Op: op, LHS: lhs, RHS: p.parseLabelFilter()}
}

func (p *parser) parseLabelFilterPrimary() LabelFilter {
	p.count(1)
	if p.peek().kind == tokLParen {
		p.next()
		f := p.parseLabelFilter()
		p.expect(tokRParen, `")"`)
		return &ParenLabelFilter{Filter: f}
	}
	name := p.parseIdent("a label name")
	op := p.next()
	switch op.kind {
	case tokRe, tokNre:
		typ, _ := matchType(op.kind)
		return &MatcherFilter{Matcher: p.finishMatcher(name, typ)}
	case tokEq, tokNeq:
		switch v := p.peek(); {
		case v.kind == tokString:
			typ, _ := matchType(op.kind)
			return &MatcherFilter{Matcher: p.finishMatcher(name, typ)}
		case v.kind == tokFunction && v.word == fnIP:
			p.next()
			p.expect(tokLParen, `"("`)
			f := &IPFilter{Label: name, Not: op.kind == tokNeq, Pattern: p.parseString("a string")}
			p.expect(tokRParen, `")"`)
			return f
		}
	case tokCmpEq, tokGt, tokGte, tokLt, tokLte:
	default:
		p.unexpected(op, "a comparison operator")
	}
	return p.parseComparison(name, op.text)
}

// parseComparison parses the number, duration or byte size a label is
// compared with. As in Loki, a number that does not parse as a float is
// not refused here (it compares as Loki's parser leaves it).
func (p *parser) parseComparison(name, op string) LabelFilter {
	f := &CompareFilter{Label: name, Op: op}
	t := p.next()
	switch t.kind {
	case tokDuration:
		f.Kind = DurationValue
	case tokBytes:
		f.Kind = BytesValue
	case tokAdd, tokSub:
		f.Sign = t.text
		t = p.expect(tokNumber, "a number")
	case tokNumber:
	default:
		p.unexpected(t, "a number, a duration or a byte size")
	}
	f.Value = t.text
	return f
}

// parseLogRange parses the log query over a range that a range
// aggregation or variants takes. Loki accepts these orders, with the
// parentheses shown and no others (S selector, P pipeline, U unwrap, R
// range, O offset):
//
//	S [P] [U] R [O]        S R [O] [P] [U]
//	(S [P] [U]) R [O]      (S) R [O] U         (any of these)
func (p *parser) parseLogRange() *LogRange {
	p.enter()
	defer p.leave()
	if p.peek().kind != tokLParen {
		r := p.parseLogRangeHead()
		p.parseRangeAndOffset(r)
		if r.Unwrap == nil && len(r.Log.Pipeline) == 0 {
			r.Log.Pipeline = p.parsePipeline(true, r.Log.Pipeline)
			r.Unwrap = p.parseUnwrap()
		}
		return r
	}
	if p.peekAt(1).kind == tokLParen {
		p.next()
		r := p.parseLogRange()
		p.expect(tokRParen, `")"`)
		return r
	}
	p.next()
	r := p.parseLogRangeHead()
	if p.peek().kind == tokRange {
		// The whole range is in the parentheses.
		p.parseRangeAndOffset(r)
		if r.Unwrap == nil && len(r.Log.Pipeline) == 0 {
			r.Log.Pipeline = p.parsePipeline(true, r.Log.Pipeline)
			r.Unwrap = p.parseUnwrap()
		}
		p.expect(tokRParen, `")"`)
		return r
	}
	p.expect(tokRParen, `")" or a range`)
	hadUnwrap, hadPipeline := r.Unwrap != nil, len(r.Log.Pipeline) > 0
	p.parseRangeAndOffset(r)
	if !hadUnwrap && !hadPipeline {
		r.Unwrap = p.parseUnwrap()
	}
	return r
}

// parseLogRangeHead parses S [P] [U].
func (p *parser) parseLogRangeHead() *LogRange {
	r := &LogRange{Log: p.parseLogExpr(true)}
	r.Unwrap = p.parseUnwrap()
	p.count(1)
	return r
}

func (p *parser) parseRangeAndOffset(r *LogRange) {
	t := p.expect(tokRange, "a range, e.g. [5m]")
	d, _ := parseDuration(t.text) // the lexer has checked it
	r.Range = Duration{Text: t.text, Value: d}
	if p.acceptKeyword(kwOffset) {
		o := p.expect(tokDuration, "a duration")
		v, _ := parseDuration(o.text)
		r.Offset = &Duration{Text: o.text, Value: v}
	}
}

// parseUnwrap parses an optional | unwrap [conv(]label[)] and the label
// filters after it.
func (p *parser) parseUnwrap() *Unwrap {
	if !p.atUnwrap() {
		return nil
	}
	p.next()
	p.next()
	u := &Unwrap{}
	switch t := p.next(); {
	case t.kind == tokIdent:
		u.Label = t.text
	case t.kind == tokFunction && isConversion(t.word):
		u.Conversion = t.word
		p.expect(tokLParen, `"("`)
		u.Label = p.parseIdent("a label name")
		p.expect(tokRParen, `")"`)
	default:
		p.unexpected(t, "a label name or bytes(…), duration(…), duration_seconds(…)")
	}
	for p.peek().kind == tokPipe {
		p.next()
		u.Filters = append(u.Filters, p.parseLabelFilter())
	}
	p.count(1)
	return u
}
