package dashboards

import (
	"github.com/grafana-tools/sdk"
)

// The cost engine's gauges (cost/metrics). Only the namespace gauge carries
// the namespace label, so it is the only one a tenant reads through
// Tollgate; the others are for the platform overview.
const (
	costNamespaceMetric  = "tollgate_cost_namespace_hourly_cost"
	costCenterMetric     = "tollgate_cost_cost_center_hourly_cost"
	costNodeMetric       = "tollgate_cost_node_hourly_cost"
	costNodeIdleMetric   = "tollgate_cost_node_idle_hourly_cost"
	hoursPerMonth        = "730" // 365 × 24 / 12
	rangeHours           = " * $__range_s / 3600"
	costMetricsDocString = "The gauges are each namespace's average hourly cost over the last hour, at its nodes' prices (cost engine, docs/cost.md)."
)

// oneReplica keeps one copy of each cost series: every replica of
// Tollgate exports the same gauges, which the scrape tells apart only by
// instance and pod, so a plain sum would count the spend once per replica.
func oneReplica(e string) string {
	return "max without (instance, pod) (" + e + ")"
}

// currencyUnit is Grafana's unit for an ISO 4217 code: its own currency
// units where it has one, else the code as a prefix.
func currencyUnit(code string) string {
	switch code {
	case "USD", "GBP", "EUR", "JPY", "RUB", "UAH", "BRL", "DKK", "ISK", "NOK", "SEK", "CZK", "CHF", "PLN", "ZAR", "INR", "KRW", "IDR", "PHP", "VND":
		return "currency" + code
	}
	return "prefix:" + code + " "
}

// chargeback is the team's cost dashboard over the namespace cost gauge.
func (t teamCtx) chargeback() (Dashboard, error) {
	uid := DashboardUID(t.Tenant, KindChargeback)
	title := t.Tenant + " / Chargeback"
	b := newBoard(uid, title, t.tags(KindChargeback))
	b.Time = sdk.Time{From: "now-7d", To: "now"}
	b.Templating.List = []sdk.TemplateVar{
		datasourceVar(t.opts.Datasources),
		namespaceVar(t.opts.Label, t.scope, costNamespaceMetric),
	}
	b.Links = []sdk.Link{
		dashboardLink("RED", DashboardUID(t.Tenant, KindRED)),
		tagLink(t.Tenant+" dashboards", TeamTag(t.Tenant)),
	}
	money := currencyUnit(t.opts.Currency)
	sel := costNamespaceMetric + "{" + t.nsSel() + "}"
	overRange := "avg_over_time(" + sel + "[$__range])"

	b.addRow("Spend", false)
	b.add(stat("Hourly cost",
		"What the selected namespaces cost per hour now: CPU, memory and GPU at max(request, usage), idle capacity not included. "+costMetricsDocString,
		money, nil, query{expr: "sum(" + oneReplica(sel) + ")", instant: true}), 8, 6)
	b.add(stat("Cost over the time range",
		"What the selected namespaces cost over the dashboard's time range: their average hourly cost times the range's hours.",
		money, nil, query{expr: "sum(" + oneReplica(overRange) + ")" + rangeHours, instant: true}), 8, 6)
	b.add(stat("Projected monthly cost",
		"A month (730 hours) at the time range's average hourly cost.",
		money, nil, query{expr: "sum(" + oneReplica(overRange) + ") * " + hoursPerMonth, instant: true}), 8, 6)

	b.addRow("Breakdown", false)
	b.add(timeseries("Hourly cost by namespace",
		"Each namespace's hourly cost, stacked. "+costMetricsDocString,
		money, tsOpts{stack: true, min: at(0)},
		query{expr: "sum by (" + t.opts.Label + ") (" + oneReplica(sel) + ")", legend: "{{" + t.opts.Label + "}}"}), 12, 8)
	b.add(timeseries("Hourly cost by resource",
		"The selected namespaces' hourly cost by resource (cpu, ram, gpu), stacked.",
		money, tsOpts{stack: true, min: at(0)},
		query{expr: "sum by (resource) (" + oneReplica(sel) + ")", legend: "{{resource}}"}), 12, 8)
	b.add(barGauge("Cost over the time range by cost center",
		"What each cost center of the selected namespaces cost over the dashboard's time range, for chargeback.",
		money, query{expr: "sum by (cost_center) (" + oneReplica(overRange) + ")" + rangeHours, legend: "{{cost_center}}", instant: true}), 24, 8)
	js, err := b.encode()
	return Dashboard{UID: uid, Title: title, Kind: KindChargeback, JSON: js}, err
}
