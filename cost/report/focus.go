package report

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"time"

	"github.com/tollgate-dev/tollgate/cost"
	"github.com/tollgate-dev/tollgate/cost/allocation"
)

// FOCUSColumns are the columns of the FOCUS export: the mandatory columns
// of FOCUS 1.2, useful conditional ones, then Tollgate's own, prefixed x_
// as the specification requires of custom columns.
var FOCUSColumns = []string{
	// Mandatory.
	"BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart",
	"ChargeCategory", "ChargeClass", "ChargeDescription", "ChargePeriodEnd", "ChargePeriodStart", "ContractedCost",
	"EffectiveCost", "InvoiceIssuerName", "ListCost", "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName",
	"ServiceCategory", "ServiceName",
	// Conditional and recommended.
	"ChargeFrequency", "ConsumedQuantity", "ConsumedUnit", "ResourceId", "ResourceName", "ResourceType", "SubAccountId", "SubAccountName", "Tags",
	// Tollgate's.
	"x_Cluster", "x_Namespace", "x_Tenant", "x_Team", "x_CostCenter", "x_Node", "x_Resource", "x_IdleCost", "x_SharedCost", "x_Efficiency",
}

// FOCUS writes one row per allocation, set and cost component (CPU, RAM,
// GPU, shared), so that each row has one pricing unit: vCPU-Hours,
// GiB-Hours, GPU-Hours, or Hours for shared cost. BilledCost =
// EffectiveCost = ContractedCost is the allocated cost; ListCost is the same
// at list prices, before the configured discounts (split over the row's
// components in proportion to their cost).
func FOCUS(w io.Writer, res *cost.Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(FOCUSColumns); err != nil {
		return err
	}
	for _, s := range res.Sets {
		for _, a := range sorted(s) {
			p := a.Properties
			account := p.Cluster
			total := a.TotalCost()
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
			bpStart := time.Date(s.Start.Year(), s.Start.Month(), 1, 0, 0, 0, 0, time.UTC)
			bpEnd := bpStart.AddDate(0, 1, 0)
			kind := "Allocation"
			if a.IsIdle() {
				kind = "Idle capacity"
			}
			for _, c := range []struct {
				resource, unit, what string
				cost, qty, idle      float64
			}{
				{"cpu", "vCPU-Hours", "CPU", a.CPUCost, a.CPUCoreHours, a.CPUCostIdle},
				{"ram", "GiB-Hours", "RAM", a.RAMCost, a.RAMByteHours / allocation.GiB, a.RAMCostIdle},
				{"gpu", "GPU-Hours", "GPU", a.GPUCost, a.GPUHours, a.GPUCostIdle},
				{"shared", "Hours", "shared platform cost", a.SharedCost, a.Hours(), 0},
			} {
				if c.cost == 0 {
					continue
				}
				list := c.cost
				if total != 0 {
					list = a.ListCost * c.cost / total
				}
				desc := kind + " " + a.Name + ": " + c.what
				if c.idle != 0 && !a.IsIdle() {
					desc += " including its share of idle capacity"
				}
				eff := ""
				switch c.resource {
				case "cpu":
					eff = num(a.CPUEfficiency())
				case "ram":
					eff = num(a.RAMEfficiency())
				}
				if a.IsIdle() {
					eff = ""
				}
				// Every text cell that carries a name goes through text;
				// the others are constants.
				row := []string{
					money(c.cost), text(account), text(account), text(res.Currency), bpEnd.Format(time.RFC3339), bpStart.Format(time.RFC3339),
					"Usage", "", text(desc), s.End.Format(time.RFC3339), s.Start.Format(time.RFC3339), money(c.cost),
					money(c.cost), "Tollgate", money(list), num(c.qty), c.unit, text("Kubernetes cluster " + p.Cluster), "Tollgate",
					"Compute", "Kubernetes",
					"Usage-Based", num(c.qty), c.unit, text(a.Name), text(a.Name), "Kubernetes allocation", text(p.Namespace), text(p.Tenant), text(string(tagJSON)),
					text(p.Cluster), text(p.Namespace), text(p.Tenant), text(p.Team), text(p.CostCenter), text(p.Node), c.resource, money(c.idle), money(map[bool]float64{true: c.cost}[c.resource == "shared"]), eff,
				}
				if err := cw.Write(row); err != nil {
					return err
				}
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
