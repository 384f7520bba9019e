package logql

import (
	"errors"
	"strings"
	"testing"
	"text/scanner"
	"unicode"
	"unicode/utf8"
)

// lokiLexCost replays what Loki v3.7.8's lexer does with text/scanner in
// Go mode (which Loki copies), plus Loki's own # comments and raw [ ]
// ranges, and returns the work of its isFunction: the square of what
// follows every function name that is not a call, in runes.
func lokiLexCost(q string) int64 {
	var sc scanner.Scanner
	sc.Init(strings.NewReader(q))
	sc.Error = func(*scanner.Scanner, string) {}
	var cost int64
	for {
		switch r := sc.Scan(); r {
		case scanner.EOF:
			return cost
		case '#':
			for next := sc.Peek(); next != '\n' && next != scanner.EOF; next = sc.Next() {
			}
		case '[':
			for next := sc.Next(); next != ']' && next != scanner.EOF; next = sc.Next() {
			}
		case scanner.Ident:
			end := sc.Position.Offset + len(sc.TokenText())
			if isFunctionName(strings.ToLower(sc.TokenText())) && !lokiIsFunction(q[end:]) {
				rest := int64(utf8.RuneCountInString(q[end:]))
				cost += rest * rest
			}
		}
	}
}

// lokiIsFunction is Loki's isFunction on the rest of the query: true when
// it stops early.
func lokiIsFunction(rest string) bool {
	rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
	var sb strings.Builder
	for _, r := range rest {
		sb.WriteRune(r)
		switch strings.ToLower(sb.String()) {
		case "(", "by", "without":
			return true
		}
	}
	return false
}

// parseCost parses q and returns the cost Tollgate's lexer computed for
// Loki's, and whether q parses (but for that cost).
func parseCost(q string) (int64, bool) {
	var cost int64
	err := Parser{}.run(q, func(p *parser) {
		defer func() { cost = p.lex.lokiCost }()
		p.parseExpr(0)
		p.expectEOF()
	})
	return cost, err == nil || errors.Is(err, ErrLokiLexCost)
}

// FuzzLokiLexCost checks that, for every query Tollgate parses, the cost
// it computes for Loki's lexer is never below what a replay of that lexer
// finds. (The replay is quadratic itself, hence the short inputs.)
func FuzzLokiLexCost(f *testing.F) {
	for _, s := range []string{
		`{a="b"} | rate="1"`, `/* " */ {a="b"} | count="2"`, "// \"\n{a=\"b\"} | sum=\"1\"",
		"{a=\"b\"} | top\u212a=\"1\"", `sum by (a) (rate({a="b"}[1m]))`, `{a="b"} # rate` + "\n| max=\"1\"",
		`{a="b"} |= "x" | count < 5`, `sum bY (a) (rate({a="b"}[1m]))`, `{a="b"} | unwrap bytes [1m]`,
		`sum by (count, rate) (count_over_time({a="b"} | keep bytes [1m]))`, `{a="b"} | ip="1" |= ip("x")`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if len(q) > 1000 {
			return
		}
		cost, ok := parseCost(q)
		if !ok {
			return
		}
		if want := lokiLexCost(q); cost < want {
			t.Fatalf("Tollgate charges %d for %q, Loki's lexer does %d", cost, q, want)
		}
	})
}

func TestLokiLexCostIsCharged(t *testing.T) {
	short, _ := parseCost(`{a="b"} | count="1"` + strings.Repeat(" ", 100))
	long, _ := parseCost(`{a="b"} | count="1"` + strings.Repeat(" ", 200))
	if short < 100*100 || long < 3*short {
		t.Errorf("cost %d then %d: not the square of what follows", short, long)
	}
	if c, _ := parseCost(`sum by (level) (count_over_time({a="b"} | logfmt [5m]))`); c != 0 {
		t.Errorf("calls cost %d", c)
	}
}
