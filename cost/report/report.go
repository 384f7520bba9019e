// Package report writes allocation results: OpenCost's JSON, a CSV with
// one line per allocation and set, a FOCUS 1.2 CSV for FinOps tools, and a
// text table for people. The API's downloads and `tollgate cost report`
// share these writers.
package report

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tollgate-dev/tollgate/cost"
	"github.com/tollgate-dev/tollgate/cost/allocation"
)

// formats are the report formats.
var formats = []string{"table", "json", "csv", "focus"}

// Formats returns the report formats.
func Formats() []string { return slices.Clone(formats) }

// ContentType returns the HTTP content type of a format.
func ContentType(format string) string {
	switch format {
	case "csv", "focus":
		return "text/csv; charset=utf-8"
	case "table":
		return "text/plain; charset=utf-8"
	}
	return "application/json"
}

// Write writes res in format.
func Write(w io.Writer, format string, res *cost.Result) error {
	switch format {
	case "json":
		return JSON(w, res)
	case "csv":
		return CSV(w, res)
	case "focus":
		return FOCUS(w, res)
	case "table":
		return Table(w, res)
	}
	return fmt.Errorf("unknown format %q: use %s", format, strings.Join(formats, ", "))
}

type window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Allocation is an allocation in OpenCost's JSON shape (allocation_json.go).
// Network, load balancer and persistent volume fields are always zero:
// Tollgate allocates node spend only.
type Allocation struct {
	Name                       string                `json:"name"`
	Properties                 allocation.Properties `json:"properties"`
	Window                     window                `json:"window"`
	Start                      time.Time             `json:"start"`
	End                        time.Time             `json:"end"`
	Minutes                    float64               `json:"minutes"`
	CPUCores                   float64               `json:"cpuCores"`
	CPUCoreRequestAverage      float64               `json:"cpuCoreRequestAverage"`
	CPUCoreUsageAverage        float64               `json:"cpuCoreUsageAverage"`
	CPUCoreHours               float64               `json:"cpuCoreHours"`
	CPUCost                    float64               `json:"cpuCost"`
	CPUCostAdjustment          float64               `json:"cpuCostAdjustment"`
	CPUCostIdle                float64               `json:"cpuCostIdle"`
	CPUEfficiency              float64               `json:"cpuEfficiency"`
	GPUCount                   float64               `json:"gpuCount"`
	GPURequestAverage          float64               `json:"gpuRequestAverage"`
	GPUUsageAverage            float64               `json:"gpuUsageAverage"`
	GPUHours                   float64               `json:"gpuHours"`
	GPUCost                    float64               `json:"gpuCost"`
	GPUCostAdjustment          float64               `json:"gpuCostAdjustment"`
	GPUCostIdle                float64               `json:"gpuCostIdle"`
	GPUEfficiency              float64               `json:"gpuEfficiency"`
	NetworkTransferBytes       float64               `json:"networkTransferBytes"`
	NetworkReceiveBytes        float64               `json:"networkReceiveBytes"`
	NetworkCost                float64               `json:"networkCost"`
	NetworkCrossZoneCost       float64               `json:"networkCrossZoneCost"`
	NetworkCrossRegionCost     float64               `json:"networkCrossRegionCost"`
	NetworkInternetCost        float64               `json:"networkInternetCost"`
	NetworkCostAdjustment      float64               `json:"networkCostAdjustment"`
	LoadBalancerCost           float64               `json:"loadBalancerCost"`
	LoadBalancerCostAdjustment float64               `json:"loadBalancerCostAdjustment"`
	PVBytes                    float64               `json:"pvBytes"`
	PVByteHours                float64               `json:"pvByteHours"`
	PVCost                     float64               `json:"pvCost"`
	PVs                        *struct{}             `json:"pvs"`
	PVCostAdjustment           float64               `json:"pvCostAdjustment"`
	RAMBytes                   float64               `json:"ramBytes"`
	RAMByteRequestAverage      float64               `json:"ramByteRequestAverage"`
	RAMByteUsageAverage        float64               `json:"ramByteUsageAverage"`
	RAMByteHours               float64               `json:"ramByteHours"`
	RAMCost                    float64               `json:"ramCost"`
	RAMCostAdjustment          float64               `json:"ramCostAdjustment"`
	RAMCostIdle                float64               `json:"ramCostIdle"`
	RAMEfficiency              float64               `json:"ramEfficiency"`
	ExternalCost               float64               `json:"externalCost"`
	SharedCost                 float64               `json:"sharedCost"`
	TotalCost                  float64               `json:"totalCost"`
	TotalEfficiency            float64               `json:"totalEfficiency"`
	// Always null, as OpenCost writes them when it has none.
	ProportionalAssetResourceCosts *struct{} `json:"proportionalAssetResourceCosts"`
	LBAllocations                  *struct{} `json:"lbAllocations"`
	SharedCostBreakdown            *struct{} `json:"sharedCostBreakdown"`
	RawAllocationOnly              *struct{} `json:"rawAllocationOnly"`
}

