package rules

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/tollgate-dev/tollgate/promenforce"
	"github.com/tollgate-dev/tollgate/slo/spec"
)

// windowPlaceholder is what query templates have where a range goes.
const windowPlaceholder = "{{.window}}"

// sentinel stands in for {{.window}} while a template is parsed and
// rewritten as PromQL. It is a duration in the form Prometheus prints
// durations, so that it survives parse and print unchanged, and an unlikely
// one, so that it cannot be mistaken for a duration the user wrote.
var sentinel = model.Duration(11*365*24*time.Hour + 3*7*24*time.Hour + 5*24*time.Hour + 13*time.Hour + 47*time.Minute + 29*time.Second + 613*time.Millisecond).String()

// Scoper confines SLI query templates to a tenant with the proxy's own
// rewriter, so that a team's generated rules read exactly what the team
// could read through the gateway.
type Scoper struct {
	enforcer *promenforce.Enforcer
	matcher  *labels.Matcher
}

// NewScoper returns a Scoper that ANDs m into every selector.
func NewScoper(e *promenforce.Enforcer, m *labels.Matcher) *Scoper {
	return &Scoper{enforcer: e, matcher: m}
}

// Template confines every selector of a query template (a PromQL query
// with {{.window}} placeholders) and returns the confined template, printed
// by Prometheus's printer.
//
// The template is rendered with a sentinel duration, rewritten by the
// enforcer (which parses, rewrites, prints and verifies the printed query
// by parsing it again), and the sentinel is turned back into the
// placeholder. Every step is checked: the sentinel must not occur in the
// template, must come out as often as it went in, and the result must
// render back to exactly what the enforcer printed.
func (s *Scoper) Template(tpl string) (string, error) {
	if strings.Contains(tpl, sentinel) {
		return "", fmt.Errorf("the query contains the duration %s, which the generator reserves", sentinel)
	}
	rendered, err := spec.Render(tpl, sentinel)
	if err != nil {
		return "", err
	}
	want := strings.Count(rendered, sentinel)
	out, err := s.enforcer.Query(rendered, s.matcher)
	if err != nil {
		return "", fmt.Errorf("confining the query to the tenant: %w", err)
	}
	if got := strings.Count(out, sentinel); got != want {
		return "", fmt.Errorf("confining the query to the tenant: %d of %d {{.window}} placeholders survived the rewrite of %q", got, want, out)
	}
	scoped := strings.ReplaceAll(out, sentinel, windowPlaceholder)
	back, err := spec.Render(scoped, sentinel)
	if err != nil || back != out {
		return "", fmt.Errorf("confining the query to the tenant: the rewritten query %q is not a template of itself (template delimiters in a string?)", out)
	}
	return scoped, nil
}
