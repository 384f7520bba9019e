package amproxy

import (
	"encoding/json"
	"net/http"

	"github.com/tollgate-dev/tollgate/proxy"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// serveAlerts answers GET /api/v2/alerts with the tenant's alerts only.
// Admins may also post alerts, as Prometheus does.
func (h *Handler) serveAlerts(w http.ResponseWriter, c *proxy.Call) *proxy.Error {
	if c.Request.Method == http.MethodPost {
		if !c.Access.Admin {
			return proxy.Forbidden("posting alerts is for admins (Prometheus and the rulers post them); tenants read theirs with GET %s/api/v2/alerts", Prefix)
		}
		return h.passAdmin(w, c)
	}
	return h.serveFiltered(w, c, alertParams(), "alerts", filterAlerts)
}

// serveGroups answers GET /api/v2/alerts/groups with groups rebuilt from
// the tenant's alerts; a group left without any is dropped.
func (h *Handler) serveGroups(w http.ResponseWriter, c *proxy.Call) *proxy.Error {
	return h.serveFiltered(w, c, groupParams(), "alert groups", filterGroups)
}

type filterFunc func(body []byte, label string, a tenancy.Access) ([]byte, error)

// serveFiltered reads the query, adds the tenant's matcher to the filters,
// asks Alertmanager, and keeps what the tenant may see of the answer. The
// filter narrows what Alertmanager returns; the answer is filtered all the
// same, so that nothing depends on Alertmanager reading the filter as
// Tollgate does.
func (h *Handler) serveFiltered(w http.ResponseWriter, c *proxy.Call, params []string, what string, filter filterFunc) *proxy.Error {
	if c.Request.Method != http.MethodGet {
		return methodNotAllowed(c.Request.Method, http.MethodGet)
	}
	q, err := readQuery(c.Request, params, c.Access.Scope.Matcher())
	if err != nil {
		return err
	}
	body, ok := h.fetchToFilter(w, c, q)
	if !ok {
		return nil
	}
	filtered, ferr := filter(body, h.opts.Label, c.Access)
	if ferr != nil {
		return decodeError(what, ferr)
	}
	writeJSON(w, http.StatusOK, filtered)
	return nil
}

// alertLabels is the part of an alert the filter reads.
type alertLabels struct {
	Labels map[string]string `json:"labels"`
}

// keepAlerts keeps the alerts whose label is one of the caller's
// namespaces and, for a tenant confined to clusters, whose cluster label is
// one of its clusters; an alert without the label belongs to no tenant,
// and one without the cluster label to no confined tenant.
func keepAlerts(alerts []json.RawMessage, label string, a tenancy.Access) ([]json.RawMessage, error) {
	kept := []json.RawMessage{}
	for _, raw := range alerts {
		var al alertLabels
		if err := json.Unmarshal(raw, &al); err != nil {
			return nil, err
		}
		if owns(al.Labels, label, a) {
			kept = append(kept, raw)
		}
	}
	return kept, nil
}

func filterAlerts(body []byte, label string, a tenancy.Access) ([]byte, error) {
	var alerts []json.RawMessage
	if err := json.Unmarshal(body, &alerts); err != nil {
		return nil, err
	}
	kept, err := keepAlerts(alerts, label, a)
	if err != nil {
		return nil, err
	}
	return json.Marshal(kept)
}

// filterGroups rebuilds each group from the tenant's alerts, every other
// field (labels, receiver) kept as it is.
func filterGroups(body []byte, label string, a tenancy.Access) ([]byte, error) {
	var groups []map[string]json.RawMessage
	if err := json.Unmarshal(body, &groups); err != nil {
		return nil, err
	}
	kept := []map[string]json.RawMessage{}
	for _, g := range groups {
		var alerts []json.RawMessage
		if err := json.Unmarshal(g["alerts"], &alerts); err != nil {
			return nil, err
		}
		mine, err := keepAlerts(alerts, label, a)
		if err != nil {
			return nil, err
		}
		if len(mine) == 0 {
			continue
		}
		if g["alerts"], err = json.Marshal(mine); err != nil {
			return nil, err
		}
		kept = append(kept, g)
	}
	return json.Marshal(kept)
}

// owns reports whether an alert's labels put it in the caller's view.
func owns(ls map[string]string, label string, a tenancy.Access) bool {
	if !a.Scope.Matches(ls[label]) {
		return false
	}
	return !a.ClusterConfined() || a.Clusters.Matches(ls[a.Clusters.Label()])
}
