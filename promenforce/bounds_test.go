package promenforce

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/tollgate-dev/tollgate/internal/testkit/cputime"
	"github.com/tollgate-dev/tollgate/querybounds"
)

var boundsTenant = labels.MustNewMatcher(labels.MatchEqual, "namespace", "team-a")

func nested(fn string, n int) string {
	return strings.Repeat(fn+"(", n) + "up" + strings.Repeat(")", n)
}

func chain(op string, n int) string {
	return strings.Repeat("up"+op, n) + "up"
}

// wantExceeded checks that err is a 400-class refusal naming key.
func wantExceeded(t *testing.T, err error, key string) {
	t.Helper()
	var ex *querybounds.Exceeded
	if !errors.Is(err, ErrInvalid) || !errors.As(err, &ex) || ex.Key != key {
		t.Fatalf("got %v, want ErrInvalid naming %s", err, key)
	}
	if !strings.Contains(err.Error(), key) {
		t.Fatalf("the message %q does not name %s", err, key)
	}
}

// The red team's crash: ln() nested 460,000 deep, 1.8 MB, under the 4 MiB
// body limit. Before the bounds, Call.String recursed once per level and
// overflowed Go's 1 GB stack, a fatal error no handler can recover, so
// this test killed the whole test binary.
func TestDeepNestingIsRefusedBeforeParsing(t *testing.T) {
	q := nested("ln", 460_000)
	wantExceeded(t, New().CheckBounds(q), querybounds.KeyMaxBytes)
	_, err := New().Query(q, boundsTenant)
	wantExceeded(t, err, querybounds.KeyMaxBytes)

	// With the size bound raised as far as the body limit, the depth
	// estimate refuses it, without the parser.
	big := NewWithLimits(querybounds.Limits{MaxBytes: 4 << 20})
	before := cputime.Process(t)
	_, err = big.Query(q, boundsTenant)
	wantExceeded(t, err, querybounds.KeyMaxDepth)
	if spent := cputime.Process(t) - before; spent > 2*time.Second {
		t.Fatalf("refusing took %v of CPU; the estimate is one pass over the tokens", spent)
	}
}

// up+up+… cost 2.9 s of CPU at 50 KB and 41 s at 200 KB: the parser is
// quadratic in an operator chain. It is refused by the estimate, before
// the parser runs.
func TestOperatorChainsAreRefusedCheaply(t *testing.T) {
	for _, op := range []string{"+", " or ", "^", " and on(a) "} {
		q := chain(op, 200_000/len("up"+op))
		e := NewWithLimits(querybounds.Limits{MaxBytes: 1 << 20})
		before := cputime.Process(t)
		_, err := e.Query(q, boundsTenant)
		wantExceeded(t, err, querybounds.KeyMaxDepth)
		if spent := cputime.Process(t) - before; spent > 2*time.Second {
			t.Fatalf("%q chain: refusing took %v of CPU", op, spent)
		}
	}
}

func TestQueriesWithinTheBoundsAreConfined(t *testing.T) {
	e := New()
	for name, q := range map[string]string{
		"a chain at the depth limit":    chain("+", querybounds.DefaultMaxDepth-1),
		"nesting well within it":        nested("abs", 100),
		"a long regex matcher":          `up{pod=~"` + strings.Repeat("a|", 30_000) + `b"}`,
		"many matchers in one selector": "up{" + strings.Repeat(`a!="1",`, 1000) + `b="2"}`,
	} {
		out, err := e.Query(q, boundsTenant)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !strings.Contains(out, `namespace="team-a"`) {
			t.Fatalf("%s: not confined: %.200s", name, out)
		}
	}
}

func TestExactBoundsAfterParsing(t *testing.T) {
	// One level over: the estimate and the exact depth agree on a chain.
	_, err := New().Query(chain("+", querybounds.DefaultMaxDepth), boundsTenant)
	wantExceeded(t, err, querybounds.KeyMaxDepth)

	// A balanced tree is shallow but large: 2^13 leaves.
	var tree func(int) string
	tree = func(d int) string {
		if d == 0 {
			return "up"
		}
		return "(" + tree(d-1) + "+" + tree(d-1) + ")"
	}
	q := tree(13)
	if est := EstimateDepth(q, 1000); est > querybounds.DefaultMaxDepth {
		t.Fatalf("the estimate of a 13-level tree is %d", est)
	}
	_, err = New().Query(q, boundsTenant)
	wantExceeded(t, err, querybounds.KeyMaxNodes)
	if _, err := NewWithLimits(querybounds.Limits{MaxNodes: 100_000}).Query(q, boundsTenant); err != nil {
		t.Fatalf("with max_query_nodes raised: %v", err)
	}

	// Selectors (match[]) are bounded in size too.
	_, err = New().Selector(`{a="`+strings.Repeat("x", 200_000)+`"}`, boundsTenant)
	wantExceeded(t, err, querybounds.KeyMaxBytes)
}

func TestEstimateIsAnUpperBound(t *testing.T) {
	e := NewWithLimits(querybounds.Limits{MaxDepth: 1 << 20, MaxNodes: 1 << 20})
	for _, q := range []string{
		`up`, `-up`, `- - -up`, `rate(x[5m])`, `rate(x[5m:1m])`, `max_over_time(rate(x[5m])[1h:1m])[2h:]`,
		`sum by (a) (rate(x[5m]))`, `sum(rate(x[5m])) by (a)`, `topk(5, x)`, `topk(scalar(sum(a)), b)`,
		`a / on(x) group_left(y) b`, `x offset (1h + step())`, `x @ start()`, `(((x)))`,
		`label_replace(up, "a", "b", "c", "d")`, `histogram_quantile(0.9, sum by (le) (rate(h_bucket[5m])))`,
		`abs(abs(abs(x))) + abs(x) * 2 ^ 3 ^ 4`, `x[5m:1m] offset 1h`, `1 + 2 * 3`, `vector(1) or up`,
		`count_values("v", x) > bool 1`, `a + fill(0) b`, `{"namespace"="v", "__name__"="up"}`,
	} {
		expr, err := e.Parse(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		depth, _ := measure(expr, e.limits)
		if est := EstimateDepth(q, 1<<20); est < depth {
			t.Errorf("%s: estimate %d < depth %d", q, est, depth)
		}
	}
}
