package amproxy

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/prometheus/alertmanager/matcher/parse"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/tollgate-dev/tollgate/proxy"
)

// The query parameters each read route accepts; filter may repeat.
func alertParams() []string {
	return []string{"filter", "active", "silenced", "inhibited", "unprocessed", "receiver"}
}

func groupParams() []string {
	return []string{"filter", "active", "silenced", "inhibited", "muted", "receiver"}
}

// maxFilters bounds the filter= matchers of one request.
const maxFilters = 64

// readQuery reads a route's query string: known parameters only, each
// once except filter, and every filter parsed with Alertmanager's matcher
// syntax (UTF-8 label names quoted included) and printed again, so that
// Alertmanager reads exactly what was checked. For tenants, confine adds
// the tenant's matcher to the filters.
func readQuery(r *http.Request, allowed []string, confine *labels.Matcher) (url.Values, *proxy.Error) {
	if strings.Contains(r.URL.RawQuery, ";") {
		return nil, proxy.BadData("the query string contains ';'; encode it as %%3B")
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, proxy.BadData("malformed query string: %v", err)
	}
	for k, vs := range q {
		switch {
		case !slices.Contains(allowed, k):
			return nil, proxy.BadData("parameter %q is not supported by Tollgate on this endpoint; it accepts %s", k, strings.Join(allowed, ", "))
		case k != "filter" && len(vs) > 1:
			return nil, proxy.BadData("parameter %q is given %d times; send it once", k, len(vs))
		}
	}
	if len(q["filter"]) > maxFilters {
		return nil, proxy.BadData("%d filter= matchers; at most %d are accepted", len(q["filter"]), maxFilters)
	}
	filters := make([]string, 0, len(q["filter"])+1)
	for _, f := range q["filter"] {
		m, err := parse.Matcher(f)
		if err != nil {
			return nil, proxy.BadData("filter %q is not an Alertmanager matcher: %v", f, err)
		}
		filters = append(filters, m.String())
	}
	if confine != nil {
		filters = append(filters, amMatcher(confine).String())
	}
	delete(q, "filter")
	if len(filters) > 0 {
		q["filter"] = filters
	}
	return q, nil
}

// amMatcher is the Alertmanager form of a tenant's matcher, which is an
// equality or an anchored alternation of escaped namespaces.
func amMatcher(m *labels.Matcher) *amlabels.Matcher {
	t := amlabels.MatchEqual
	if m.Type == labels.MatchRegexp {
		t = amlabels.MatchRegexp
	}
	// Type and name are fixed and the value a valid regex (tenancy builds
	// it), so there is nothing left to fail.
	out, err := amlabels.NewMatcher(t, m.Name, m.Value)
	if err != nil {
		panic("amproxy: tenant matcher " + m.String() + ": " + err.Error())
	}
	return out
}
