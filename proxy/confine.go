package proxy

import "github.com/prometheus/prometheus/model/labels"

// confine applies the route's rules to the parameters that carry the
// API's query language: every query and selector is confined with the
// tenant's matcher, or, where the backend reads it as written, held to
// the query bounds.
func confine(s *Settings, c *Call) *Error {
	rt, ps := c.Route, c.Params
	if rt.Prepare != nil {
		if err := rt.Prepare(ps); err != nil {
			return err
		}
	}
	e := s.Enforcer
	if e == nil {
		return nil
	}
	ms := tenantMatchers(c)
	switch q := ps.Get("query"); {
	case rt.Query == QueryBounded && q != "":
		if err := e.CheckBounds(q); err != nil {
			return paramError(e, "query", err)
		}
	case rt.Query == QueryOptional && q == "":
		sel, err := matchAll(e, ms)
		if err != nil {
			return enforceError(e, err)
		}
		ps.Set("query", sel)
	case rt.Query == QueryRequired && q == "":
		return BadData(`parameter "query" is missing`)
	case rt.Query == QueryRequired || rt.Query == QueryOptional:
		enforced, err := each(e.Query, q, ms)
		if err != nil {
			return enforceError(e, err)
		}
		s.Logger.DebugContext(c.Request.Context(), "query confined", "route", rt.Name, "query", q, "enforced", enforced)
		ps.Set("query", enforced)
	}
	return confineMatch(e, c)
}

// confineMatch applies the route's rule to match[].
func confineMatch(e Enforcer, c *Call) *Error {
	sels := c.Params["match[]"]
	switch c.Route.Match {
	case MatchBounded:
		for _, sel := range sels {
			if err := e.CheckBounds(sel); err != nil {
				return paramError(e, "match[]", err)
			}
		}
	case MatchConfined:
		ms := tenantMatchers(c)
		out := make([]string, 0, max(len(sels), 1))
		for _, sel := range sels {
			enforced, err := each(e.Selector, sel, ms)
			if err != nil {
				return enforceError(e, err)
			}
			out = append(out, enforced)
		}
		if len(out) == 0 {
			sel, err := matchAll(e, ms)
			if err != nil {
				return enforceError(e, err)
			}
			out = append(out, sel)
		}
		c.Params["match[]"] = out
	}
	return nil
}

// tenantMatchers are the matchers ANDed into every selector of the
// caller: the namespace matcher, then, for tenants confined to clusters,
// the cluster matcher. The enforcer is applied once per matcher, so each
// is enforced as strictly as the namespace matcher always was: a
// selector's own matchers on the label can only narrow it.
func tenantMatchers(c *Call) []*labels.Matcher {
	ms := []*labels.Matcher{c.Access.Scope.Matcher()}
	if c.Access.ClusterConfined() {
		ms = append(ms, c.Access.Clusters.Matcher())
	}
	return ms
}

// each confines q with every matcher in turn.
func each(confine func(string, *labels.Matcher) (string, error), q string, ms []*labels.Matcher) (string, error) {
	for _, m := range ms {
		var err error
		if q, err = confine(q, m); err != nil {
			return "", err
		}
	}
	return q, nil
}

// matchAll is the selector of everything the caller may read: the
// enforcer's match-all for the namespace matcher, confined by the others.
func matchAll(e Enforcer, ms []*labels.Matcher) (string, error) {
	return each(e.Selector, e.MatchAll(ms[0]), ms[1:])
}
