package dashboards

import (
	"fmt"
	"time"

	"github.com/grafana-tools/sdk"
	"github.com/prometheus/common/model"

	"github.com/tollgate-dev/tollgate/slo/windows"
)

// Sloth v0.12.0's recording rules, which `tollgate slo generate` writes
// with the same names and labels (slo/rules).
const (
	sliErrorPrefix        = "slo:sli_error:ratio_rate"
	objectiveMetric       = "slo:objective:ratio"
	errorBudgetMetric     = "slo:error_budget:ratio"
	currentBurnMetric     = "slo:current_burn_rate:ratio"
	periodBurnMetric      = "slo:period_burn_rate:ratio"
	budgetRemainingMetric = "slo:period_error_budget_remaining:ratio"
)

func sliError(w time.Duration) string { return sliErrorPrefix + model.Duration(w).String() }

// slo is the team's SLO dashboard over the generated SLO rules. The rules
// must carry the namespace label for Tollgate to show them to the team at
// all (docs/dashboards.md).
func (t teamCtx) slo() (Dashboard, error) {
	uid := DashboardUID(t.Tenant, KindSLO)
	title := t.Tenant + " / SLOs"
	b := newBoard(uid, title, t.tags(KindSLO))
	b.Time = sdk.Time{From: "now-7d", To: "now"}
	ns := t.nsSel()
	b.Templating.List = []sdk.TemplateVar{
		datasourceVar(t.opts.Datasources),
		namespaceVar(t.opts.Label, t.scope, objectiveMetric),
		queryVar("service", "Service", "label_values("+objectiveMetric+"{"+ns+"}, sloth_service)", ".+"),
		queryVar("slo", "SLO", "label_values("+objectiveMetric+"{"+ns+`, sloth_service=~"$service"}, sloth_slo)`, ".+"),
	}
	b.Links = []sdk.Link{
		dashboardLink("RED", DashboardUID(t.Tenant, KindRED)),
		tagLink(t.Tenant+" dashboards", TeamTag(t.Tenant)),
	}
	sel := func(metric string) string {
		return metric + "{" + ns + `, sloth_service=~"$service", sloth_slo=~"$slo"}`
	}
	name := "{{sloth_service}}/{{sloth_slo}}"
	ws := t.opts.SLOWindows
	period := model.Duration(ws.Period).String()

	b.addRow("Error budget", false)
	b.add(stat("Error budget remaining",
		"Share of the "+period+" error budget left: 100% with no errors, 0% when the errors allowed by the objective are used up, negative beyond. From "+budgetRemainingMetric+".",
		"percentunit", []step{{color: "red"}, {color: "orange", value: at(0)}, {color: "green", value: at(0.25)}},
		query{expr: sel(budgetRemainingMetric), legend: name, instant: true}), 8, 6)
	b.add(stat("Current burn rate",
		"How fast the error budget burns now (over "+model.Duration(ws.PageQuick.Short).String()+"): 1× spends it exactly over the period, above 1× exhausts it early. From "+currentBurnMetric+".",
		"suffix:×", []step{{color: "green"}, {color: "orange", value: at(1)}, {color: "red", value: at(ws.Factor(ws.PageQuick))}},
		query{expr: sel(currentBurnMetric), legend: name, instant: true}), 8, 6)
	b.add(stat("Objective",
		"The SLO's objective: the share of good events it promises over "+period+". From "+objectiveMetric+".",
		"percentunit", nil,
		query{expr: sel(objectiveMetric), legend: name, instant: true}), 8, 6)
	b.add(timeseries("Error budget remaining over time",
		"Share of the "+period+" error budget left at each moment; a falling line is budget being spent.",
		"percentunit", tsOpts{line: true, thresholds: []step{{color: "red"}, {color: "green", value: at(0)}}},
		query{expr: sel(budgetRemainingMetric), legend: name}), 12, 8)
	b.add(timeseries("SLI over time",
		"The SLI as a share of good events over "+model.Duration(ws.PageQuick.Short).String()+" and over the whole "+period+" period, against the objective.",
		"percentunit", tsOpts{},
		query{expr: "1 - " + sel(sliError(ws.PageQuick.Short)), legend: name + " " + model.Duration(ws.PageQuick.Short).String()},
		query{expr: "1 - " + sel(sliError(ws.Period)), legend: name + " " + period},
		query{expr: sel(objectiveMetric), legend: name + " objective"}), 12, 8)

	b.addRow("Burn rate per alert window", false)
	for _, a := range []struct {
		title string
		w     windows.Window
	}{
		{"Page, fast burn", ws.PageQuick},
		{"Page, slow burn", ws.PageSlow},
		{"Ticket, fast burn", ws.TicketQuick},
		{"Ticket, slow burn", ws.TicketSlow},
	} {
		f := ws.Factor(a.w)
		short, long := model.Duration(a.w.Short).String(), model.Duration(a.w.Long).String()
		b.add(timeseries(fmt.Sprintf("%s: %s and %s", a.title, short, long),
			fmt.Sprintf("Burn rate over the alert's two windows: the alert fires when both exceed %s×, the rate that spends %s%% of the %s budget in %s.",
				number(f), number(a.w.ErrorBudgetPercent), period, long),
			"suffix:×", tsOpts{line: true, min: at(0), thresholds: []step{{color: "green"}, {color: "red", value: at(f)}}},
			query{expr: burnRate(sel, a.w.Short), legend: name + " " + short},
			query{expr: burnRate(sel, a.w.Long), legend: name + " " + long}), 12, 8)
	}
	js, err := b.encode()
	return Dashboard{UID: uid, Title: title, Kind: KindSLO, JSON: js}, err
}

// burnRate is the SLI's error ratio over w divided by the error budget
// (1 - objective): Sloth's alert expression without its threshold.
func burnRate(sel func(string) string, w time.Duration) string {
	return sel(sliError(w)) + " / on (sloth_id) group_left () " + sel(errorBudgetMetric)
}
