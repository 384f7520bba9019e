package pricing

import (
	"math"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

// OpenCost specification, Appendix A: a node costing $35 a month with one
// GPU, one CPU and 1 GB, whose base prices are GPU 30, CPU 30 and RAM 10,
// is normalised to GPU 15, CPU 15 and RAM 5. With the ratio method:
// CPU:RAM = 30/10 = 3 and GPU:RAM = 30/10 = 3, so the node is worth
// 1·3 + 1·3 + 1 = 7 "GB units"; RAM = 35/7 = 5, CPU = GPU = 3·5 = 15.
func TestSplitAppendixA(t *testing.T) {
	cpu, ram, gpu := Split(35, 1, 1, 1, Defaults{CPU: 30, RAM: 10, GPU: 30})
	if !near(cpu, 15) || !near(ram, 5) || !near(gpu, 15) {
		t.Errorf("Split = cpu %v, ram %v, gpu %v; want 15, 15, 5 (gpu, cpu, ram of Appendix A)", cpu, ram, gpu)
	}
}

// The research note's worked example: a 4-vCPU/16-GiB node at $0.20/h with
// OpenCost's defaults (CPU:RAM ≈ 7.46) costs $0.00436/GiB-h and
// $0.0325/core-h.
func TestSplitWithOpenCostDefaults(t *testing.T) {
	cpu, ram, gpu := Split(0.20, 4, 16, 0, OpenCostDefaults)
	if math.Abs(ram-0.00436) > 0.000005 || math.Abs(cpu-0.0325) > 0.00005 || gpu != 0 {
		t.Errorf("Split = cpu %v, ram %v, gpu %v", cpu, ram, gpu)
	}
	if total := 4*cpu + 16*ram; !near(total, 0.20) {
		t.Errorf("split prices add up to %v, want 0.20", total)
	}
	// No RAM price: everything goes to CPU.
	if cpu, ram, _ := Split(0.2, 4, 16, 0, Defaults{CPU: 1}); !near(cpu, 0.05) || ram != 0 {
		t.Errorf("without a RAM default: cpu %v ram %v", cpu, ram)
	}
}

// The two nodes of the allocation fixture (cost/allocation's
// TestTwoNodeFixture), priced from a pricing file with defaults CPU 0.04
// and RAM 0.005 (CPU:RAM = 8):
//
//	fixture.a, on-demand, aws, 4 cores 16 GiB, $0.192/h, 25% discount:
//	  0.192·0.75 = 0.144; 4·8 + 16 = 48 units; RAM 0.144/48 = 0.003, CPU 0.024
//	fixture.b, spot, 2 cores 8 GiB, $0.048/h (no discount on spot):
//	  2·8 + 8 = 24 units; RAM 0.048/24 = 0.002, CPU 0.016
func TestFixturePrices(t *testing.T) {
	rows, err := Parse(strings.NewReader(Header+"\naws,eu-west-1,fixture.a,4,16,0,0.192,0.07\naws,eu-west-1,fixture.b,2,8,0,0.1,0.048\n"), "prices.csv")
	if err != nil {
		t.Fatal(err)
	}
	c := New(Options{Overrides: rows, Defaults: Defaults{CPU: 0.04, RAM: 0.005}, Discounts: map[string]float64{"aws": 25}})
	a := c.Price(Spec{InstanceType: "fixture.a", Region: "eu-west-1", CPUCores: 4, RAMBytes: 16 << 30})
	if !near(a.Total, 0.144) || !near(a.CPU, 0.024) || !near(a.RAM, 0.003) || a.GPU != 0 || !near(a.ListFactor, 4.0/3) || a.Source != "pricing file" {
		t.Errorf("fixture.a: %+v", a)
	}
	b := c.Price(Spec{InstanceType: "fixture.b", Region: "eu-west-1", Spot: true, CPUCores: 2, RAMBytes: 8 << 30})
	if !near(b.Total, 0.048) || !near(b.CPU, 0.016) || !near(b.RAM, 0.002) || b.ListFactor != 1 {
		t.Errorf("fixture.b: %+v", b)
	}
}

func TestUnknownTypesUseDefaultPrices(t *testing.T) {
	c := New(Options{Discounts: map[string]float64{"gcp": 10}})
	p := c.Price(Spec{InstanceType: "n9-mystery", Region: "europe-west4", CPUCores: 2, RAMBytes: 4 << 30, GPUs: 1})
	d := OpenCostDefaults
	if p.Source != "default prices" || p.Provider != "gcp" || !near(p.CPU, d.CPU*0.9) || !near(p.RAM, d.RAM*0.9) || !near(p.GPU, d.GPU*0.9) {
		t.Errorf("unknown on-demand gcp node: %+v", p)
	}
	if want := (2*d.CPU + 4*d.RAM + d.GPU) * 0.9; !near(p.Total, want) {
		t.Errorf("total %v, want %v", p.Total, want)
	}
	s := c.Price(Spec{InstanceType: "n9-mystery", Region: "europe-west4", Spot: true, CPUCores: 2, RAMBytes: 4 << 30})
	if !near(s.CPU, d.SpotCPU) || !near(s.RAM, d.SpotRAM) || s.ListFactor != 1 {
		t.Errorf("unknown spot node: %+v", s)
	}
}

func TestCataloguePricesGPUNodes(t *testing.T) {
	c := New(Options{})
	p := c.Price(Spec{InstanceType: "g4dn.xlarge", Region: "eu-west-1"})
	if p.Source != "catalogue" || p.Provider != "aws" || p.GPU <= p.CPU || !near(4*p.CPU+16*p.RAM+p.GPU, 0.587) {
		t.Errorf("g4dn.xlarge: %+v", p)
	}
	for _, r := range Embedded() {
		if r.OnDemand <= 0 || r.Spot <= 0 || r.Spot >= r.OnDemand || r.VCPU <= 0 || r.MemoryGiB <= 0 {
			t.Errorf("catalogue row %+v: every row needs capacity and a spot price below on-demand", r)
		}
	}
}

func TestParseErrorsNameTheLine(t *testing.T) {
	for in, want := range map[string]string{
		"nope\n": "the header must be",
		Header + "\naws,eu-west-1,x,2,8,0,abc,\n": "prices.csv:2: on_demand_hourly \"abc\"",
		Header + "\naws,eu-west-1,x,2,8,0,,\n":    "prices.csv:2: on_demand_hourly and spot_hourly are both empty",
		Header + "\n# comment\naws,,x,2,8,0,1,\n": "prices.csv:3: region and instance_type are required",
		"": "no header line",
	} {
		_, err := Parse(strings.NewReader(in), "prices.csv")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", in, err, want)
		}
	}
}

func TestProviderOfRegion(t *testing.T) {
	for region, want := range map[string]string{
		"eu-west-1": "aws", "us-gov-west-1": "aws", "europe-west1": "gcp", "us-central1": "gcp",
		"westeurope": "azure", "eastus2": "azure", "on-prem": "",
	} {
		if got := ProviderOfRegion(region); got != want {
			t.Errorf("ProviderOfRegion(%q) = %q, want %q", region, got, want)
		}
	}
}
