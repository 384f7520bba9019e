package amproxy

import (
	"encoding/json"
	"net/http"

	"github.com/tollgate-dev/tollgate/proxy"
	"github.com/tollgate-dev/tollgate/proxy/upstream"
)

// serveStatus answers GET /api/v2/status. Admins get Alertmanager's; a
// tenant gets its version, uptime and cluster state only, with an empty
// configuration and no peers: the configuration names every team's
// receivers, routes and integration URLs. Grafana's data source test and
// its Alerting pages read this endpoint, so it is answered, not refused.
func (h *Handler) serveStatus(w http.ResponseWriter, c *proxy.Call) *proxy.Error {
	if c.Request.Method != http.MethodGet {
		return methodNotAllowed(c.Request.Method, http.MethodGet)
	}
	if c.Request.URL.RawQuery != "" {
		return proxy.BadData("this endpoint takes no parameters")
	}
	body, ok := h.fetchToFilter(w, c, nil)
	if !ok {
		return nil
	}
	var st struct {
		Cluster struct {
			Status string `json:"status"`
		} `json:"cluster"`
		Uptime      json.RawMessage `json:"uptime"`
		VersionInfo json.RawMessage `json:"versionInfo"`
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return decodeError("status", err)
	}
	type cluster struct {
		Status string   `json:"status"`
		Peers  []string `json:"peers"`
	}
	type config struct {
		Original string `json:"original"`
	}
	body, err := json.Marshal(struct {
		Cluster     cluster         `json:"cluster"`
		Config      config          `json:"config"`
		Uptime      json.RawMessage `json:"uptime"`
		VersionInfo json.RawMessage `json:"versionInfo"`
	}{cluster{st.Cluster.Status, []string{}}, config{}, st.Uptime, st.VersionInfo})
	if err != nil {
		return decodeError("status", err)
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// serveAdminOnly passes an admin's request to any other API v2 path
// (receivers, posting alerts) and refuses tenants.
func (h *Handler) serveAdminOnly(w http.ResponseWriter, c *proxy.Call) *proxy.Error {
	if !c.Access.Admin {
		return proxy.Forbidden("%s%s is for admins: it is not confined to namespaces (tenants may use %s/api/v2/alerts, /alerts/groups, /silences, /silence/{id} and /status)", Prefix, c.Path, Prefix)
	}
	return h.passAdmin(w, c)
}

// passAdmin sends an admin's request as it came, without the prefix: same
// method, query string, body and content type, and the usual header
// allowlist, so that identity headers never reach Alertmanager.
func (h *Handler) passAdmin(w http.ResponseWriter, c *proxy.Call) *proxy.Error {
	r := c.Request
	target := h.up.URL(c.Path)
	target.RawQuery = r.URL.RawQuery
	ctx, cancel := upstream.WithTimeout(r.Context(), h.opts.Timeout)
	defer cancel()
	out, err := http.NewRequestWithContext(ctx, r.Method, target.String(), r.Body)
	if err != nil {
		return proxy.BadData("%s", err.Error())
	}
	out.ContentLength = r.ContentLength
	for _, k := range append(upstream.Forwarded(), "Content-Type") {
		if v := r.Header.Values(k); len(v) > 0 {
			out.Header[http.CanonicalHeaderKey(k)] = v
		}
	}
	upstream.KeepEncoding(out.Header)
	h.up.Proxy(w, out)
	return nil
}
