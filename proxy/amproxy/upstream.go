package amproxy

import (
	"bytes"
	"io"
	"net/http"
	"net/url"

	"github.com/tollgate-dev/tollgate/proxy"
	"github.com/tollgate-dev/tollgate/proxy/upstream"
)

// answer is an Alertmanager answer read whole, to be filtered or checked.
type answer struct {
	status      int
	contentType string
	body        []byte
}

// fetch sends one request to Alertmanager and reads its answer, at most
// MaxFilteredBytes of it. An error answer naming Alertmanager's internals
// is screened, as for every API. When the request fails, fetch answers the
// client itself and returns nil.
func (h *Handler) fetch(w http.ResponseWriter, c *proxy.Call, method, path string, query url.Values, body []byte) *answer {
	ctx, cancel := upstream.WithTimeout(c.Request.Context(), h.opts.Timeout)
	defer cancel()
	target := h.up.URL(path)
	target.RawQuery = query.Encode()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	out, err := http.NewRequestWithContext(ctx, method, target.String(), rd)
	if err != nil {
		h.WriteError(w, proxy.Errorf(http.StatusInternalServerError, "building the Alertmanager request: %v", err))
		return nil
	}
	upstream.CopyHeaders(out.Header, c.Request.Header, upstream.Forwarded())
	// Without our own Accept-Encoding the transport negotiates gzip and
	// decompresses transparently.
	out.Header.Del("Accept-Encoding")
	if body != nil {
		out.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.up.Do(out)
	if err != nil {
		h.up.Error(w, c.Request, err)
		return nil
	}
	defer resp.Body.Close()
	if err := h.up.Screen(resp); err != nil {
		h.up.Error(w, c.Request, err)
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, h.opts.MaxFilteredBytes+1))
	if err != nil {
		h.up.Error(w, c.Request, err)
		return nil
	}
	if int64(len(b)) > h.opts.MaxFilteredBytes {
		h.WriteError(w, proxy.Errorf(http.StatusBadGateway, "the Alertmanager answer is larger than %d bytes (proxy.max_filtered_response_bytes), too large to filter; narrow it with filter= matchers", h.opts.MaxFilteredBytes))
		return nil
	}
	return &answer{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: b}
}

// fetchToFilter asks Alertmanager with a GET of the call's path and
// returns the body when it is a 200 for a tenant, which must be filtered;
// otherwise (an error answer, an admin's answer, or no answer) it has
// already been written as it came, and ok is false.
func (h *Handler) fetchToFilter(w http.ResponseWriter, c *proxy.Call, query url.Values) (body []byte, ok bool) {
	a := h.fetch(w, c, http.MethodGet, c.Path, query, nil)
	if a == nil {
		return nil, false
	}
	if a.status != http.StatusOK || c.Access.Admin {
		pass(w, a)
		return nil, false
	}
	return a.body, true
}

// pass writes an Alertmanager answer to the client as it came (an error
// answer, already screened, or one that needs no filtering).
func pass(w http.ResponseWriter, a *answer) {
	if a.contentType != "" {
		w.Header().Set("Content-Type", a.contentType)
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

// writeJSON writes a filtered answer.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// decodeError is a 502: an Alertmanager answer Tollgate cannot read is
// never passed on unfiltered.
func decodeError(what string, err error) *proxy.Error {
	return proxy.Errorf(http.StatusBadGateway, "cannot read Alertmanager's %s answer to filter it: %v", what, err)
}
