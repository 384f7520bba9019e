package logql

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tollgate-dev/tollgate/querybounds"
)

// MaxLokiLexCost bounds the work Loki's lexer is asked to do for a query
// Tollgate accepts.
//
// Loki's lexer (v3.7, lex.go isFunction) reads the rest of the query, rune
// by rune and lower-casing all it has read at each rune, after every
// function name that is not a call: a label named rate, count or bytes
// costs the square of what follows it. A 13 KB query repeating `| rate="1"`
// took Loki 18 s of CPU. Tollgate's lexer does not do this; it computes
// what Loki's would do, exactly, in the same pass (see lexer.word), and
// Parser refuses queries over about 10 ms of Loki's lexing. Ordinary
// queries are far below it.
const MaxLokiLexCost = 10_000_000

// ErrLokiLexCost is wrapped by the error for a query over MaxLokiLexCost.
var ErrLokiLexCost = errors.New("the query would take Loki's parser too long")

// Parser parses LogQL within bounds. The zero value uses the default
// bounds of querybounds.
type Parser struct {
	Limits querybounds.Limits
}

// ParseExpr parses a query within the default bounds; see Parser.ParseExpr.
func ParseExpr(input string) (Expr, error) { return Parser{}.ParseExpr(input) }

// ParseExpr parses a whole query: a log query, a metric query or
// variants. It checks the size first, the depth and the number of nodes
// while the tree is built, then the work Loki's lexer would do. Errors
// are *Error (wrapping ErrSyntax), *querybounds.Exceeded, or wrap
// ErrLokiLexCost.
func (ps Parser) ParseExpr(input string) (Expr, error) {
	var e Expr
	err := ps.run(input, func(p *parser) {
		if p.peek().kind == tokEOF {
			p.failAt(p.peek(), "empty query")
		}
		e, _ = p.parseExpr(0)
		p.expectEOF()
	})
	if err != nil {
		return nil, err
	}
	if h := height(e); h > ps.Limits.WithDefaults().MaxDepth {
		return nil, ps.Limits.CheckDepth(h, false)
	}
	return e, nil
}

// ParseSelector parses a bare stream selector, as in the series API's
// match[].
func (ps Parser) ParseSelector(input string) (*Selector, error) {
	var s *Selector
	err := ps.run(input, func(p *parser) {
		s = p.parseSelector()
		p.expectEOF()
	})
	return s, err
}

func (ps Parser) run(input string, parse func(*parser)) (err error) {
	l := ps.Limits.WithDefaults()
	if err := l.CheckSize(input); err != nil {
		return err
	}
	// Loki's scanner fails on these anywhere, comments included.
	if !utf8.ValidString(input) {
		return newError(input, invalidUTF8(input), "invalid UTF-8 encoding")
	}
	if i := strings.IndexByte(input, 0); i >= 0 {
		return newError(input, i, "invalid character NUL")
	}
	p := &parser{lex: lexer{src: input}, limits: l}
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			err = b.err
		}
	}()
	parse(p)
	if p.lex.lokiCost > MaxLokiLexCost {
		return fmt.Errorf("%w (function names such as rate, count or bytes used as label names, in a long query): shorten the query", ErrLokiLexCost)
	}
	return nil
}

func invalidUTF8(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, w := utf8.DecodeRuneInString(s[i:]); w == 1 {
				return i
			}
		}
	}
	return 0
}

// bailout carries a parse error up the recursion to run.
type bailout struct{ err error }

type parser struct {
	lex    lexer
	ahead  [4]token // look-ahead: a ring of n tokens from head
	head   int
	n      int
	limits querybounds.Limits
	nest   int // current recursion depth, bounded by MaxDepth
	nodes  int // nodes built, bounded by MaxNodes
	last   token
}

// peekAt returns the token i places ahead, i < len(p.ahead).
func (p *parser) peekAt(i int) token {
	for p.n <= i {
		t := p.lex.next()
		if p.lex.err != nil {
			panic(bailout{p.lex.err})
		}
		p.ahead[(p.head+p.n)%len(p.ahead)] = t
		p.n++
	}
	return p.ahead[(p.head+i)%len(p.ahead)]
}

func (p *parser) peek() token { return p.peekAt(0) }

func (p *parser) next() token {
	t := p.peek()
	p.head = (p.head + 1) % len(p.ahead)
	p.n--
	p.last = t
	return t
}

// enter is called before every recursive descent: the depth is refused
// before the parser (and later the printer and walkers) recurse deeper.
func (p *parser) enter() {
	p.nest++
	if p.nest > p.limits.MaxDepth {
		panic(bailout{p.limits.CheckDepth(p.nest, false)})
	}
}

func (p *parser) leave() { p.nest-- }

// count is called for every node built.
func (p *parser) count(n int) {
	p.nodes += n
	if p.nodes > p.limits.MaxNodes {
		panic(bailout{p.limits.CheckNodes(p.nodes)})
	}
}

func (p *parser) failAt(t token, format string, args ...any) {
	panic(bailout{newError(p.lex.src, t.pos, format, args...)})
}

// unexpected fails on t, saying what was expected.
func (p *parser) unexpected(t token, expected string) {
	p.failAt(t, "unexpected %s, expected %s", describe(t), expected)
}

func describe(t token) string {
	switch t.kind {
	case tokEOF:
		return "end of query"
	case tokRange:
		return "range [" + t.text + "]"
	case tokIdent, tokKeyword, tokFunction:
		return fmt.Sprintf("%s %q", t.kind, t.text)
	}
	if _, ok := punctuation(t.kind); ok {
		return t.kind.String()
	}
	if len(t.text) > 40 {
		return fmt.Sprintf("%s %s…", t.kind, t.text[:40])
	}
	return fmt.Sprintf("%s %s", t.kind, t.text)
}

func (p *parser) expect(k tokenKind, expected string) token {
	t := p.next()
	if t.kind != k {
		p.unexpected(t, expected)
	}
	return t
}

func (p *parser) expectEOF() {
	if t := p.peek(); t.kind != tokEOF {
		p.unexpected(t, "end of query")
	}
}

func (p *parser) isKeyword(t token, w string) bool { return t.kind == tokKeyword && t.word == w }

// acceptKeyword consumes the keyword w if it comes next.
func (p *parser) acceptKeyword(w string) bool {
	if p.isKeyword(p.peek(), w) {
		p.next()
		return true
	}
	return false
}

func (p *parser) parseString(expected string) String {
	t := p.expect(tokString, expected)
	return stringOf(t.text)
}

func stringOf(text string) String {
	v, _ := unquote(text) // the lexer has checked it
	return String{Text: text, Value: v}
}

func (p *parser) parseIdent(expected string) string {
	return p.expect(tokIdent, expected).text
}

// parseLabelList parses ( [name {, name}] ).
func (p *parser) parseLabelList() []string {
	p.expect(tokLParen, `"("`)
	var names []string
	if p.peek().kind == tokRParen {
		p.next()
		return nil
	}
	for {
		names = append(names, p.parseIdent("a label name"))
		if p.next().kind == tokRParen {
			return names
		}
		if p.last.kind != tokComma {
			p.unexpected(p.last, `"," or ")"`)
		}
	}
}

func (p *parser) parseGrouping() *Grouping {
	g := &Grouping{Without: p.next().word == kwWithout}
	g.Labels = p.parseLabelList()
	return g
}

func (p *parser) peekGrouping() bool {
	t := p.peek()
	return p.isKeyword(t, kwBy) || p.isKeyword(t, kwWithout)
}
