package ui

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/cost"
	"github.com/tollgate-dev/tollgate/cost/allocation"
	"github.com/tollgate-dev/tollgate/tenancy"
)

func TestAssets(t *testing.T) {
	for p, want := range map[string]bool{
		Base + "/chart.umd.min.js": true, Base + "/chargeback.js": true, Base + "/style.css": true, Base + "/chart.js-LICENSE.md": true,
		Base + "/": false, Base + "/../ui.go": false, Base + "/assets/style.css": false, "/ui/other/style.css": false,
	} {
		if got := IsAsset(p); got != want {
			t.Errorf("IsAsset(%q) = %v", p, got)
		}
	}
	p := New(Options{})
	rec := httptest.NewRecorder()
	p.ServeAsset(rec, httptest.NewRequest(http.MethodGet, Base+"/chart.umd.min.js", nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/javascript; charset=utf-8" || !strings.Contains(rec.Body.String(), "Chart.js v4.5.1") {
		t.Errorf("chart.js: %d %s", rec.Code, rec.Header())
	}
}

func TestPage(t *testing.T) {
	now := time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC)
	var asked cost.Query
	p := New(Options{Now: func() time.Time { return now }, Currency: "EUR", Compute: func(_ context.Context, q cost.Query, a tenancy.Access) (*cost.Result, error) {
		asked = q
		var sets []allocation.Set
		for s := q.Start; s.Before(q.End); s = s.Add(q.Step) {
			sets = append(sets, allocation.Set{Start: s, End: s.Add(q.Step), Allocations: []*allocation.Allocation{
				{Name: "CC-1", Start: s, End: s.Add(q.Step), CPUCost: 1, CPURequestCoreHours: 2, CPUUsageCoreHours: 1},
				{Name: "<b>CC-2</b>", Start: s, End: s.Add(q.Step), RAMCost: 2},
			}})
		}
		return &cost.Result{Query: q, Sets: sets, Currency: "EUR"}, nil
	}})
	rec := httptest.NewRecorder()
	p.Serve(rec, httptest.NewRequest(http.MethodGet, Base+"?window=7d&aggregate=team", nil), tenancy.Access{Admin: true})
	page := rec.Body.String()
	if rec.Code != 200 || asked.Step != 24*time.Hour || !asked.ShareIdle || asked.ShareNamespaces == nil || asked.Aggregate[0] != "team" {
		t.Fatalf("%d, query %+v", rec.Code, asked)
	}
	for _, want := range []string{`data-name="CC-1"`, "&lt;b&gt;CC-2&lt;/b&gt;", `id="download-csv" href="/allocation?`, "format=focus", "Total <strong id=\"total\">21.00</strong>", "script-src 'self'"} {
		if !strings.Contains(page+rec.Header().Get("Content-Security-Policy"), want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(page, "<b>CC-2") {
		t.Error("a group name reached the page unescaped")
	}
	// Unticked boxes after a submit mean off.
	p.Serve(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, Base+"?window=24h&submitted=1", nil), tenancy.Access{Admin: true})
	if asked.ShareIdle || asked.ShareNamespaces != nil || !asked.IncludeIdle || asked.Step != time.Hour {
		t.Errorf("unticked: %+v", asked)
	}
	rec = httptest.NewRecorder()
	p.Serve(rec, httptest.NewRequest(http.MethodGet, Base+"?window=<script>", nil), tenancy.Access{Admin: true})
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), `parameter &#34;window&#34;`) || strings.Contains(rec.Body.String(), "<script>\"") {
		t.Errorf("bad window: %d\n%s", rec.Code, rec.Body.String())
	}
}

// A first visit (no parameters) offers the pickers' own choices, with no
// blank entry, and selects the defaults.
func TestFirstVisitPickers(t *testing.T) {
	now := time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC)
	p := New(Options{Now: func() time.Time { return now }, Compute: func(_ context.Context, q cost.Query, _ tenancy.Access) (*cost.Result, error) {
		return &cost.Result{Query: q}, nil
	}})
	rec := httptest.NewRecorder()
	p.Serve(rec, httptest.NewRequest(http.MethodGet, Base, nil), tenancy.Access{Admin: true})
	page := rec.Body.String()
	if strings.Contains(page, `<option value="">`) || strings.Contains(page, `<option value="" selected>`) {
		t.Errorf("a picker offers an empty choice:\n%s", page)
	}
	for _, want := range []string{`<option value="cost_center" selected>`, `<option value="7d" selected>`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}