// FromAllocation converts one allocation of set s. As in OpenCost,
// `window` is the set's window and `start`, `end` and `minutes` the time
// the allocation ran within it. GPU usage is not measured (no DCGM), so
// gpuUsageAverage and gpuEfficiency are 0, as OpenCost reports them
// without DCGM.
func FromAllocation(a *allocation.Allocation, s allocation.Set) Allocation {
	return Allocation{
		Name: a.Name, Properties: a.Properties, Window: window{s.Start, s.End}, Start: a.Start, End: a.End, Minutes: a.Minutes(),
		GPURequestAverage: a.GPUCount(),
		CPUCores:          a.CPUCores(), CPUCoreRequestAverage: a.CPURequestAverage(), CPUCoreUsageAverage: a.CPUUsageAverage(),
		CPUCoreHours: a.CPUCoreHours, CPUCost: a.CPUCost, CPUCostIdle: a.CPUCostIdle, CPUEfficiency: a.CPUEfficiency(),
		GPUCount: a.GPUCount(), GPUHours: a.GPUHours, GPUCost: a.GPUCost, GPUCostIdle: a.GPUCostIdle,
		RAMBytes: a.RAMBytes(), RAMByteRequestAverage: a.RAMRequestAverage(), RAMByteUsageAverage: a.RAMUsageAverage(),
		RAMByteHours: a.RAMByteHours, RAMCost: a.RAMCost, RAMCostIdle: a.RAMCostIdle, RAMEfficiency: a.RAMEfficiency(),
		SharedCost: a.SharedCost, TotalCost: a.TotalCost(), TotalEfficiency: a.TotalEfficiency(),
	}
}

// Response is OpenCost's /allocation answer: one map per set.
type Response struct {
	Code   int                     `json:"code"`
	Status string                  `json:"status"`
	Data   []map[string]Allocation `json:"data"`
	// Warnings, as Prometheus gives them: what the figures lack, such as
	// an expected cluster (cost.clusters) without data.
	Warnings []string `json:"warnings,omitempty"`
}

// JSON writes the OpenCost response.
func JSON(w io.Writer, res *cost.Result) error {
	r := Response{Code: 200, Status: "success", Data: make([]map[string]Allocation, 0, len(res.Sets)), Warnings: res.Warnings}
	for _, s := range res.Sets {
		m := make(map[string]Allocation, len(s.Allocations))
		for _, a := range s.Allocations {
			m[a.Name] = FromAllocation(a, s)
		}
		r.Data = append(r.Data, m)
	}
	enc := json.NewEncoder(w)
	return enc.Encode(r)
}

