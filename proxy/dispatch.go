package proxy

import (
	"context"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/proxy/params"
	"github.com/tollgate-dev/tollgate/proxy/upstream"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// Dispatch answers a request whose caller is authenticated and resolved
// to access a: the part of the pipeline after Server.ServeHTTP's, the
// same for every API. Any step may refuse; the API renders the refusal.
func Dispatch(api API, w http.ResponseWriter, r *http.Request, a tenancy.Access) {
	if err := dispatch(api, w, r, a); err != nil {
		passageOf(r).refused(err)
		api.WriteError(w, err)
	}
}

func dispatch(api API, w http.ResponseWriter, r *http.Request, a tenancy.Access) *Error {
	if !canonical(r.URL.Path) {
		return BadData("the request path is not canonical")
	}
	if err := api.Admit(r, a); err != nil {
		return err
	}
	s := api.Settings()
	if b := s.Backend; a.Admin && b != nil {
		if pass, headers, timeout := b.Admin(r.URL.Path); pass {
			if err := admitAdmin(s, r, b, a); err != nil {
				return err
			}
			return forwardAdmin(b, w, r, a, headers, timeout)
		}
	}
	rt, upstreamPath, err := api.Route(r.URL.Path)
	if err != nil {
		return err
	}
	c := &Call{Request: r, Access: a, Route: rt, Path: upstreamPath}
	p := passageOf(r)
	if !rt.OwnsRequest {
		if err := readParams(s, c); err != nil {
			return err
		}
		p.noteSent(c.Params)
		if err := p.checkShape(s, c); err != nil {
			return err
		}
		if err := confine(s, c); err != nil {
			return err
		}
		p.noteEnforced(c.Params)
	}
	p.noteUpstream(s.Backend, c.Path)
	if rt.Serve != nil {
		return rt.Serve(w, c)
	}
	return Forward(s.Backend, w, c)
}

// canonical reports whether a path has no dot segments and no doubled
// slashes, which would let it mean one route here and another upstream. A
// single trailing slash is allowed: it names no other path (pages are
// asked for with it; no API route has it).
func canonical(p string) bool {
	return path.Clean(p) == strings.TrimSuffix(p, "/") || p == "/"
}

// readParams reads and checks the route's parameters (URL and form body
// merged, unknown and repeated ones refused).
func readParams(s *Settings, c *Call) *Error {
	ps, err := params.Read(c.Request, s.MaxBodyBytes)
	if err == nil {
		err = params.Check(ps, c.Route.Params, s.ExtraParams)
	}
	if err != nil {
		return Errorf(params.Status(err), "%s", err.Error())
	}
	c.Params = ps
	return nil
}

// Forward sends a confined call to the backend and streams the answer,
// error answers naming the backend's internals screened. Everything sent
// is built from the confined parameter set, the route's header allowlist
// and the backend's decoration: nothing of the client's request survives
// otherwise.
func Forward(b *Backend, w http.ResponseWriter, c *Call) *Error {
	if b.Cache != nil && c.Route.Cache != CacheNone {
		return b.Cache.Serve(w, c, b)
	}
	return ForwardDirect(b, w, c)
}

// ForwardDirect is Forward without the cache.
func ForwardDirect(b *Backend, w http.ResponseWriter, c *Call) *Error {
	if c.Route.Stream {
		out, cancel, err := Outbound(b, c)
		if err != nil {
			return err
		}
		defer cancel()
		b.Upstream.ProxyStream(w, out)
		return nil
	}
	// The timeout goes with the request rather than into a context of
	// its own: the upstream applies it without a timer per request.
	out, err := outbound(c.Request.Context(), b, c)
	if err != nil {
		return err
	}
	b.Upstream.ProxyConfinedTimeout(w, out, b.Timeout)
	return nil
}

// Outbound builds the upstream request of a call. The caller sends it,
// then calls cancel.
func Outbound(b *Backend, c *Call) (*http.Request, func(), *Error) {
	timeout := b.Timeout
	if c.Route.Stream {
		timeout = 0
	}
	ctx, cancel := upstream.WithTimeout(c.Request.Context(), timeout)
	out, err := outbound(ctx, b, c)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	return out, cancel, nil
}

// outbound is Outbound under ctx.
func outbound(ctx context.Context, b *Backend, c *Call) (*http.Request, *Error) {
	r, rt := c.Request, c.Route
	method := r.Method
	if method == http.MethodPost && !rt.Post {
		method = http.MethodGet
	}
	out, err := b.Upstream.Request(ctx, method, c.Path, c.Params, r.Header, upstream.Forwarded(), rt.Headers)
	if err != nil {
		return nil, Errorf(http.StatusInternalServerError, "%s", err.Error())
	}
	b.Decorate(out, c.Access)
	return out, nil
}

// forwardAdmin passes an admin's request unrewritten: same path, query
// string and body, the same header allowlist plus the API's admin
// headers, so that identity headers never reach the backend.
func forwardAdmin(b *Backend, w http.ResponseWriter, r *http.Request, a tenancy.Access, headers []string, timeout time.Duration) *Error {
	ctx, cancel := upstream.WithTimeout(r.Context(), timeout)
	defer cancel()
	target := b.Upstream.URL(r.URL.Path)
	target.RawQuery = r.URL.RawQuery
	out, err := http.NewRequestWithContext(ctx, r.Method, target.String(), r.Body)
	if err != nil {
		return BadData("%s", err.Error())
	}
	out.ContentLength = r.ContentLength
	upstream.CopyHeaders(out.Header, r.Header, upstream.Forwarded())
	upstream.CopyHeaders(out.Header, r.Header, headers)
	upstream.KeepEncoding(out.Header)
	b.Decorate(out, a)
	b.Upstream.Proxy(w, out)
	return nil
}

// enforceError is 403 for what cannot be confined, 400 for the rest
// (invalid queries, queries over a bound).
func enforceError(e Enforcer, err error) *Error {
	if e.Refused(err) {
		return Forbidden("%s", err.Error())
	}
	return BadData("%s", err.Error())
}

// paramError names the parameter a bound refused.
func paramError(e Enforcer, name string, err error) *Error {
	return enforceError(e, fmt.Errorf("parameter %q: %w", name, err))
}
