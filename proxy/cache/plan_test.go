package cache

import (
	"reflect"
	"testing"
)

// The intervals of a plan hold exactly the request's grid points up to
// the freshness cutoff, each in the interval of its absolute time, and
// the fresh tail is fetched after them; the expected spans are worked out
// by hand (ms; split 1000, step 300, start 250 off the grid of 0).
func TestPlanSplitsOnTheStepGrid(t *testing.T) {
	q := Range{Start: 250, End: 3250, Step: 300}
	p := newPlan(q, 2600, 1000)
	// Grid: 250 550 850 | 1150 1450 1750 | 2050 2350 (2650 ... fresh)
	want := []interval{{0, span{250, 850}}, {1, span{1150, 1750}}, {2, span{2050, 2350}}}
	if p == nil || !reflect.DeepEqual(p.intervals, want) || p.cacheEnd != 2350 {
		t.Fatalf("plan %+v, want intervals %v and cacheEnd 2350", p, want)
	}
	// Interval 1 cached from 1150 to 1450, interval 0 cached but not
	// touching (an older extent elsewhere is replaced): the gaps are 250-850,
	// then 1750 to the end, merged with interval 2 and the tail.
	exts := []*extent{{start: -5000, end: -4000}, {start: 1150, end: 1450}, nil}
	got := p.gaps(exts)
	if wantGaps := []span{{250, 850}, {1750, 3250}}; !reflect.DeepEqual(got, wantGaps) {
		t.Errorf("gaps %v, want %v", got, wantGaps)
	}
	if exts[0] != nil {
		t.Error("an extent that does not touch its interval was kept")
	}
	// Nothing older than the cutoff: nothing to plan.
	if p := newPlan(Range{Start: 3000, End: 4000, Step: 60}, 2999, 1000); p != nil {
		t.Errorf("a wholly fresh range was planned: %+v", p)
	}
	// A step longer than the interval leaves some intervals without points.
	p = newPlan(Range{Start: 0, End: 5000, Step: 2500}, 10000, 1000)
	if want := []interval{{0, span{0, 0}}, {2, span{2500, 2500}}, {5, span{5000, 5000}}}; !reflect.DeepEqual(p.intervals, want) {
		t.Errorf("intervals %v, want %v", p.intervals, want)
	}
}

// More than maxGaps missing stretches cost one request for their span.
func TestCoalesceBoundsRequests(t *testing.T) {
	gs := []span{{0, 10}, {20, 30}, {40, 50}, {60, 70}}
	if got := coalesce(gs, 5); !reflect.DeepEqual(got, []span{{0, 70}}) {
		t.Errorf("coalesce: %v", got)
	}
	if got := coalesce([]span{{0, 10}, {15, 20}}, 5); !reflect.DeepEqual(got, []span{{0, 20}}) {
		t.Errorf("adjacent stretches: %v", got)
	}
}