// num prints a quantity to 12 significant digits, without the noise of
// summing many steps (23.99999999999993 core-hours is 24), and never in
// exponent form.
func num(x float64) string {
	r, err := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 12, 64), 64)
	if err != nil {
		r = x
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// money rounds to 1e-9 of the currency unit: enough to add up, short
// enough to read.
func money(x float64) string { return strconv.FormatFloat(math.Round(x*1e9)/1e9, 'f', -1, 64) }

// formulaStarts are the first characters that make a spreadsheet read a
// cell as a formula (OWASP, "CSV Injection"): =, +, - and @, and tab and
// carriage return, which some spreadsheets skip before looking again.
const formulaStarts = "=+-@\t\r"

// text writes a text cell of a CSV: one that starts like a formula gets a
// leading ', so that Excel, LibreOffice and Google Sheets show a label
// value such as =HYPERLINK(...) as text instead of evaluating it. Figures
// are written by num and money and never pass here, so a negative number
// stays a number.
func text(s string) string {
	if s != "" && strings.ContainsRune(formulaStarts, rune(s[0])) {
		return "'" + s
	}
	return s
}

// csvHeader is the column list of the plain CSV report.
var csvHeader = []string{"windowStart", "windowEnd", "name", "cluster", "node", "namespace", "tenant", "team", "costCenter",
	"cpuCoreHours", "cpuCost", "ramByteHours", "ramCost", "gpuHours", "gpuCost", "idleCost", "sharedCost", "totalCost",
	"cpuEfficiency", "ramEfficiency", "totalEfficiency", "currency"}

// CSV writes one line per allocation and set.
func CSV(w io.Writer, res *cost.Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, s := range res.Sets {
		for _, a := range sorted(s) {
			p := a.Properties
			if err := cw.Write([]string{s.Start.Format(time.RFC3339), s.End.Format(time.RFC3339),
				text(a.Name), text(p.Cluster), text(p.Node), text(p.Namespace), text(p.Tenant), text(p.Team), text(p.CostCenter),
				num(a.CPUCoreHours), money(a.CPUCost), num(a.RAMByteHours), money(a.RAMCost), num(a.GPUHours), money(a.GPUCost),
				money(a.IdleCost()), money(a.SharedCost), money(a.TotalCost()),
				num(a.CPUEfficiency()), num(a.RAMEfficiency()), num(a.TotalEfficiency()), text(res.Currency)}); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// sorted returns a set's allocations by total cost, descending, with idle
// and shared entries last: the order people read.
func sorted(s allocation.Set) []*allocation.Allocation {
	out := slices.Clone(s.Allocations)
	rank := func(a *allocation.Allocation) int {
		switch {
		case a.IsIdle():
			return 2
		case a.Name == allocation.Shared:
			return 1
		}
		return 0
	}
	slices.SortStableFunc(out, func(a, b *allocation.Allocation) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		switch {
		case a.TotalCost() > b.TotalCost():
			return -1
		case a.TotalCost() < b.TotalCost():
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// Table writes a human-readable table per set, with a total line.
func Table(w io.Writer, res *cost.Result) error {
	bw := bufio.NewWriter(w)
	q := res.Query
	agg := strings.Join(q.Aggregate, ",")
	if agg == "" {
		agg = strings.Join(allocation.DefaultAggregate(), "/")
	}
	for _, warning := range res.Warnings {
		fmt.Fprintln(bw, "WARNING: "+warning)
	}
	for i, s := range res.Sets {
		if i > 0 || len(res.Warnings) > 0 {
			fmt.Fprintln(bw)
		}
		fmt.Fprintf(bw, "%s to %s, by %s, %s\n", s.Start.Format(time.RFC3339), s.End.Format(time.RFC3339), agg, res.Currency)
		// Names left-aligned, figures right-aligned in fixed widths.
		tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "NAME\t%10s %10s %10s %10s %10s %10s %8s %8s\n", "CPU", "RAM", "GPU", "IDLE", "SHARED", "TOTAL", "CPU EFF", "RAM EFF")
		var tot allocation.Allocation
		for _, a := range sorted(s) {
			fmt.Fprintf(tw, "%s\t%10.2f %10.2f %10.2f %10.2f %10.2f %10.2f %8s %8s\n", a.Name, a.CPUCost, a.RAMCost, a.GPUCost, a.IdleCost(), a.SharedCost, a.TotalCost(), pct(a, a.CPUEfficiency()), pct(a, a.RAMEfficiency()))
			tot.CPUCost += a.CPUCost
			tot.RAMCost += a.RAMCost
			tot.GPUCost += a.GPUCost
			tot.CPUCostIdle += a.IdleCost()
			tot.SharedCost += a.SharedCost
		}
		fmt.Fprintf(tw, "TOTAL\t%10.2f %10.2f %10.2f %10.2f %10.2f %10.2f\n", tot.CPUCost, tot.RAMCost, tot.GPUCost, tot.CPUCostIdle, tot.SharedCost, tot.TotalCost())
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(res.Sets) == 0 {
		fmt.Fprintln(bw, "no data in the window")
	}
	fmt.Fprintln(bw, "IDLE is included in CPU, RAM and GPU when idle is shared; TOTAL = CPU + RAM + GPU + SHARED.")
	return bw.Flush()
}

func pct(a *allocation.Allocation, eff float64) string {
	if a.IsIdle() || a.Name == allocation.Shared {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", eff*100)
}
