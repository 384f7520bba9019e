// Package pricing turns a node (instance type, region, capacity type and
// capacity) into hourly prices per CPU core, GiB of RAM and GPU, the way
// OpenCost does: a node's total price comes from a catalogue (Tollgate's
// embedded one, overridden by the operator's file) or, for unknown types,
// from OpenCost's default per-resource prices; the total is then split into
// CPU, RAM and GPU prices with OpenCost's ratio method. Negotiated discounts
// are a percentage per provider, applied to on-demand prices only: spot
// prices are market prices already.
package pricing

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Defaults are per-resource hourly prices for nodes whose type is not in
// the catalogue, and the ratios that split a known node price.
type Defaults struct {
	CPU     float64 // $ per core-hour
	SpotCPU float64
	RAM     float64 // $ per GiB-hour
	SpotRAM float64
	GPU     float64 // $ per GPU-hour
}

// OpenCostDefaults are OpenCost's configs/default.json ("GCP us-central1").
var OpenCostDefaults = Defaults{CPU: 0.031611, SpotCPU: 0.006655, RAM: 0.004237, SpotRAM: 0.000892, GPU: 0.95}

// Row is one line of a price catalogue.
type Row struct {
	Provider     string
	Region       string
	InstanceType string
	VCPU         float64
	MemoryGiB    float64
	GPU          float64
	OnDemand     float64 // $ per hour
	Spot         float64 // $ per hour; 0 when unknown
}

//go:embed catalogue.csv
var embedded []byte

// Header is the column list of catalogue files, embedded and user-supplied.
const Header = "provider,region,instance_type,vcpu,memory_gib,gpu,on_demand_hourly,spot_hourly"

// Embedded returns the rows of the catalogue shipped in the binary.
func Embedded() []Row {
	rows, err := Parse(bytes.NewReader(embedded), "catalogue.csv")
	if err != nil {
		// The file is part of the build and tested; this is a bug.
		panic(err)
	}
	return rows
}

// LoadFile reads a user price file in the catalogue's format.
func LoadFile(path string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the pricing file: %w", err)
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads a catalogue: the header line, then one row per node type and
// region. Lines starting with # are comments. Errors name the line.
func Parse(r io.Reader, name string) ([]Row, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	var rows []Row
	header := true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if header {
			if strings.Join(rec, ",") != Header {
				return nil, fmt.Errorf("%s:%d: the header must be %q", name, line, Header)
			}
			header = false
			continue
		}
		row, err := parseRow(rec)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		rows = append(rows, row)
	}
	if header {
		return nil, fmt.Errorf("%s: no header line; the first line must be %q", name, Header)
	}
	return rows, nil
}

func parseRow(rec []string) (Row, error) {
	if len(rec) != 8 {
		return Row{}, fmt.Errorf("%d columns, want 8 (%s)", len(rec), Header)
	}
	r := Row{Provider: strings.ToLower(strings.TrimSpace(rec[0])), Region: strings.TrimSpace(rec[1]), InstanceType: strings.TrimSpace(rec[2])}
	if r.Region == "" || r.InstanceType == "" {
		return Row{}, errors.New("region and instance_type are required")
	}
	nums := []*float64{&r.VCPU, &r.MemoryGiB, &r.GPU, &r.OnDemand, &r.Spot}
	cols := strings.Split(Header, ",")[3:]
	for i, p := range nums {
		s := strings.TrimSpace(rec[3+i])
		if s == "" {
			continue
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
			return Row{}, fmt.Errorf("%s %q is not a non-negative number", cols[i], s)
		}
		*p = v
	}
	if r.OnDemand == 0 && r.Spot == 0 {
		return Row{}, errors.New("on_demand_hourly and spot_hourly are both empty")
	}
	return r, nil
}

// Spec is what Kubernetes says about a node.
type Spec struct {
	InstanceType string
	Region       string
	Spot         bool
	// Capacity as kube_node_status_capacity reports it. Zero means unknown:
	// the catalogue's figures are used.
	CPUCores float64
	RAMBytes float64
	GPUs     float64
}

// Price is a node's hourly price and its split.
type Price struct {
	Provider string
	// Source says where the total came from: "catalogue", "pricing file"
	// or "default prices" (unknown type: per-resource defaults).
	Source string
	Total  float64 // $ per hour, after discount
	CPU    float64 // $ per core-hour
	RAM    float64 // $ per GiB-hour
	GPU    float64 // $ per GPU-hour
	// ListFactor is list price / effective price: 1/(1-discount) for a
	// discounted on-demand node, else 1. FOCUS's ListCost needs it.
	ListFactor float64
}

// Catalogue prices nodes. It is immutable once built.
type Catalogue struct {
	rows      map[string]Row // region/instance type
	sources   map[string]string
	defaults  Defaults
	discounts map[string]float64 // provider → fraction
}

// Options build a Catalogue.
type Options struct {
	// Overrides are the operator's rows; they win over the embedded ones.
	Overrides []Row
	// Defaults price unknown node types; zero fields take OpenCost's.
	Defaults Defaults
	// Discounts are percentages off on-demand prices, by provider
	// (aws, gcp, azure).
	Discounts map[string]float64
}

