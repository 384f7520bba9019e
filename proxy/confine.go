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
	m, cl := c.Access.Scope.Matcher(), clusterMatcher(c)
	switch q := ps.Get("query"); {
	case rt.Query == QueryBounded && q != "":
		if err := e.CheckBounds(q); err != nil {
			return paramError(e, "query", err)
		}
	case rt.Query == QueryOptional && q == "":
		sel, err := matchAll(e, m, cl)
		if err != nil {
			return enforceError(e, err)
		}
		ps.Set("query", sel)
	case rt.Query == QueryRequired && q == "":
		return BadData(`parameter "query" is missing`)
	case rt.Query == QueryRequired || rt.Query == QueryOptional:
		enforced, err := e.Query(q, m)
		if err == nil && cl != nil {
			enforced, err = e.Query(enforced, cl)
		}
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
		m, cl := c.Access.Scope.Matcher(), clusterMatcher(c)
		out := make([]string, 0, max(len(sels), 1))
		for _, sel := range sels {
			enforced, err := e.Selector(sel, m)
			if err == nil && cl != nil {
				enforced, err = e.Selector(enforced, cl)
			}
			if err != nil {
				return enforceError(e, err)
			}
			out = append(out, enforced)
		}
		if len(out) == 0 {
			sel, err := matchAll(e, m, cl)
			if err != nil {
				return enforceError(e, err)
			}
			out = append(out, sel)
		}
		c.Params["match[]"] = out
	}
	return nil
}

// clusterMatcher is the cluster matcher ANDed after the namespace matcher
// for tenants confined to clusters, nil for everyone else. The enforcer
// is applied once per matcher, so each is enforced as strictly as the
// namespace matcher always was: a selector's own matchers on the label
// can only narrow it.
func clusterMatcher(c *Call) *labels.Matcher {
	if !c.Access.ClusterConfined() {
		return nil
	}
	return c.Access.Clusters.Matcher()
}

// matchAll is the selector of everything the caller may read: the
// enforcer's match-all for the namespace matcher, confined to the
// clusters when there is a cluster matcher.
func matchAll(e Enforcer, m, cl *labels.Matcher) (string, error) {
	sel := e.MatchAll(m)
	if cl == nil {
		return sel, nil
	}
	return e.Selector(sel, cl)
}
