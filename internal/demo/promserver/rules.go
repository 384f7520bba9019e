package promserver

import (
	"fmt"
	"log/slog"
	"slices"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/tollgate-dev/tollgate/internal/demo/synth"
)

// rulesFileName is how the demo's rules appear in /api/v1/rules ("file").
const rulesFileName = "tollgate-demo.rules.yml"

// demoRules returns a rules file with both kinds of rule Tollgate filters
// differently: per-team recording rules that carry a static namespace label,
// and a platform-wide alerting rule without one, which tenants only see
// reduced to the alerts of their own namespaces.
func demoRules(c synth.Cluster) ([]byte, error) {
	var teams []string
	byTeam := map[string][]rulefmt.Rule{}
	for _, ns := range c.Namespaces {
		if ns.Team == "" {
			continue
		}
		if !slices.Contains(teams, ns.Team) {
			teams = append(teams, ns.Team)
		}
		byTeam[ns.Team] = append(byTeam[ns.Team], rulefmt.Rule{
			Record: "namespace:http_requests:rate5m",
			Expr:   fmt.Sprintf(`sum(rate(http_requests_total{namespace=%q}[5m]))`, ns.Name),
			Labels: map[string]string{"namespace": ns.Name, "team": ns.Team},
		})
	}
	var f rulefmt.RuleGroups
	for _, team := range teams {
		f.Groups = append(f.Groups, rulefmt.RuleGroup{Name: "team-" + team, Rules: byTeam[team]})
	}
	f.Groups = append(f.Groups, rulefmt.RuleGroup{
		Name: "platform",
		Rules: []rulefmt.Rule{{
			Alert: "HighErrorRate",
			// The synthetic cluster fails 1% of requests everywhere, so this
			// fires for every namespace at once: what a tenant then sees
			// shows the filtering.
			Expr:   `sum by (namespace) (rate(http_requests_total{code="500"}[5m])) / sum by (namespace) (rate(http_requests_total[5m])) > 0.005`,
			For:    model.Duration(0),
			Labels: map[string]string{"severity": "warning"},
			Annotations: map[string]string{
				"summary": `{{ $labels.namespace }} answers {{ $value | humanizePercentage }} of its requests with HTTP 500`,
			},
		}},
	})
	b, err := yaml.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("encoding the demo rules: %w", err)
	}
	return b, nil
}

// memoryRules is a rules.GroupLoader for one rules file held in memory, so
// that the demo writes nothing to disk but its TSDB. It still goes through
// rulefmt.Parse, so the rules are validated exactly like a file on disk.
type memoryRules struct {
	name    string
	content []byte
	parser  parser.Parser
	logger  *slog.Logger
}

// Load implements rules.GroupLoader.
func (m memoryRules) Load(identifier string, ignoreUnknownFields bool, scheme model.ValidationScheme) (*rulefmt.RuleGroups, []error) {
	if identifier != m.name {
		return nil, []error{fmt.Errorf("rules file %q: only %q exists in the demo", identifier, m.name)}
	}
	rgs, errs := rulefmt.Parse(m.content, ignoreUnknownFields, scheme, m.parser, m.logger)
	for i := range errs {
		errs[i] = fmt.Errorf("%s: %w", m.name, errs[i])
	}
	return rgs, errs
}

// Parse implements rules.GroupLoader.
func (m memoryRules) Parse(query string) (parser.Expr, error) {
	return m.parser.ParseExpr(query)
}
