package proxy

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/tollgate-dev/tollgate/limits"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// passage is what one request leaves along the pipeline for the audit
// trail (its parameters as sent and as enforced, the refusal, the
// upstream) and what Dispatch needs of the Server's limits. It travels in
// the request's context, so that it reaches Dispatch however the response
// writer is wrapped.
type passage struct {
	limits   *limits.Limiter
	auditing bool
	// loaded by the pipeline
	sent, enforced url.Values
	reason         string
	upstream       string
}

type passageKey struct{}

func withPassage(r *http.Request, p *passage) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), passageKey{}, p))
}

// passageOf returns the request's passage, or nil without audit trail and
// limits (and for a handler called directly, under test). A nil passage
// notes nothing and checks nothing.
func passageOf(r *http.Request) *passage {
	p, _ := r.Context().Value(passageKey{}).(*passage)
	return p
}

// refused notes why the pipeline refused the request.
func (p *passage) refused(e *Error) {
	if p != nil && p.reason == "" {
		p.reason = e.Msg
	}
}

// noteSent records the parameters as read, before they are confined.
func (p *passage) noteSent(ps url.Values) {
	if p != nil && p.auditing {
		p.sent = cloneValues(ps)
	}
}

// noteEnforced records the parameters as they go upstream. The set itself
// is kept, not a copy: it is final once confined, and the record is read
// only after the request has ended.
func (p *passage) noteEnforced(ps url.Values) {
	if p != nil && p.auditing {
		p.enforced = ps
	}
}

// noteUpstream records where the request goes.
func (p *passage) noteUpstream(b *Backend, path string) {
	if p != nil && p.auditing && b != nil && b.Upstream != nil {
		u := b.Upstream.URL(path)
		p.upstream = u.String()
	}
}

// admitAdmin notes an admin's request passed unrewritten, whose query
// parameters as sent are also as enforced, and holds them to
// tenancy.admin_limits' shape limits. Only the query string is read: a
// pass-through request's body goes upstream unread. Only parameters that
// describe a query are recorded; anything else in a query string (a token
// some client put there) never is.
func admitAdmin(s *Settings, r *http.Request, b *Backend, a tenancy.Access) *Error {
	p := passageOf(r)
	if p == nil {
		return nil
	}
	q := r.URL.Query()
	if p.limits != nil {
		// Which path takes a range is the route table's, not consulted
		// for admins: a range is checked where one is given.
		rt := &Route{}
		if q.Has("start") || q.Has("end") {
			rt.Params = []string{"start"}
		}
		c := &Call{Request: r, Access: a, Route: rt, Params: q}
		if err := p.checkShape(s, c); err != nil {
			return err
		}
	}
	if !p.auditing {
		return nil
	}
	ps := url.Values{}
	for k, vs := range q {
		if queryDescribing(k) {
			ps[k] = vs
		}
	}
	p.sent, p.enforced = ps, ps
	p.noteUpstream(b, r.URL.Path)
	return nil
}

// queryDescribing reports whether an admin's query parameter is recorded.
func queryDescribing(name string) bool {
	switch name {
	case "query", "match[]", "start", "end", "time", "step", "limit", "direction", "since", "interval", "timeout", "lookback_delta":
		return true
	}
	return false
}

// cloneValues copies the map of a parameter set, not its value slices:
// the pipeline replaces a parameter's slice (Set, confineMatch), never
// writes into one, so the copy keeps the values of the moment it was made
// while the writer reads it in the background.
func cloneValues(ps url.Values) url.Values {
	out := make(url.Values, len(ps))
	for k, vs := range ps {
		out[k] = vs
	}
	return out
}

// checkShape holds the request's range, points and limit to the caller's
// tenants' limits (400 naming the limit).
func (p *passage) checkShape(s *Settings, c *Call) *Error {
	if p == nil || p.limits == nil {
		return nil
	}
	r := p.limits.CheckShape(c.Access.TenantNames(), c.Access.Admin, limits.Request{
		Params:    c.Params,
		Ranged:    slices.Contains(c.Route.Params, "start"),
		LokiTimes: s.LokiTimes,
		Now:       time.Now(),
	})
	if r == nil {
		return nil
	}
	return limitError(r)
}

// admit takes the caller's tokens and concurrency slots; release gives
// the slots back when the request ends.
func admit(l *limits.Limiter, a tenancy.Access) (release func(), e *Error) {
	if l == nil {
		return func() {}, nil
	}
	release, r := l.Admit(a.TenantNames(), a.Admin)
	if r != nil {
		return nil, limitError(r)
	}
	return release, nil
}

func limitError(r *limits.Refusal) *Error {
	e := Errorf(r.Status, "%s", r.Msg)
	e.Header = r.Header()
	return e
}
