package logql

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/querybounds"
)

// shape prints a tree with every binary node in parentheses, to show how
// it was grouped.
func shape(n Node) string {
	switch n := n.(type) {
	case *BinaryLabelFilter:
		op := n.Op
		if op == "" || op == kwAnd {
			op = ","
		}
		return "(" + shape(n.LHS) + " " + op + " " + shape(n.RHS) + ")"
	case *ParenLabelFilter:
		return shape(n.Filter)
	case *LabelFilterStage:
		return shape(n.Filter)
	case *BinaryExpr:
		return "(" + shape(n.LHS) + " " + n.Op + " " + shape(n.RHS) + ")"
	case *ParenExpr:
		return shape(n.Expr)
	case *VectorExpr:
		return n.Value.Text
	}
	return n.String()
}

// Label filters group as Loki v3.7 groups them. The expected groupings are
// Loki's own, from its format_query (which prints "and" as ",").
func TestLabelFilterGrouping(t *testing.T) {
	for in, want := range map[string]string{
		`x="1" or y="2", z="3"`:            `(x="1" or (y="2" , z="3"))`,
		`x="1", y="2" or z="3"`:            `(x="1" , (y="2" or z="3"))`,
		`x="1" y="2" or z="3"`:             `(x="1" , (y="2" or z="3"))`,
		`x="1" or y="2" z="3"`:             `(x="1" or (y="2" , z="3"))`,
		`x="1" and y="2" or z="3"`:         `((x="1" , y="2") or z="3")`,
		`x="1" or y="2" and z="3"`:         `(x="1" or (y="2" , z="3"))`,
		`x="1" and y="2" , z="3" or w="4"`: `(x="1" , (y="2" , (z="3" or w="4")))`,
		`(x="1" or y="2") z="3"`:           `((x="1" or y="2") , z="3")`,
		`x="1" or y="2" or z="3"`:          `((x="1" or y="2") or z="3")`,
		`x="1" and y="2" and z="3"`:        `((x="1" , y="2") , z="3")`,
	} {
		e, err := ParseExpr(`{a="b"} | ` + in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := shape(e.(*LogExpr).Pipeline[0]); got != want {
			t.Errorf("%s: grouped as %s, Loki groups it as %s", in, got, want)
		}
	}
}

func TestBinaryPrecedence(t *testing.T) {
	for in, want := range map[string]string{
		`vector(1) + vector(2) * vector(3)`:             `(1 + (2 * 3))`,
		`vector(1) - vector(2) - vector(3)`:             `((1 - 2) - 3)`,
		`vector(1) ^ vector(2) ^ vector(3)`:             `(1 ^ (2 ^ 3))`,
		`vector(1) or vector(2) and vector(3)`:          `(1 or (2 and 3))`,
		`vector(1) and vector(2) or vector(3)`:          `((1 and 2) or 3)`,
		`vector(1) unless vector(2) and vector(3)`:      `((1 unless 2) and 3)`,
		`vector(1) > vector(2) + vector(3)`:             `(1 > (2 + 3))`,
		`vector(1) == vector(2) != vector(3)`:           `((1 == 2) != 3)`,
		`vector(1) * vector(2) % vector(3) ^ vector(4)`: `((1 * 2) % (3 ^ 4))`,
		`(vector(1) + vector(2)) * vector(3)`:           `((1 + 2) * 3)`,
	} {
		e, err := ParseExpr(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := shape(e); got != want {
			t.Errorf("%s: grouped as %s, want %s", in, got, want)
		}
	}
}

// Loki's printer, which Tollgate used to print every query with, turned
// 2.5KiB into 2.6kB, 0.0000001 into 0.000000 and 1d into 24h0m0s.
func TestPrinterKeepsTokensAsWritten(t *testing.T) {
	for _, q := range []string{
		`{app="api"} | logfmt | size >= 2.5KiB`,
		`vector(0.0000001)`,
		`count_over_time({app="api"} | logfmt | took > 1.5s and took < 1h30m [1d] offset -90s)`,
		"{app=`raw\\d`} |= \"tab\\t\\u00e9\" | line_format `{{.msg}}`",
		`quantile_over_time(0.990, {app="api"} | unwrap latency [5m]) > 1e3`,
		`sum(rate({app="api"}[5m])) * (1 / 3) - -1`,
		`{app="api"} | logfmt | x > +5 or x < - 0 or x == 1E-3`,
	} {
		e, err := ParseExpr(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got := e.String(); got != q {
			t.Errorf("ParseExpr(%s).String() = %s", q, got)
		}
	}
}

func TestParseErrorsSayWhere(t *testing.T) {
	_, err := ParseExpr("{app=\"api\"}\n  | json\n  | level=")
	var pe *Error
	if !errors.As(err, &pe) || !errors.Is(err, ErrSyntax) || pe.Line != 3 || pe.Col != 11 || !strings.Contains(err.Error(), "line 3, col 11") {
		t.Fatalf("got %v, want a parse error at line 3, col 11, the end", err)
	}
	if _, err := ParseExpr(`sum_over_time({app="api"}[5m])`); err == nil || !strings.Contains(err.Error(), "unwrap") {
		t.Fatalf("got %v, want the reason", err)
	}
}

// Every way of nesting is refused at the depth bound, while it is being
// parsed: a deeper input costs no more recursion than the bound.
func TestEveryNestingIsBounded(t *testing.T) {
	l := querybounds.Limits{MaxBytes: 8 << 20, MaxDepth: 64}
	n := 200_000
	for name, q := range map[string]string{
		"parentheses":           strings.Repeat("(", n) + "1" + strings.Repeat(")", n),
		"aggregations":          strings.Repeat("sum(", n) + "vector(1)" + strings.Repeat(")", n),
		"label_replace":         strings.Repeat("label_replace(", n) + `vector(1)` + strings.Repeat(`, "a", "b", "c", "d")`, n),
		"right-assoc ^":         strings.Repeat("vector(1) ^ ", n) + "vector(1)",
		"left-assoc +":          strings.Repeat("vector(1) + ", n) + "vector(1)",
		"label filter parens":   `{a="b"} | ` + strings.Repeat("(", n) + `x="1"` + strings.Repeat(")", n),
		"label filters by side": `{a="b"} | ` + strings.Repeat(`x="1" `, n),
		"label filters with or": `{a="b"} | ` + strings.Repeat(`x="1" or `, n) + `x="1"`,
		"log range parens":      "rate(" + strings.Repeat("(", n) + `{a="b"}[1m]` + strings.Repeat(")", n) + ")",
		"line filters":          `{a="b"}` + strings.Repeat(` |= "x"`, n),
		"or alternatives":       `{a="b"} |= "x"` + strings.Repeat(` or "x"`, n),
		"stages":                `{a="b"}` + strings.Repeat(` | json`, n),
		"unwrap filters":        `sum_over_time({a="b"} | unwrap x` + strings.Repeat(` | x > 1`, n) + ` [1m])`,
	} {
		_, err := Parser{Limits: l}.ParseExpr(q)
		var ex *querybounds.Exceeded
		if !errors.As(err, &ex) || (ex.Key != querybounds.KeyMaxDepth && ex.Key != querybounds.KeyMaxNodes) {
			t.Errorf("%s: %v, want the depth or node bound", name, err)
		}
	}
	// At the bound, a query passes.
	ok := strings.Repeat("sum(", 60) + "vector(1)" + strings.Repeat(")", 60)
	if _, err := (Parser{Limits: l}).ParseExpr(ok); err != nil {
		t.Errorf("60 nested sums, bound 64: %v", err)
	}
}

// allocated returns the bytes allocated while f runs.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// longQuery returns a realistic query of about n bytes: a sum of ratios
// over log queries with pipelines.
func longQuery(n int) string {
	term := `sum by (level) (rate({app="api", env=~"prod|staging"} |= "error" != "timeout" | logfmt --strict | level=~"warn|error" and latency > 1.5s or size >= 10KiB | line_format "{{.msg}}" [5m])) / sum(count_over_time({app="api"} | json status="response.status" [5m] offset 1h))`
	var b strings.Builder
	for b.Len() < n {
		if b.Len() > 0 {
			b.WriteString(" + ")
		}
		b.WriteString(term)
	}
	return b.String()
}

// unbounded is what the linearity checks parse with: every bound raised
// out of the way.
var unbounded = querybounds.Limits{MaxBytes: 1 << 30, MaxDepth: 1 << 30, MaxNodes: 1 << 30}

// Parsing is linear in the query's length: a 1 MB query allocates, per
// byte, no more than twice what a 10 KB query does (allocation tracks the
// work: the parser allocates per token and per node).
func TestParseIsLinear(t *testing.T) {
	small, large := longQuery(10<<10), longQuery(1<<20)
	parse := func(q string) func() {
		return func() {
			if _, err := (Parser{Limits: unbounded}).ParseExpr(q); err != nil {
				t.Fatal(err)
			}
		}
	}
	perByteSmall := float64(allocated(parse(small))) / float64(len(small))
	perByteLarge := float64(allocated(parse(large))) / float64(len(large))
	t.Logf("bytes allocated per byte of query: %.1f at %d bytes, %.1f at %d bytes", perByteSmall, len(small), perByteLarge, len(large))
	if perByteLarge > 2*perByteSmall {
		t.Errorf("a 1 MB query allocates %.1f bytes per byte, a 10 KB one %.1f: not linear", perByteLarge, perByteSmall)
	}
}
