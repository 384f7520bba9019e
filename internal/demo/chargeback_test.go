package demo_test

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/cost/report"
)

// The demo's hourly node spend, from the embedded catalogue: two
// m6i.2xlarge at $0.428 and the g4dn.xlarge at $0.587, 15% off; two spot
// c6i.xlarge at $0.072.
const demoNodesPerHour = (2*0.428+0.587)*0.85 + 2*0.072

func init() {
	checks["payments-allocation"] = func(t *testing.T, data json.RawMessage) {
		sets := allocationSets(t, data)
		var names []string
		for name, a := range sets[0] {
			names = append(names, name)
			if a.TotalCost <= 0 || a.SharedCost <= 0 || a.CPUCostIdle <= 0 {
				t.Errorf("payments-allocation: %s has no own, shared or idle cost: %+v", name, a)
			}
		}
		slices.Sort(names)
		if want := []string{"team-payments-prod", "team-payments-staging"}; !slices.Equal(names, want) {
			t.Errorf("payments-allocation: %v, want %v", names, want)
		}
	}
	checks["admin-cost-centers"] = func(t *testing.T, data json.RawMessage) {
		sets := allocationSets(t, data)
		var names []string
		var sum float64
		for name, a := range sets[0] {
			names = append(names, name)
			sum += a.TotalCost
		}
		slices.Sort(names)
		if want := []string{"CC-4521", "CC-4522", "CC-7310", "__idle__", "__unallocated__"}; !slices.Equal(names, want) {
			t.Errorf("admin-cost-centers: %v, want %v", names, want)
		}
		// Idle included, nothing shared: the week adds up to the nodes.
		idle := sets[0]["__idle__"]
		hours := idle.End.Sub(idle.Start).Hours()
		if want := demoNodesPerHour * hours; math.Abs(sum-want) > 1e-6*want {
			t.Errorf("admin-cost-centers: %v over %v hours, want %v", sum, hours, want)
		}
		if gpu := sets[0]["CC-7310"].GPUCost; gpu <= 0 {
			t.Errorf("admin-cost-centers: search's indexer requests the GPU, but CC-7310's GPU cost is %v", gpu)
		}
	}
	checks["payments-share-other-namespace"] = nil
}

func allocationSets(t *testing.T, data json.RawMessage) []map[string]report.Allocation {
	t.Helper()
	var sets []map[string]report.Allocation
	if err := json.Unmarshal(data, &sets); err != nil || len(sets) != 1 {
		t.Fatalf("not one set of allocations: %v\n%.300s", err, data)
	}
	return sets
}

// Each printed chargeback address serves its user's page, whatever
// identity the browser claims.
func TestChargebackAddresses(t *testing.T) {
	d := startDemo(t)
	urls := d.Chargeback().URLs()
	if len(urls) != 2 {
		t.Fatalf("chargeback URLs %v", urls)
	}
	var banner strings.Builder
	for _, s := range d.Sections() {
		banner.WriteString(strings.Join(s.Lines, "\n"))
	}
	for i, c := range []struct{ own, other, who string }{{"CC-4521", "CC-4522", "tenant payments"}, {"CC-4522", "CC-4521", "tenant checkout"}} {
		u := urls[i] + "/ui/chargeback"
		if !strings.Contains(banner.String(), u) {
			t.Errorf("the banner does not print %s", u)
		}
		req, _ := http.NewRequest(http.MethodGet, u+"?window=7d&aggregate=cost_center", nil)
		req.Header.Set("X-Forwarded-Groups", "platform-sre") // ignored: the proxy sets the identity
		client := &http.Client{Timeout: time.Minute}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := string(body)
		if resp.StatusCode != 200 || !strings.Contains(page, c.who) || !strings.Contains(page, `data-name="`+c.own+`"`) || strings.Contains(page, c.other) {
			t.Errorf("%s: %d, want the page of %s with %s and without %s:\n%.2000s", u, resp.StatusCode, c.who, c.own, c.other, page)
		}
	}
}
