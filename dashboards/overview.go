package dashboards

import (
	"github.com/grafana-tools/sdk"
)

// overview is the platform team's dashboard across all teams: the
// cluster's spend and idle capacity, the SLOs in trouble, and a collapsed
// row per team with its RED signals by namespace. Its cost center, node
// and idle panels read gauges without a namespace label, which Tollgate
// shows to admins only: the overview is for platform SRE.
func overview(opts Options, teams []Team) (Dashboard, error) {
	title := "Platform overview"
	b := newBoard(OverviewUID, title, []string{ManagedTag, "platform", string(KindOverview)})
	b.Templating.List = []sdk.TemplateVar{datasourceVar(opts.Datasources)}
	b.Links = []sdk.Link{tagLink("Team dashboards", ManagedTag)}
	money := currencyUnit(opts.Currency)

	b.addRow("Platform", false)
	b.add(stat("Cluster hourly cost",
		"What every node of the cluster costs per hour, allocated or idle.",
		money, nil, query{expr: "sum(" + oneReplica(costNodeMetric) + ")", instant: true}), 8, 6)
	b.add(stat("Idle share",
		"Share of the nodes' cost allocated to no container: capacity paid for and not requested or used.",
		"percentunit", []step{{color: "green"}, {color: "orange", value: at(0.3)}, {color: "red", value: at(0.5)}},
		query{expr: "sum(" + oneReplica(costNodeIdleMetric) + ") / sum(" + oneReplica(costNodeMetric) + ")", instant: true}), 8, 6)
	b.add(stat("SLOs out of error budget",
		"Number of SLOs that have spent their whole error budget for the period.",
		"none", []step{{color: "green"}, {color: "red", value: at(1)}},
		query{expr: "count(" + budgetRemainingMetric + " < 0) or vector(0)", instant: true}), 8, 6)
	b.add(timeseries("Hourly cost by team",
		"Each team's hourly cost, stacked, from the namespace cost gauges.",
		money, tsOpts{stack: true, min: at(0)},
		query{expr: "sum by (team) (" + oneReplica(costNamespaceMetric) + ")", legend: "{{team}}"}), 8, 8)
	b.add(timeseries("Hourly cost by cost center",
		"Each cost center's hourly cost, stacked; __unallocated__ is namespaces without one.",
		money, tsOpts{stack: true, min: at(0)},
		query{expr: "sum by (cost_center) (" + oneReplica(costCenterMetric) + ")", legend: "{{cost_center}}"}), 8, 8)
	b.add(timeseries("Idle cost by node",
		"Each node's hourly cost not allocated to any container.",
		money, tsOpts{stack: true, min: at(0)},
		query{expr: "sum by (node) (" + oneReplica(costNodeIdleMetric) + ")", legend: "{{node}}"}), 8, 8)
	b.add(timeseries("Lowest error budgets",
		"The ten SLOs with the least error budget left for the period.",
		"percentunit", tsOpts{line: true, thresholds: []step{{color: "red"}, {color: "green", value: at(0)}}},
		query{expr: "bottomk(10, " + budgetRemainingMetric + ")", legend: "{{namespace}} {{sloth_service}}/{{sloth_slo}}"}), 12, 8)
	b.add(timeseries("Fastest burning SLOs",
		"The ten SLOs burning their error budget fastest now; above 1× the budget runs out before the period ends.",
		"suffix:×", tsOpts{line: true, min: at(0), thresholds: []step{{color: "green"}, {color: "red", value: at(1)}}},
		query{expr: "topk(10, " + currentBurnMetric + ")", legend: "{{namespace}} {{sloth_service}}/{{sloth_slo}}"}), 12, 8)

	for _, t := range teams {
		p := t.Preset
		scope := re(opts.Label, scopeRegexp(opts.Label, t.Namespaces))
		by := opts.Label
		legend := "{{" + by + "}}"
		b.addRow(t.Tenant+" ("+p.Name+")", true)
		link := dashboardLink(t.Tenant+" RED", DashboardUID(t.Tenant, KindRED))
		for _, pn := range []*sdk.Panel{
			timeseries("Request rate by namespace", "Requests per second in each of "+t.Tenant+"'s namespaces, from "+p.Requests+".",
				"reqps", tsOpts{min: at(0)}, query{expr: sumBy(by, p.rate(p.Requests, scope)), legend: legend}),
			timeseries("Error ratio by namespace", "Share of requests answered with a 5xx status in each of "+t.Tenant+"'s namespaces.",
				"percentunit", tsOpts{min: at(0), thresholds: errorSteps}, query{expr: p.errorRatio(by, scope), legend: legend}),
			timeseries("p99 latency by namespace", "99th percentile of request duration in each of "+t.Tenant+"'s namespaces, from "+p.Bucket+".",
				p.LatencyUnit, tsOpts{min: at(0)}, query{expr: p.quantile(0.99, by, scope), legend: legend}),
		} {
			pn.Links = []sdk.Link{link}
			b.add(pn, 8, 8)
		}
	}
	js, err := b.encode()
	return Dashboard{UID: OverviewUID, Title: title, Kind: KindOverview, JSON: js}, err
}
