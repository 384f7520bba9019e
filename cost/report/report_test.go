package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/cost"
	"github.com/tollgate-dev/tollgate/cost/allocation"
)

func result() *cost.Result {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	end := start.Add(24 * time.Hour)
	return &cost.Result{Currency: "EUR", Query: cost.Query{Aggregate: []string{"namespace"}}, Sets: []allocation.Set{{Start: start, End: end, Allocations: []*allocation.Allocation{
		{Name: "__idle__", Start: start, End: end, CPUCost: 2, CPUCostIdle: 2, ListCost: 2},
		{Name: "team-a", Properties: allocation.Properties{Cluster: "c", Namespace: "team-a", Tenant: "a", CostCenter: "CC-1"}, Start: start, End: end,
			CPUCoreHours: 24, CPURequestCoreHours: 48, CPUUsageCoreHours: 24, CPUCost: 10, RAMByteHours: 24 << 30, RAMCost: 5, SharedCost: 1, ListCost: 20},
	}}}}
}

// The JSON answer uses OpenCost's field names.
func TestJSONFieldNames(t *testing.T) {
	var b bytes.Buffer
	if err := JSON(&b, result()); err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Code int                                     `json:"code"`
		Data []map[string]map[string]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b.Bytes(), &raw); err != nil || raw.Code != 200 {
		t.Fatalf("%v %s", err, b.String())
	}
	a := raw.Data[0]["team-a"]
	for _, f := range []string{"name", "properties", "window", "start", "end", "minutes", "cpuCores", "cpuCoreRequestAverage", "cpuCoreUsageAverage",
		"cpuCoreHours", "cpuCost", "cpuCostAdjustment", "cpuCostIdle", "cpuEfficiency", "gpuCount", "gpuHours", "gpuCost", "gpuCostAdjustment",
		"networkTransferBytes", "networkReceiveBytes", "networkCost", "loadBalancerCost", "pvBytes", "pvByteHours", "pvCost", "ramBytes",
		"ramByteRequestAverage", "ramByteUsageAverage", "ramByteHours", "ramCost", "ramCostAdjustment", "ramCostIdle", "ramEfficiency",
		"externalCost", "sharedCost", "totalCost", "totalEfficiency"} {
		if _, ok := a[f]; !ok {
			t.Errorf("field %s is missing", f)
		}
	}
	if string(a["totalCost"]) != "16" || string(a["cpuEfficiency"]) != "0.5" || string(a["cpuCores"]) != "1" || !strings.Contains(string(a["window"]), `"start":"2026-11-01T00:00:00Z"`) {
		t.Errorf("values: %s %s %s %s", a["totalCost"], a["cpuEfficiency"], a["cpuCores"], a["window"])
	}
}

func TestCSVAndTable(t *testing.T) {
	var b bytes.Buffer
	if err := CSV(&b, result()); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(rows) != 3 || rows[1][2] != "team-a" || rows[2][2] != "__idle__" || rows[1][17] != "16" || rows[1][21] != "EUR" {
		t.Errorf("csv (%v): %v", err, rows)
	}
	b.Reset()
	if err := Table(&b, result()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"by namespace, EUR", "team-a ", "16.00", "50%", "TOTAL", "18.00"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "team-a") > strings.Index(out, "__idle__") {
		t.Errorf("idle is not last:\n%s", out)
	}
}

// Every row has one unit; list cost is split over a row's components.
func TestFOCUSRows(t *testing.T) {
	var b bytes.Buffer
	if err := FOCUS(&b, result()); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, c := range rows[0] {
		col[c] = i
	}
	var units []string
	for _, r := range rows[1:] {
		units = append(units, r[col["x_Resource"]]+":"+r[col["PricingUnit"]]+":"+r[col["BilledCost"]]+":"+r[col["ListCost"]])
	}
	want := "cpu:vCPU-Hours:10:12.5 ram:GiB-Hours:5:6.25 shared:Hours:1:1.25 cpu:vCPU-Hours:2:2"
	if strings.Join(units, " ") != want {
		t.Errorf("rows %v, want %s", units, want)
	}
}

// OpenCost's `window` is the set's window; `start` and `end` are when the
// allocation actually ran within it, and `minutes` is end − start. Every
// field of OpenCost's allocation_json.go is present.
func TestJSONWindowIsTheSet(t *testing.T) {
	res := result()
	s := &res.Sets[0]
	ran := s.Start.Add(6 * time.Hour)
	s.Allocations[1].Start = ran // started six hours into the set
	var b bytes.Buffer
	if err := JSON(&b, res); err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Data []map[string]map[string]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	a := raw.Data[0]["team-a"]
	if got, want := string(a["window"]), `{"start":"2026-11-01T00:00:00Z","end":"2026-11-02T00:00:00Z"}`; got != want {
		t.Errorf("window = %s, want the set's %s", got, want)
	}
	if string(a["start"]) != `"2026-11-01T06:00:00Z"` || string(a["minutes"]) != "1080" {
		t.Errorf("start %s minutes %s, want the allocation's own 06:00 and 1080", a["start"], a["minutes"])
	}
	for _, f := range []string{"gpuRequestAverage", "gpuUsageAverage", "gpuEfficiency", "networkCrossZoneCost", "networkCrossRegionCost",
		"networkInternetCost", "networkCostAdjustment", "loadBalancerCostAdjustment", "pvs", "pvCostAdjustment", "lbAllocations",
		"proportionalAssetResourceCosts", "sharedCostBreakdown", "rawAllocationOnly"} {
		if _, ok := a[f]; !ok {
			t.Errorf("field %s is missing", f)
		}
	}
}

// Quantities summed over many steps carry float noise (288 five-minute
// steps of one core are 23.99999999999993 core-hours); the CSV and FOCUS
// files print them to 12 significant digits, as a FinOps tool expects.
func TestQuantitiesWithoutFloatNoise(t *testing.T) {
	res := result()
	var h float64
	for range 288 {
		h += 5.0 / 60
	}
	a := res.Sets[0].Allocations[1]
	a.CPUCoreHours, a.CPURequestCoreHours, a.CPUUsageCoreHours = h, h, h
	for _, f := range []func(*bytes.Buffer, *cost.Result) error{
		func(b *bytes.Buffer, r *cost.Result) error { return CSV(b, r) },
		func(b *bytes.Buffer, r *cost.Result) error { return FOCUS(b, r) },
	} {
		var b bytes.Buffer
		if err := f(&b, res); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), "23.99999") || !strings.Contains(b.String(), ",24,") {
			t.Errorf("float noise:\n%s", b.String())
		}
	}
}
