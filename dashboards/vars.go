package dashboards

import (
	"strings"

	"github.com/grafana-tools/sdk"
)

// Template variables, as the SDK's TemplateVar.

// refreshOnTimeChange re-runs a query variable when the time range
// changes, so that a service that appeared an hour ago is listed.
var refreshOnTimeChange = int64(2)

func allSelected() sdk.Current {
	return sdk.Current{Text: &sdk.StringSliceString{Value: []string{"All"}, Valid: true}, Value: []string{"$__all"}}
}

// datasourceVar is the "Data source" variable every panel reads through.
// It lists only Tollgate's user-facing data sources ("... (Tollgate)"), not
// the service-account one nor any data source pointing at the backends
// directly, which would bypass the tenant's confinement.
func datasourceVar(ds Datasources) sdk.TemplateVar {
	one := int64(1)
	return sdk.TemplateVar{
		Name:    "datasource",
		Label:   "Data source",
		Type:    "datasource",
		Query:   "prometheus",
		Regex:   `/\(Tollgate\)$/`,
		Refresh: sdk.BoolInt{Value: &one},
		Current: sdk.Current{Text: &sdk.StringSliceString{Value: []string{ds.PrometheusName}, Valid: true}, Value: ds.PrometheusUID},
	}
}

// queryVar is a multi-value query variable over label_values, with "All"
// selected. allValue, when set, is what "All" stands for in queries.
func queryVar(name, label, query, allValue string) sdk.TemplateVar {
	return sdk.TemplateVar{
		Name:       name,
		Label:      label,
		Type:       "query",
		Datasource: promDS,
		Query:      query,
		Refresh:    sdk.BoolInt{Value: &refreshOnTimeChange},
		Multi:      true,
		IncludeAll: true,
		AllValue:   allValue,
		Current:    allSelected(),
		Sort:       1, // alphabetical
	}
}

// namespaceVar lists the team's namespaces that have series of selector,
// a metric{matchers} to which the team's namespace matcher is added.
// "All" is the team's own namespaces, not ".*": an SRE, whom Tollgate does
// not confine, still sees only this team's data on its dashboard.
func namespaceVar(label, scope, metric string, matchers ...string) sdk.TemplateVar {
	ms := append([]string{re(label, scope)}, matchers...)
	return queryVar("namespace", "Namespace", "label_values("+metric+"{"+strings.Join(ms, ", ")+"}, "+label+")", scope)
}
