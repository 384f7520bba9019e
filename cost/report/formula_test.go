package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/cost"
	"github.com/tollgate-dev/tollgate/cost/allocation"
	"github.com/tollgate-dev/tollgate/cost/report"
	"github.com/tollgate-dev/tollgate/cost/source"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// Label values as an attacker would set them, and harmless ones; each
// labels one pod of one core at $0.5 per core-hour.
var appLabels = []string{`=HYPERLINK("http://x","y")`, `+SUM(1,2)`, `-2+3+cmd|' /C calc'!A0`, `@SUM(1)`, "\t=1+1", "\r=1+1", "shop", "a=b"}

type labelLoader struct{}

func (labelLoader) Load(_ context.Context, acc *allocation.Accumulator, w source.Window, _ func(int, int)) (source.Labels, error) {
	n := acc.AddNode(allocation.Node{Name: "node-a", Cluster: "c", CPUPrice: 0.5, RAMPrice: 0})
	pods := map[string]map[string]string{}
	var ids []int32
	for i, v := range appLabels {
		pod := "pod-" + strconv.Itoa(i)
		ids = append(ids, acc.AddContainer(allocation.Container{Cluster: "c", Node: "node-a", Namespace: "team-a", Pod: pod, Container: "c"}))
		pods["team-a/"+pod] = map[string]string{"app": v}
	}
	h := w.Resolution.Hours()
	for t := w.Start; t.Before(w.End); t = t.Add(w.Resolution) {
		var cs []allocation.ContainerSample
		for _, id := range ids {
			cs = append(cs, allocation.ContainerSample{Container: id, Hours: h, CPURequest: 1, CPUUsage: 0.5})
		}
		if err := acc.AddStep(t, h, []allocation.NodeSample{{Node: n, Hours: h, CPUCores: float64(len(ids)), RAMBytes: allocation.GiB}}, cs); err != nil {
			return source.Labels{}, err
		}
	}
	return source.Labels{Pods: pods}, nil
}

func download(t *testing.T, format string) [][]string {
	t.Helper()
	engine := cost.New(cost.Options{Source: labelLoader{}})
	q, err := cost.ParseQuery(url.Values{"window": {"2026-11-01T00:00:00Z,2026-11-02T00:00:00Z"}, "resolution": {"1h"}, "aggregate": {"label:app"}, "accumulate": {"true"}},
		time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	res, err := engine.Compute(context.Background(), q, tenancy.Access{Admin: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := report.Write(&b, format, res); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func column(t *testing.T, rows [][]string, name string) int {
	t.Helper()
	i := slices.Index(rows[0], name)
	if i < 0 {
		t.Fatalf("no column %s in %v", name, rows[0])
	}
	return i
}

// Finding 8: a label value that starts like a formula is written as text
// (a leading ') in the CSV and FOCUS downloads; other values and every
// figure are unchanged.
func TestFormulaCellsAreText(t *testing.T) {
	want := func(v string) string {
		if strings.ContainsAny(v[:1], "=+-@\t\r") {
			return "'" + v
		}
		return v
	}
	for _, c := range []struct {
		format      string
		nameColumns []string
		costColumn  string
	}{
		{"csv", []string{"name"}, "cpuCost"},
		{"focus", []string{"ResourceId", "ResourceName"}, "BilledCost"},
	} {
		rows := download(t, c.format)
		cost := column(t, rows, c.costColumn)
		for _, nc := range c.nameColumns {
			col := column(t, rows, nc)
			var names []string
			for _, r := range rows[1:] {
				names = append(names, r[col])
				// One core for 24 hours at $0.5, written as a number.
				if r[cost] != "12" {
					t.Errorf("%s: %s of %q is %q, want 12", c.format, c.costColumn, r[col], r[cost])
				}
			}
			for _, v := range appLabels {
				if !slices.Contains(names, want(v)) {
					t.Errorf("%s %s: no cell %q for the label value %q; cells: %q", c.format, nc, want(v), v, names)
				}
			}
		}
		// No cell at all may start like a formula unless it is a number.
		for _, r := range rows {
			for i, cell := range r {
				if cell != "" && strings.ContainsAny(cell[:1], "=+-@\t\r") {
					if _, err := strconv.ParseFloat(cell, 64); err != nil {
						t.Errorf("%s column %s: %q would be evaluated as a formula", c.format, rows[0][i], cell)
					}
				}
			}
		}
	}
}

// A negative figure (a credit) stays a number; a name starting with '-'
// does not.
func TestNegativeNumbersStayNumbers(t *testing.T) {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	res := &cost.Result{Currency: "EUR", Sets: []allocation.Set{{Start: start, End: start.Add(time.Hour), Allocations: []*allocation.Allocation{
		{Name: "-credit", Properties: allocation.Properties{Namespace: "team-a"}, Start: start, End: start.Add(time.Hour), CPUCost: -1.5, ListCost: -1.5},
	}}}}
	for format, cells := range map[string]map[string]string{
		"csv":   {"name": "'-credit", "cpuCost": "-1.5", "totalCost": "-1.5"},
		"focus": {"ResourceName": "'-credit", "BilledCost": "-1.5", "ListCost": "-1.5"},
	} {
		var b bytes.Buffer
		if err := report.Write(&b, format, res); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&b).ReadAll()
		if err != nil || len(rows) != 2 {
			t.Fatalf("%s: %v %q", format, err, rows)
		}
		for name, want := range cells {
			if got := rows[1][column(t, rows, name)]; got != want {
				t.Errorf("%s %s = %q, want %q", format, name, got, want)
			}
		}
	}
}
