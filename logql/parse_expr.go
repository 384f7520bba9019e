package logql

import (
	"strconv"
)

// exprKind is what an expression yields, for the rules on where it may
// stand.
type exprKind int

const (
	kindMetric   exprKind = iota
	kindLog               // a log query, maybe in parentheses
	kindVariants          // variants(…) of (…), never in parentheses
)

// info is what the parser knows of an expression it has built: its kind,
// and whether it is a constant (Loki folds 1 + 1 into 2, and refuses a
// constant operand of and, or, unless).
type info struct {
	kind     exprKind
	constant bool
}

// binaryPrecedence returns the operator t stands for and its precedence
// (0: not a binary operator). ^ is right-associative.
func binaryPrecedence(t token) (string, int) {
	switch t.kind {
	case tokKeyword:
		switch t.word {
		case kwOr:
			return kwOr, 1
		case kwAnd, kwUnless:
			return t.word, 2
		}
	case tokCmpEq, tokNeq, tokGt, tokGte, tokLt, tokLte:
		return t.text, 3
	case tokAdd, tokSub:
		return t.text, 4
	case tokMul, tokDiv, tokMod:
		return t.text, 5
	case tokPow:
		return t.text, 6
	}
	return "", 0
}

// parseExpr parses operands joined by binary operators of at least
// minPrec, by precedence climbing: a chain of one operator is built in a
// loop, and only a higher precedence (or ^) recurses.
func (p *parser) parseExpr(minPrec int) (Expr, info) {
	p.enter()
	defer p.leave()
	lhs, li := p.parseOperand()
	for {
		op, prec := binaryPrecedence(p.peek())
		if prec == 0 || prec < minPrec {
			return lhs, li
		}
		opTok := p.next()
		b := &BinaryExpr{Op: op, LHS: lhs}
		p.parseModifiers(b)
		next := prec + 1
		if op == "^" {
			next = prec
		}
		var ri info
		b.RHS, ri = p.parseExpr(next)
		p.checkLegs(opTok, li, ri)
		p.count(1)
		lhs, li = b, info{kind: kindMetric, constant: li.constant && ri.constant}
	}
}

// checkLegs applies Loki's rules on the operands of a binary operation.
func (p *parser) checkLegs(op token, l, r info) {
	if l.kind == kindLog || r.kind == kindLog {
		p.failAt(op, "a log query cannot be an operand of %s; aggregate it first, e.g. count_over_time({…}[5m])", op.text)
	}
	if w, _ := binaryPrecedence(op); w == kwOr || w == kwAnd || w == kwUnless {
		if l.constant || r.constant {
			p.failAt(op, "a number cannot be an operand of %s", w)
		}
	}
}

// parseModifiers parses bool, on/ignoring and group_left/group_right.
func (p *parser) parseModifiers(b *BinaryExpr) {
	b.Bool = p.acceptKeyword(kwBool)
	t := p.peek()
	if !p.isKeyword(t, kwOn) && !p.isKeyword(t, kwIgnoring) {
		return
	}
	p.next()
	b.Matching = &VectorMatching{On: t.word == kwOn, Labels: p.parseLabelList()}
	if g := p.peek(); p.isKeyword(g, kwGroupLeft) || p.isKeyword(g, kwGroupRight) {
		p.next()
		b.Matching.Group = g.word
		// As in Loki, "(" after group_left always opens its label list.
		if p.peek().kind == tokLParen {
			b.Matching.Include = append([]string{}, p.parseLabelList()...)
		}
	}
}

func (p *parser) parseOperand() (Expr, info) {
	t := p.peek()
	switch t.kind {
	case tokLBrace:
		e := p.parseLogExpr(false)
		if r := p.peek(); r.kind == tokRange {
			p.failAt(r, "a log query over a range must be aggregated, e.g. count_over_time({…}[%s])", r.text)
		}
		return e, info{kind: kindLog}
	case tokLParen:
		p.next()
		inner, in := p.parseExpr(0)
		p.expect(tokRParen, `")"`)
		if in.kind == kindVariants {
			p.failAt(t, "variants(…) of (…) cannot be in parentheses")
		}
		p.count(1)
		return &ParenExpr{Expr: inner}, in
	case tokNumber, tokAdd, tokSub:
		return p.parseLiteral(), info{kind: kindMetric, constant: true}
	case tokFunction:
		return p.parseCall(t), info{kind: kindMetric}
	case tokKeyword:
		if t.word == kwVariants {
			return p.parseVariants(), info{kind: kindVariants}
		}
	}
	p.unexpected(t, "a stream selector, an aggregation, a number or vector()")
	return nil, info{}
}

