package proxy

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
	m := c.Access.Scope.Matcher()
	switch q := ps.Get("query"); {
	case rt.Query == QueryBounded && q != "":
		if err := e.CheckBounds(q); err != nil {
			return paramError(e, "query", err)
		}
	case rt.Query == QueryOptional && q == "":
		ps.Set("query", e.MatchAll(m))
	case rt.Query == QueryRequired && q == "":
		return BadData(`parameter "query" is missing`)
	case rt.Query == QueryRequired || rt.Query == QueryOptional:
		enforced, err := e.Query(q, m)
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
		m := c.Access.Scope.Matcher()
		out := make([]string, 0, max(len(sels), 1))
		for _, sel := range sels {
			enforced, err := e.Selector(sel, m)
			if err != nil {
				return enforceError(e, err)
			}
			out = append(out, enforced)
		}
		if len(out) == 0 {
			out = append(out, e.MatchAll(m))
		}
		c.Params["match[]"] = out
	}
	return nil
}
