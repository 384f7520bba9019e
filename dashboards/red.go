package dashboards

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"

	"github.com/grafana-tools/sdk"
)

// collapseAbove: a team with more services than this gets its service rows
// collapsed, so that opening the dashboard does not run 3 queries per
// service at once.
const collapseAbove = 3

// red is the team's RED dashboard: an overview of the selected services,
// then a row per service with rate by status class, error ratio and
// latency percentiles.
func (t teamCtx) red() (Dashboard, error) {
	p := t.Preset
	uid := DashboardUID(t.Tenant, KindRED)
	title := t.Tenant + " / RED"
	b := newBoard(uid, title, t.tags(KindRED))
	ns := t.nsSel()
	b.Templating.List = []sdk.TemplateVar{
		datasourceVar(t.opts.Datasources),
		namespaceVar(t.opts.Label, t.scope, p.Requests, p.Matchers...),
		// Live services, beyond the rows generated below: a service that
		// started since the last run shows up in the overview at once.
		queryVar("service", "Service", "label_values("+p.selector(p.Requests, ns)+", "+p.ServiceLabel+")", ".+"),
	}
	logs := t.logSelector()
	b.Links = []sdk.Link{
		dashboardLink("SLOs", DashboardUID(t.Tenant, KindSLO)),
		dashboardLink("Chargeback", DashboardUID(t.Tenant, KindChargeback)),
		panelLink("Logs in Explore", exploreURL(t.opts.Datasources.LokiUID, logs+"}")),
		tagLink(t.Tenant+" dashboards", TeamTag(t.Tenant)),
	}

	b.addRow("Selected services", false)
	all := []string{ns, re(p.ServiceLabel, "$service")}
	by := p.ServiceLabel
	legend := "{{" + by + "}}"
	b.add(timeseries("Request rate by service",
		"Requests per second of each selected service, from "+p.Requests+".",
		"reqps", tsOpts{min: at(0)},
		query{expr: "sum by (" + by + ") (" + p.rate(p.Requests, all...) + ")", legend: legend}), 8, 8)
	b.add(timeseries("Error ratio by service",
		"Share of each selected service's requests answered with a 5xx status: 0 with traffic and no errors, no value without traffic.",
		"percentunit", tsOpts{min: at(0), thresholds: errorSteps},
		query{expr: p.errorRatio(by, all...), legend: legend}), 8, 8)
	b.add(timeseries("p99 latency by service",
		"99th percentile of each selected service's request duration, estimated from the histogram "+p.Bucket+" (accurate to its bucket boundaries).",
		p.LatencyUnit, tsOpts{min: at(0)},
		query{expr: p.quantile(0.99, by, all...), legend: legend}), 8, 8)

	for _, svc := range t.Services {
		b.addRow(svc, len(t.Services) > collapseAbove)
		sel := []string{ns, eq(p.ServiceLabel, svc)}
		link := panelLink("Logs of "+svc, exploreURL(t.opts.Datasources.LokiUID, logs+", "+eq(p.LogServiceLabel, svc)+"}"))
		for _, pn := range []*sdk.Panel{
			timeseries("Request rate by status class",
				"Requests per second to "+svc+", stacked by HTTP status class (2xx, 3xx, 4xx, 5xx), from "+p.Requests+".",
				"reqps", tsOpts{stack: true, min: at(0)},
				query{expr: p.statusClasses(sel...), legend: "{{status_class}}"}),
			timeseries("Error ratio",
				"Share of "+svc+"'s requests answered with a 5xx status: 0 with traffic and no errors, no value without traffic.",
				"percentunit", tsOpts{min: at(0), thresholds: errorSteps},
				query{expr: p.errorRatio("", sel...), legend: "5xx ratio"}),
			timeseries("Latency",
				"50th, 90th and 99th percentile of "+svc+"'s request duration, estimated from the histogram "+p.Bucket+" (accurate to its bucket boundaries).",
				p.LatencyUnit, tsOpts{min: at(0)},
				query{expr: p.quantile(0.5, "", sel...), legend: "p50"},
				query{expr: p.quantile(0.9, "", sel...), legend: "p90"},
				query{expr: p.quantile(0.99, "", sel...), legend: "p99"}),
		} {
			pn.Links = []sdk.Link{link}
			b.add(pn, 8, 8)
		}
	}
	js, err := b.encode()
	return Dashboard{UID: uid, Title: title, Kind: KindRED, JSON: js}, err
}

// errorSteps colour an error ratio: amber from 1%, red from 5%.
var errorSteps = []step{{color: "green"}, {color: "orange", value: at(0.01)}, {color: "red", value: at(0.05)}}

// logSelector is the team's LogQL stream selector, unclosed so that a
// service matcher can follow.
func (t teamCtx) logSelector() string {
	return "{" + re(t.opts.Label, t.scope)
}

func (p Preset) rate(metric string, matchers ...string) string {
	return "rate(" + p.selector(metric, matchers...) + "[$__rate_interval])"
}

func sumBy(by, expr string) string {
	if by == "" {
		return "sum(" + expr + ")"
	}
	return "sum by (" + by + ") (" + expr + ")"
}

// errorRatio is 5xx requests over all requests. A service with traffic
// and no 5xx series has no error series at all: "or total * 0" makes its
// ratio 0 instead of no value.
func (p Preset) errorRatio(by string, matchers ...string) string {
	errs := sumBy(by, p.rate(p.Requests, append(slices.Clone(matchers), re(p.StatusLabel, "5.."))...))
	total := sumBy(by, p.rate(p.Requests, matchers...))
	return "(" + errs + " or (" + total + " * 0)) / " + total
}

// statusClasses is the request rate by status class: "5xx" from "503".
func (p Preset) statusClasses(matchers ...string) string {
	return `sum by (status_class) (label_replace(` + p.rate(p.Requests, matchers...) +
		`, "status_class", "${1}xx", ` + str(p.StatusLabel) + `, "([0-9]).."))`
}

func (p Preset) quantile(q float64, by string, matchers ...string) string {
	le := "le"
	if by != "" {
		le = "le, " + by
	}
	return "histogram_quantile(" + number(q) + ", sum by (" + le + ") (" + p.rate(p.Bucket, matchers...) + "))"
}

// exploreURL opens Grafana's Explore on a LogQL query over the dashboard's
// time range. The pane is JSON in the URL; ${__from} and ${__to} are left
// unescaped so that Grafana substitutes them when the link is followed.
func exploreURL(lokiUID, expr string) string {
	pane := map[string]any{"tollgate": map[string]any{
		"datasource": lokiUID,
		"queries": []any{map[string]any{
			"refId": "A", "expr": expr, "queryType": "range",
			"datasource": dsRef{Type: "loki", UID: lokiUID},
		}},
		"range": map[string]string{"from": "${__from}", "to": "${__to}"},
	}}
	js, _ := json.Marshal(pane) // maps and strings only: cannot fail
	q := url.QueryEscape(string(js))
	q = strings.NewReplacer("%24%7B__from%7D", "${__from}", "%24%7B__to%7D", "${__to}").Replace(q)
	return "/explore?schemaVersion=1&panes=" + q
}
