package cost

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/cost/allocation"
)

// Wednesday 2026-11-18 15:37:12 UTC.
var now = time.Date(2026, 11, 18, 15, 37, 12, 0, time.UTC)

func TestParseWindow(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }
	for in, want := range map[string][2]time.Time{
		"today":     {day(18), now},
		"yesterday": {day(17), day(18)},
		"week":      {day(15), now}, // since Sunday
		"lastweek":  {day(8), day(15)},
		"month":     {day(1), now},
		"lastmonth": {time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), day(1)},
		"7d":        {day(12), now}, // today and the six days before
		"2w":        {day(5), now},
		"24h":       {now.Add(-24 * time.Hour), now},
		"90m":       {now.Add(-90 * time.Minute), now},
		"2026-11-01T00:00:00Z,2026-11-08T00:00:00Z": {day(1), day(8)},
		"1793491200,1794096000":                     {day(1), day(8)},
		"2026-11-17T00:00:00Z,2026-12-01T00:00:00Z": {day(17), now}, // the end is at most now
	} {
		s, e, err := ParseWindow(in, now)
		if err != nil || !s.Equal(want[0]) || !e.Equal(want[1]) {
			t.Errorf("ParseWindow(%q) = %s, %s, %v; want %s, %s", in, s, e, err, want[0], want[1])
		}
	}
	for _, bad := range []string{"fortnight", "0d", "2026-11-08T00:00:00Z,2026-11-01T00:00:00Z", "a,b", "2020-01-01T00:00:00Z,2026-01-01T00:00:00Z"} {
		if _, _, err := ParseWindow(bad, now); err == nil {
			t.Errorf("ParseWindow(%q) succeeded", bad)
		}
	}
}

func TestParseQuery(t *testing.T) {
	q, err := ParseQuery(url.Values{"window": {"7d"}, "aggregate": {"namespace,label:app"}, "shareIdle": {"true"}, "shareNamespaces": {"true"},
		"step": {"1d"}, "filter": {`namespace:"a","b"+label[team]!:"x"`}}, now)
	if err != nil {
		t.Fatal(err)
	}
	// 7 days from midnight six days ago, in whole hours up to now.
	if q.Resolution != time.Hour || !q.Start.Equal(time.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC)) || !q.End.Equal(time.Date(2026, 11, 18, 15, 0, 0, 0, time.UTC)) ||
		q.Step != 24*time.Hour || !q.ShareIdle || len(q.ShareNamespaces) != 1 || q.ShareSplit != "weighted" || len(q.Filter) != 2 {
		t.Errorf("%+v", q)
	}
	meta := allocation.Metadata{Namespaces: map[string]allocation.NamespaceInfo{"a": {Labels: map[string]string{"team": "x"}}, "b": {}}}
	for ns, want := range map[string]bool{"a": false, "b": true, "c": false} {
		if got := q.Filter.Match(meta, allocation.Container{Namespace: ns}); got != want {
			t.Errorf("filter on %s: %v, want %v", ns, got, want)
		}
	}
	q, err = ParseQuery(url.Values{"window": {"24h"}}, now)
	if err != nil || q.Resolution != 5*time.Minute || q.End.Sub(q.Start) != 24*time.Hour {
		t.Errorf("24h: %+v %v", q, err)
	}
	for params, want := range map[string]string{
		"window=7d&resolution=17m":      `"resolution"`,
		"window=7d&step=90m":            `"step"`,
		"window=7d&shareNamespaces=A_B": `"shareNamespaces"`,
		"window=7d&filter=namespace:a":  `"filter"`,
		"window=7d&accumulate=maybe":    `"accumulate"`,
	} {
		v, _ := url.ParseQuery(params)
		if _, err := ParseQuery(v, now); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error naming %s", params, err, want)
		}
	}
}

// FOCUS rows belong to one billing month: sets spanning two are refused,
// naming the parameter to change.
func TestCheckFOCUS(t *testing.T) {
	for _, c := range []struct {
		v     url.Values
		param string // "" when accepted
	}{
		{url.Values{"window": {"lastmonth"}}, ""},
		{url.Values{"window": {"month"}, "step": {"1d"}}, ""},
		{url.Values{"window": {"2026-10-28T00:00:00Z,2026-11-04T00:00:00Z"}, "step": {"1d"}}, ""},
		{url.Values{"window": {"2026-10-28T00:00:00Z,2026-11-04T00:00:00Z"}}, "window"},
		{url.Values{"window": {"2026-10-28T00:00:00Z,2026-11-04T00:00:00Z"}, "step": {"1d"}, "accumulate": {"true"}}, "window"},
		{url.Values{"window": {"2026-10-28T12:00:00Z,2026-11-04T12:00:00Z"}, "step": {"1d"}}, "step"},
		{url.Values{"window": {"2026-10-28T00:00:00Z,2026-11-04T00:00:00Z"}, "step": {"2d"}}, ""}, // 28-30, 30-1: the second ends at midnight
		{url.Values{"window": {"2026-10-27T00:00:00Z,2026-11-04T00:00:00Z"}, "step": {"3d"}}, "step"},
	} {
		q, err := ParseQuery(c.v, now)
		if err != nil {
			t.Fatalf("%v: %v", c.v, err)
		}
		err = q.CheckFOCUS()
		var pe *ParamError
		switch {
		case c.param == "" && err != nil:
			t.Errorf("%v refused: %v", c.v, err)
		case c.param != "" && (!errors.As(err, &pe) || pe.Param != c.param || !strings.Contains(err.Error(), "billing month")):
			t.Errorf("%v: %v, want a refusal naming %s", c.v, err, c.param)
		}
	}
}
