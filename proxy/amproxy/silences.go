package amproxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"

	"github.com/tollgate-dev/tollgate/proxy"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// silence is the part of a silence Tollgate reads.
type silence struct {
	Matchers []matcher `json:"matchers"`
}

// postableSilence is a silence as clients post it. Fields are listed so
// that an unknown one is refused; the dates are passed on as written, for
// Alertmanager to validate.
type postableSilence struct {
	ID        string          `json:"id,omitempty"`
	Matchers  []matcher       `json:"matchers"`
	StartsAt  json.RawMessage `json:"startsAt,omitempty"`
	EndsAt    json.RawMessage `json:"endsAt,omitempty"`
	CreatedBy string          `json:"createdBy"`
	Comment   string          `json:"comment"`
}

// serveSilences answers GET (the tenant's silences) and POST (create or
// update one) on /api/v2/silences.
func (h *Handler) serveSilences(w http.ResponseWriter, c *proxy.Call) *proxy.Error {
	switch c.Request.Method {
	case http.MethodGet:
		return h.listSilences(w, c)
	case http.MethodPost:
		return h.postSilence(w, c)
	}
	return methodNotAllowed(c.Request.Method, http.MethodGet, http.MethodPost)
}

func (h *Handler) listSilences(w http.ResponseWriter, c *proxy.Call) *proxy.Error {
	q, err := readQuery(c.Request, []string{"filter"}, nil)
	if err != nil {
		return err
	}
	body, ok := h.fetchToFilter(w, c, q)
	if !ok {
		return nil
	}
	var all []json.RawMessage
	if err := json.Unmarshal(body, &all); err != nil {
		return decodeError("silences", err)
	}
	kept := []json.RawMessage{}
	for _, raw := range all {
		var s silence
		if err := json.Unmarshal(raw, &s); err != nil {
			return decodeError("silences", err)
		}
		if silenceMine(s.Matchers, h.opts.Label, c.Access) {
			kept = append(kept, raw)
		}
	}
	body, merr := json.Marshal(kept)
	if merr != nil {
		return decodeError("silences", merr)
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// postSilence creates or updates a silence. A tenant's silence must be
// confined to its namespaces (or is given its only one), and an update
// must be of a silence that is already the tenant's. createdBy is always
// the authenticated user. The silence is posted re-encoded from what was
// checked.
func (h *Handler) postSilence(w http.ResponseWriter, c *proxy.Call) *proxy.Error {
	s, perr := h.readSilence(c.Request)
	if perr != nil {
		return perr
	}
	if s.ID != "" {
		if owned := h.ownSilence(w, c, s.ID); !owned {
			return nil
		}
	}
	if !c.Access.Admin {
		ms, err := confineSilence(s.Matchers, h.opts.Label, c.Access)
		if err != nil {
			return err
		}
		s.Matchers = ms
	}
	user := proxy.User(c.Request.Context())
	if user == "" {
		return proxy.Forbidden("the request has no authenticated user name to put in the silence's createdBy")
	}
	s.CreatedBy = user
	body, err := json.Marshal(s)
	if err != nil {
		return proxy.Errorf(http.StatusInternalServerError, "encoding the silence: %v", err)
	}
	if a := h.fetch(w, c, http.MethodPost, c.Path, nil, body); a != nil {
		pass(w, a)
	}
	return nil
}

// readSilence reads a posted silence: JSON, at most MaxBodyBytes, no
// unknown field, nothing after it.
func (h *Handler) readSilence(r *http.Request) (*postableSilence, *proxy.Error) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, proxy.Errorf(http.StatusUnsupportedMediaType, "content type %q is not supported; post the silence as application/json", r.Header.Get("Content-Type"))
	}
	raw, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, h.opts.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			return nil, proxy.Errorf(http.StatusRequestEntityTooLarge, "the silence is larger than %d bytes (proxy.max_body_bytes)", h.opts.MaxBodyBytes)
		case errors.Is(err, os.ErrDeadlineExceeded):
			return nil, proxy.Errorf(http.StatusRequestTimeout, "the request body did not arrive in time (proxy.body_read_timeout)")
		}
		return nil, proxy.BadData("reading the silence: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var s postableSilence
	if err := dec.Decode(&s); err != nil {
		return nil, proxy.BadData("the silence is not valid JSON of Alertmanager's postableSilence: %v", err)
	}
	if dec.More() {
		return nil, proxy.BadData("the body has more than one JSON value; post one silence")
	}
	if s.ID != "" && !silenceIDRE.MatchString(s.ID) {
		return nil, proxy.BadData("silence id %q is not a silence ID", s.ID)
	}
	return &s, nil
}

// ownSilence fetches silence id and reports whether the caller may change
// it: admins any, tenants only one confined to their namespaces. When it
// reports false, the answer has been written (403, or Alertmanager's own,
// such as 404).
func (h *Handler) ownSilence(w http.ResponseWriter, c *proxy.Call, id string) bool {
	a := h.fetch(w, c, http.MethodGet, "/api/v2/silence/"+id, nil, nil)
	if a == nil {
		return false
	}
	if a.status != http.StatusOK {
		pass(w, a)
		return false
	}
	if c.Access.Admin {
		return true
	}
	var s silence
	if err := json.Unmarshal(a.body, &s); err != nil {
		h.WriteError(w, decodeError("silence", err))
		return false
	}
	if !silenceMine(s.Matchers, h.opts.Label, c.Access) {
		h.WriteError(w, notYours(id, h.opts.Label, c.Access))
		return false
	}
	return true
}

// serveSilence answers GET and DELETE (expire) of one silence, the
// caller's own only.
func (h *Handler) serveSilence(w http.ResponseWriter, c *proxy.Call) *proxy.Error {
	method := c.Request.Method
	if method != http.MethodGet && method != http.MethodDelete {
		return methodNotAllowed(method, http.MethodGet, http.MethodDelete)
	}
	if c.Request.URL.RawQuery != "" {
		return proxy.BadData("this endpoint takes no parameters")
	}
	id := strings.TrimPrefix(c.Path, "/api/v2/silence/")
	if method == http.MethodGet {
		return h.getSilence(w, c, id)
	}
	if owned := h.ownSilence(w, c, id); !owned {
		return nil
	}
	if a := h.fetch(w, c, http.MethodDelete, c.Path, nil, nil); a != nil {
		pass(w, a)
	}
	return nil
}

func (h *Handler) getSilence(w http.ResponseWriter, c *proxy.Call, id string) *proxy.Error {
	body, ok := h.fetchToFilter(w, c, nil)
	if !ok {
		return nil
	}
	var s silence
	if err := json.Unmarshal(body, &s); err != nil {
		return decodeError("silence", err)
	}
	if !silenceMine(s.Matchers, h.opts.Label, c.Access) {
		return notYours(id, h.opts.Label, c.Access)
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// notYours refuses a silence that silenceMine does not give the caller.
func notYours(id, label string, a tenancy.Access) *proxy.Error {
	msg := fmt.Sprintf("silence %s is not yours: its matchers do not confine %q to your namespaces (%s)", id, label, strings.Join(a.Scope.Namespaces(), ", "))
	if a.ClusterConfined() {
		msg += fmt.Sprintf(" and %q to your clusters (%s)", a.Clusters.Label(), strings.Join(a.Clusters.Namespaces(), ", "))
	}
	return proxy.Forbidden("%s", msg)
}
