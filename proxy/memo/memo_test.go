package memo_test

import (
	"fmt"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/tollgate-dev/tollgate/promenforce"
	"github.com/tollgate-dev/tollgate/proxy/memo"
)

// counting counts the calls that reach the real enforcer.
type counting struct {
	*promenforce.Enforcer
	calls int
}

func (c *counting) Query(q string, m *labels.Matcher) (string, error) {
	c.calls++
	return c.Enforcer.Query(q, m)
}

func matcher(t *testing.T, typ labels.MatchType, v string) *labels.Matcher {
	m, err := labels.NewMatcher(typ, "namespace", v)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The same query for two scopes is confined for each: a memo entry never
// answers for another matcher, not even one of the same value and another
// type.
func TestMemoKeepsScopesApart(t *testing.T) {
	inner := &counting{Enforcer: promenforce.New()}
	e := memo.New(inner)
	q := `sum(rate(http_requests_total[5m]))`
	a := matcher(t, labels.MatchEqual, "team-a")
	b := matcher(t, labels.MatchEqual, "team-b")
	re := matcher(t, labels.MatchRegexp, "team-a")
	outs := map[string]string{}
	for range 3 {
		for name, m := range map[string]*labels.Matcher{"a": a, "b": b, "re": re} {
			got, err := e.Query(q, m)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := promenforce.New().Query(q, m)
			if got != want {
				t.Fatalf("%s: %q, want %q", name, got, want)
			}
			outs[name] = got
		}
	}
	if len(map[string]bool{outs["a"]: true, outs["b"]: true, outs["re"]: true}) != 3 {
		t.Fatalf("scopes share a rewrite: %v", outs)
	}
	if inner.calls != 3 {
		t.Errorf("%d calls reached the enforcer, want 3 (one per scope)", inner.calls)
	}
}

// Refusals are not kept: each is refused again, with the enforcer's own
// error.
func TestMemoKeepsNoErrors(t *testing.T) {
	inner := &counting{Enforcer: promenforce.New()}
	e := memo.New(inner)
	m := matcher(t, labels.MatchEqual, "team-a")
	for i := range 2 {
		if _, err := e.Query(`sum(`, m); err == nil {
			t.Fatalf("call %d: a broken query was accepted", i)
		}
	}
	if inner.calls != 2 {
		t.Errorf("%d calls, want 2", inner.calls)
	}
}

// The memo is bounded: many distinct queries keep it at its size and
// every answer stays right.
func TestMemoIsBounded(t *testing.T) {
	inner := &counting{Enforcer: promenforce.New()}
	e := memo.New(inner)
	m := matcher(t, labels.MatchEqual, "team-a")
	for i := range 5000 {
		q := fmt.Sprintf("up{job=%q}", fmt.Sprint(i))
		got, err := e.Query(q, m)
		want, _ := promenforce.New().Query(q, m)
		if err != nil || got != want {
			t.Fatalf("%q: %q %v, want %q", q, got, err, want)
		}
	}
	// The first query was evicted: it reaches the enforcer again.
	before := inner.calls
	_, _ = e.Query(`up{job="0"}`, m)
	if inner.calls != before+1 {
		t.Errorf("the oldest entry was still kept after 5000 others")
	}
}