// New builds a Catalogue from the embedded rows and the options.
func New(opts Options) *Catalogue {
	c := &Catalogue{rows: map[string]Row{}, sources: map[string]string{}, discounts: map[string]float64{}}
	for _, r := range Embedded() {
		c.rows[key(r.Region, r.InstanceType)] = r
		c.sources[key(r.Region, r.InstanceType)] = "catalogue"
	}
	for _, r := range opts.Overrides {
		c.rows[key(r.Region, r.InstanceType)] = r
		c.sources[key(r.Region, r.InstanceType)] = "pricing file"
	}
	d := opts.Defaults
	def := OpenCostDefaults
	for _, p := range []struct{ v, dflt *float64 }{{&d.CPU, &def.CPU}, {&d.SpotCPU, &def.SpotCPU}, {&d.RAM, &def.RAM}, {&d.SpotRAM, &def.SpotRAM}, {&d.GPU, &def.GPU}} {
		if *p.v == 0 {
			*p.v = *p.dflt
		}
	}
	c.defaults = d
	for p, pct := range opts.Discounts {
		c.discounts[strings.ToLower(p)] = pct / 100
	}
	return c
}

func key(region, typ string) string { return region + "/" + typ }

// Defaults returns the per-resource prices in force.
func (c *Catalogue) Defaults() Defaults { return c.defaults }

// Price prices one node.
func (c *Catalogue) Price(s Spec) Price {
	const gib = 1 << 30
	p := Price{ListFactor: 1}
	cores, ramGiB, gpus := s.CPUCores, s.RAMBytes/gib, s.GPUs
	row, known := c.rows[key(s.Region, s.InstanceType)]
	if known {
		if cores == 0 {
			cores = row.VCPU
		}
		if ramGiB == 0 {
			ramGiB = row.MemoryGiB
		}
		if gpus == 0 {
			gpus = row.GPU
		}
		p.Provider = row.Provider
		p.Total = row.OnDemand
		if s.Spot {
			p.Total = row.Spot
		}
		if p.Total == 0 {
			known = false // no price for this capacity type
		} else {
			p.Source = c.sources[key(s.Region, s.InstanceType)]
		}
	}
	if !known {
		if p.Provider == "" {
			p.Provider = ProviderOfRegion(s.Region)
		}
		// OpenCost falls back to the default per-resource prices, spot
		// variants for spot nodes; there is nothing to split.
		p.Source = "default prices"
		p.CPU, p.RAM, p.GPU = c.defaults.CPU, c.defaults.RAM, c.defaults.GPU
		if s.Spot {
			p.CPU, p.RAM = c.defaults.SpotCPU, c.defaults.SpotRAM
		}
		p.Total = cores*p.CPU + ramGiB*p.RAM + gpus*p.GPU
	}
	if d := c.discounts[p.Provider]; d > 0 && !s.Spot {
		p.Total *= 1 - d
		p.CPU *= 1 - d
		p.RAM *= 1 - d
		p.GPU *= 1 - d
		p.ListFactor = 1 / (1 - d)
	}
	if known {
		p.CPU, p.RAM, p.GPU = Split(p.Total, cores, ramGiB, gpus, c.defaults)
	}
	return p
}

// Split divides a node's hourly price into prices per core, GiB and GPU
// with OpenCost's ratio method (GetNodeCost in pkg/costmodel/costmodel.go):
// the default prices fix the ratios CPU:RAM and GPU:RAM, and the node's
// price is spread over its resources in those ratios, so that
// cores·cpu + GiB·ram + gpus·gpu equals the node's price. With a default
// RAM price of 0 the whole price goes to CPU, as in OpenCost.
func Split(total, cores, ramGiB, gpus float64, d Defaults) (cpu, ram, gpu float64) {
	if d.RAM == 0 {
		if cores == 0 {
			return 0, 0, 0
		}
		return total / cores, 0, 0
	}
	cpuToRAM, gpuToRAM := d.CPU/d.RAM, d.GPU/d.RAM
	multiple := cores*cpuToRAM + ramGiB
	if gpus > 0 {
		multiple += gpus * gpuToRAM
	}
	if multiple == 0 {
		return 0, 0, 0
	}
	ram = total / multiple
	cpu = ram * cpuToRAM
	if gpus > 0 {
		gpu = ram * gpuToRAM
	}
	return cpu, ram, gpu
}

var (
	awsRegion   = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-\d+$`)                     // eu-west-1
	gcpRegion   = regexp.MustCompile(`^[a-z]+-[a-z]+\d+$`)                               // europe-west1
	azureRegion = regexp.MustCompile(`^[a-z]+(north|south|east|west|central)[a-z0-9]*$`) // westeurope, eastus2
)

// ProviderOfRegion guesses the cloud provider from the shape of a region
// name, so that a node type missing from the catalogue still gets its
// provider's discount. "" when the shape is unknown.
func ProviderOfRegion(region string) string {
	switch {
	case awsRegion.MatchString(region):
		return "aws"
	case gcpRegion.MatchString(region):
		return "gcp"
	case azureRegion.MatchString(region) || strings.HasPrefix(region, "west") || strings.HasPrefix(region, "east"):
		return "azure"
	}
	return ""
}
