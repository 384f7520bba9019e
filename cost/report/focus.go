package report

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"time"

	"github.com/tollgate-dev/tollgate/cost"
	"github.com/tollgate-dev/tollgate/cost/allocation"
)

// focusColumns are the columns of the FOCUS export: the mandatory columns
// of FOCUS 1.2, useful conditional ones, then Tollgate's own, prefixed x_
// as the specification requires of custom columns.
var focusColumns = []string{
	// Mandatory.
	"BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart",
	"ChargeCategory", "ChargeClass", "ChargeDescription", "ChargePeriodEnd", "ChargePeriodStart", "ContractedCost",
	"EffectiveCost", "InvoiceIssuerName", "ListCost", "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName",
	"ServiceCategory", "ServiceName",
	// Conditional and recommended.
	"ChargeFrequency", "ConsumedQuantity", "ConsumedUnit", "ResourceId", "ResourceName", "ResourceType", "SubAccountId", "SubAccountName", "Tags",
	"RegionId", "RegionName",
	// Tollgate's.
	"x_Cluster", "x_Namespace", "x_Tenant", "x_Team", "x_CostCenter", "x_Node", "x_Resource", "x_IdleCost", "x_SharedCost", "x_Efficiency",
}

// FOCUS writes one row per allocation, set and cost component (CPU, RAM,
// GPU, shared), so that each row has one pricing unit: vCPU-Hours,
// GiB-Hours, GPU-Hours, or Hours for shared cost. BilledCost =
// EffectiveCost = ContractedCost is the allocated cost; ListCost is the same
// at list prices, before the configured discounts (split over the row's
// components in proportion to their cost).
//
// Each cluster is a sub-account (SubAccountId and SubAccountName), in its
// region (RegionId and RegionName, from Result.Regions), so that a
// chargeback spanning clusters splits by cluster as cloud bills split by
// account.
func FOCUS(w io.Writer, res *cost.Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(focusColumns); err != nil {
		return err
	}
	for _, s := range res.Sets {
		for _, a := range sorted(s) {
			fa := newFocusAllocation(res.Currency, s, a)
			fa.region = res.Regions[a.Properties.Cluster]
			for _, c := range fa.components() {
				if c.cost == 0 {
					continue
				}
				if err := cw.Write(fa.row(c)); err != nil {
					return err
				}
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// focusAllocation is what the FOCUS rows of one allocation in one set
// share.
type focusAllocation struct {
	currency      string
	set           allocation.Set
	a             *allocation.Allocation
	kind          string // "Allocation" or "Idle capacity"
	period, until time.Time
	tags          string // JSON
	total         float64
	region        string
}

func newFocusAllocation(currency string, s allocation.Set, a *allocation.Allocation) focusAllocation {
	p := a.Properties
	tags := map[string]string{}
	for k, v := range p.Labels {
		tags[k] = v
	}
	for k, v := range map[string]string{"namespace": p.Namespace, "tenant": p.Tenant, "team": p.Team, "cost_center": p.CostCenter} {
		if v != "" {
			tags["tollgate/"+k] = v
		}
	}
	tagJSON, _ := json.Marshal(tags)
	period := time.Date(s.Start.Year(), s.Start.Month(), 1, 0, 0, 0, 0, time.UTC)
	kind := "Allocation"
	if a.IsIdle() {
		kind = "Idle capacity"
	}
	return focusAllocation{currency: currency, set: s, a: a, kind: kind, period: period, until: period.AddDate(0, 1, 0),
		tags: string(tagJSON), total: a.TotalCost()}
}

// focusComponent is one cost component of an allocation: one row.
type focusComponent struct {
	resource, unit, what string
	cost, qty, idle      float64
	efficiency           string
}

func (fa focusAllocation) components() []focusComponent {
	a := fa.a
	cs := []focusComponent{
		{"cpu", "vCPU-Hours", "CPU", a.CPUCost, a.CPUCoreHours, a.CPUCostIdle, num(a.CPUEfficiency())},
		{"ram", "GiB-Hours", "RAM", a.RAMCost, a.RAMByteHours / allocation.GiB, a.RAMCostIdle, num(a.RAMEfficiency())},
		{"gpu", "GPU-Hours", "GPU", a.GPUCost, a.GPUHours, a.GPUCostIdle, ""},
		{"shared", "Hours", "shared platform cost", a.SharedCost, a.Hours(), 0, ""},
	}
	if a.IsIdle() {
		for i := range cs {
			cs[i].efficiency = ""
		}
	}
	return cs
}

// row is a component's row, in the order of focusColumns. Every text
// cell that carries a name goes through text; the others are constants.
func (fa focusAllocation) row(c focusComponent) []string {
	a, p, s := fa.a, fa.a.Properties, fa.set
	list := c.cost
	if fa.total != 0 {
		list = a.ListCost * c.cost / fa.total
	}
	desc := fa.kind + " " + a.Name + ": " + c.what
	if c.idle != 0 && !a.IsIdle() {
		desc += " including its share of idle capacity"
	}
	account := p.Cluster
	return []string{
		money(c.cost), text(account), text(account), text(fa.currency), fa.until.Format(time.RFC3339), fa.period.Format(time.RFC3339),
		"Usage", "", text(desc), s.End.Format(time.RFC3339), s.Start.Format(time.RFC3339), money(c.cost),
		money(c.cost), "Tollgate", money(list), num(c.qty), c.unit, text("Kubernetes cluster " + p.Cluster), "Tollgate",
		"Compute", "Kubernetes",
		"Usage-Based", num(c.qty), c.unit, text(a.Name), text(a.Name), "Kubernetes allocation", text(p.Cluster), text(p.Cluster), text(fa.tags),
		text(fa.region), text(fa.region),
		text(p.Cluster), text(p.Namespace), text(p.Tenant), text(p.Team), text(p.CostCenter), text(p.Node), c.resource, money(c.idle), money(map[bool]float64{true: c.cost}[c.resource == "shared"]), c.efficiency,
	}
}