// parseLiteral parses a number with an optional sign; Loki refuses one
// that does not parse as a float (1e999).
func (p *parser) parseLiteral() *Literal {
	lit := &Literal{}
	if t := p.peek(); t.kind == tokAdd || t.kind == tokSub {
		lit.Sign = p.next().text
	}
	n := p.expect(tokNumber, "a number")
	if _, err := strconv.ParseFloat(n.text, 64); err != nil {
		p.failAt(n, "unable to parse %s as a float: %v", n.text, err)
	}
	lit.Number = Number{Text: n.text}
	p.count(1)
	return lit
}

func (p *parser) parseCall(t token) Expr {
	switch {
	case isRangeOp(t.word):
		return p.parseRangeAggregation()
	case isVectorOp(t.word):
		return p.parseVectorAggregation()
	case t.word == fnVector:
		p.next()
		p.expect(tokLParen, `"("`)
		n := p.expect(tokNumber, "a number")
		if _, err := strconv.ParseFloat(n.text, 64); err != nil {
			p.failAt(n, "unable to parse %s as a float: %v", n.text, err)
		}
		p.expect(tokRParen, `")"`)
		p.count(1)
		return &VectorExpr{Value: Number{Text: n.text}}
	case t.word == fnLabelReplace:
		return p.parseLabelReplace()
	}
	p.unexpected(t, "a stream selector, an aggregation, a number or vector()")
	return nil
}

// parseMetricArg parses an operand that must yield samples.
func (p *parser) parseMetricArg() Expr {
	at := p.peek()
	e, in := p.parseExpr(0)
	switch in.kind {
	case kindLog:
		p.failAt(at, "expected a metric query here, got a log query; aggregate it first, e.g. count_over_time({…}[5m])")
	case kindVariants:
		p.failAt(at, "variants(…) of (…) cannot stand here")
	}
	return e
}

func (p *parser) parseRangeAggregation() Expr {
	op := p.next()
	a := &RangeAggregation{Op: op.word}
	p.expect(tokLParen, `"("`)
	var param token
	if p.peek().kind == tokNumber {
		param = p.next()
		a.Param = &Number{Text: param.text}
		p.expect(tokComma, `","`)
	}
	a.Range = p.parseLogRange()
	p.expect(tokRParen, `")"`)
	if p.peekGrouping() {
		a.Grouping = p.parseGrouping()
	}
	if msg := checkRangeAggregation(a); msg != "" {
		p.failAt(op, "%s", msg)
	}
	p.count(1)
	return a
}

func (p *parser) parseVectorAggregation() Expr {
	op := p.next()
	a := &VectorAggregation{Op: op.word}
	if p.peekGrouping() {
		a.Grouping = p.parseGrouping()
	}
	p.expect(tokLParen, `"("`)
	if p.peek().kind == tokNumber && p.peekAt(1).kind == tokComma {
		a.Param = &Number{Text: p.next().text}
		p.next()
	}
	a.Expr = p.parseMetricArg()
	p.expect(tokRParen, `")"`)
	if a.Grouping == nil && p.peekGrouping() {
		a.Grouping = p.parseGrouping()
	}
	if msg := checkVectorAggregation(a); msg != "" {
		p.failAt(op, "%s", msg)
	}
	p.count(1)
	return a
}

func (p *parser) parseLabelReplace() Expr {
	op := p.next()
	p.expect(tokLParen, `"("`)
	e := &LabelReplace{Expr: p.parseMetricArg()}
	for _, s := range []*String{&e.Dst, &e.Replacement, &e.Src, &e.Regex} {
		p.expect(tokComma, `","`)
		*s = p.parseString("a string")
	}
	p.expect(tokRParen, `")"`)
	if err := checkRegexp("^(?:" + e.Regex.Value + ")$"); err != nil {
		p.failAt(op, "invalid regex in label_replace: %v", err)
	}
	p.count(1)
	return e
}

func (p *parser) parseVariants() Expr {
	p.next()
	v := &Variants{}
	p.expect(tokLParen, `"("`)
	for {
		v.Variants = append(v.Variants, p.parseMetricArg())
		if p.next().kind == tokRParen {
			break
		}
		if p.last.kind != tokComma {
			p.unexpected(p.last, `"," or ")"`)
		}
	}
	if t := p.next(); !p.isKeyword(t, kwOf) {
		p.unexpected(t, `"of"`)
	}
	p.expect(tokLParen, `"("`)
	v.Range = p.parseLogRange()
	p.expect(tokRParen, `")"`)
	p.count(1)
	return v
}
