package logql

import (
	"fmt"
	"strings"
	"testing"
)

func TestInspectVisitsEveryNodeInOrder(t *testing.T) {
	q := `variants(sum by (a) (rate({s="1"} |= "x" | logfmt | a="1" or b>2 [1m])), label_replace(sum_over_time({s="2"} | unwrap v | v > 1 [1m]), "a", "b", "c", "d") / on (a) (vector(1) + -1)) of ({s="3"}[1m])`
	e, err := ParseExpr(q)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	Inspect(e, func(n Node) bool {
		kinds = append(kinds, strings.TrimPrefix(fmt.Sprintf("%T", n), "*logql."))
		return true
	})
	want := "Variants VectorAggregation RangeAggregation LogRange LogExpr Selector LineFilter LogfmtParser LabelFilterStage BinaryLabelFilter MatcherFilter CompareFilter " +
		"BinaryExpr LabelReplace RangeAggregation LogRange LogExpr Selector Unwrap CompareFilter ParenExpr BinaryExpr VectorExpr Literal " +
		"LogRange LogExpr Selector"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("visited\n%s\nwant\n%s", got, want)
	}
	var sels []string
	for _, s := range Selectors(e) {
		sels = append(sels, s.String())
	}
	if got := strings.Join(sels, " "); got != `{s="1"} {s="2"} {s="3"}` {
		t.Errorf("Selectors: %s", got)
	}
	// Returning false skips the children.
	n := 0
	Inspect(e, func(Node) bool { n++; return false })
	if n != 1 {
		t.Errorf("visited %d nodes after false", n)
	}
}

// The depth is that of the tree as Loki builds it: stages, and the
// alternatives of a line filter, nest.
func TestHeight(t *testing.T) {
	for q, want := range map[string]int{
		`{a="b"}`:                           2,
		`{a="b"} |= "x"`:                    3,
		`{a="b"} |= "x" |= "y" |= "z"`:      5,
		`{a="b"} |= "x" or "y" or "z"`:      5,
		`rate({a="b"}[1m])`:                 4,
		`sum(rate({a="b"}[1m])) + 1`:        6,
		`{a="b"} | x="1" or y="2" or z="3"`: 6,
	} {
		e, err := ParseExpr(q)
		if err != nil {
			t.Fatal(err)
		}
		if got := height(e); got != want {
			t.Errorf("height(%s) = %d, want %d", q, got, want)
		}
	}
}
