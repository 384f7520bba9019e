package promproxy

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/tollgate-dev/tollgate/proxy"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// serveFiltered forwards a rules or alerts request and returns only what
// belongs to the caller's scope. These are the only responses Tollgate
// re-serialises; every other one streams through untouched.
func (h *Handler) serveFiltered(w http.ResponseWriter, c *proxy.Call) *proxy.Error {
	out, cancel, perr := proxy.Outbound(h.backend, c)
	if perr != nil {
		return perr
	}
	defer cancel()
	// Without our own Accept-Encoding the transport negotiates gzip and
	// decompresses transparently.
	out.Header.Del("Accept-Encoding")
	resp, err := h.up.Do(out)
	if err != nil {
		h.up.Error(w, c.Request, err)
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		if err := h.up.Screen(resp); err != nil {
			h.up.Error(w, c.Request, err)
			return nil
		}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, h.opts.MaxFilteredBytes+1))
	if err != nil {
		h.up.Error(w, c.Request, err)
		return nil
	}
	if perr := h.checkFilteredSize(c, body); perr != nil {
		return perr
	}
	if resp.StatusCode != http.StatusOK {
		// Errors carry no rules or alerts; pass them on as they are.
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(body)
		return nil
	}
	filtered, err := filterBody(c.Route.Name, body, newView(c.Access))
	if err != nil {
		// Fail closed: a response we cannot read is not passed on.
		h.opts.Logger.ErrorContext(c.Request.Context(), "cannot filter upstream response", "route", c.Route.Name, "err", err)
		e := proxy.Errorf(http.StatusBadGateway, "cannot filter the upstream %s response: %v", c.Route.Name, err)
		e.Type = ErrInternal
		return e
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(filtered)
	return nil
}

// checkFilteredSize refuses an answer over MaxFilteredBytes.
func (h *Handler) checkFilteredSize(c *proxy.Call, body []byte) *proxy.Error {
	limit := h.opts.MaxFilteredBytes
	if int64(len(body)) <= limit {
		return nil
	}
	h.opts.Logger.WarnContext(c.Request.Context(), "upstream answer too large to filter", "route", c.Route.Name, "limit", limit)
	e := proxy.Errorf(http.StatusBadGateway, "the upstream %s answer is larger than %d bytes (proxy.max_filtered_response_bytes), too large to filter; ask with narrower parameters (rule_group[], match[], exclude_alerts=true)", c.Route.Name, limit)
	e.Type = ErrInternal
	return e
}

// view is what a caller may see: its namespaces and, for a tenant
// confined to clusters, its clusters.
type view struct {
	scope    tenancy.Scope
	clusters tenancy.Scope // empty when not confined
}

func newView(a tenancy.Access) view {
	v := view{scope: a.Scope}
	if a.ClusterConfined() {
		v.clusters = a.Clusters
	}
	return v
}

// owns reports whether labels put an item in the caller's namespaces and,
// when it is confined to clusters, in its clusters. An item without the
// cluster label belongs to no cluster, so a confined caller never sees it.
func (v view) owns(ls map[string]string) bool { return v.ownsIn(ls, "") }

// ownsIn is owns for an alert of a rule whose static labels put it in
// cluster: Thanos adds a cluster's external labels to its rules' labels
// but not to their alerts', and an alert is in its rule's cluster unless
// it carries a cluster label of its own.
func (v view) ownsIn(ls map[string]string, cluster string) bool {
	if !v.scope.Matches(ls[v.scope.Label()]) {
		return false
	}
	if v.clusters.Empty() {
		return true
	}
	if cl, ok := ls[v.clusters.Label()]; ok {
		cluster = cl
	}
	return v.clusters.Matches(cluster)
}

// foreign reports whether static labels put a rule outside the caller's
// view whatever its alerts say: another namespace, or another cluster.
func (v view) foreign(ls map[string]string) bool {
	if ns, ok := ls[v.scope.Label()]; ok && !v.scope.Matches(ns) {
		return true
	}
	if v.clusters.Empty() {
		return false
	}
	cl, ok := ls[v.clusters.Label()]
	return ok && !v.clusters.Matches(cl)
}

// filterBody keeps what a caller may see of a rules or alerts answer.
func filterBody(route string, body []byte, v view) ([]byte, error) {
	if route == "/api/v1/rules" {
		return filterResponse(body, "groups", func(raw json.RawMessage) (json.RawMessage, error) {
			return filterGroups(raw, v)
		})
	}
	return filterResponse(body, "alerts", func(raw json.RawMessage) (json.RawMessage, error) {
		alerts, _, err := filterAlerts(raw, v, "")
		return alerts, err
	})
}

type object = map[string]json.RawMessage

// filterResponse replaces data[key] of a Prometheus API response with
// f(data[key]), keeping every other field (warnings, groupNextToken, and
// whatever later versions add) as it was.
func filterResponse(body []byte, key string, f func(json.RawMessage) (json.RawMessage, error)) ([]byte, error) {
	var top object
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, fmt.Errorf("decoding response: %w", err)
	}
	var status string
	if err := json.Unmarshal(top["status"], &status); err != nil || status != "success" {
		return nil, fmt.Errorf("response status is %s, not \"success\"", top["status"])
	}
	var data object
	if err := json.Unmarshal(top["data"], &data); err != nil {
		return nil, fmt.Errorf("decoding data: %w", err)
	}
	raw, ok := data[key]
	if !ok {
		return nil, fmt.Errorf("data has no %q field", key)
	}
	replaced, err := f(raw)
	if err != nil {
		return nil, err
	}
	data[key] = replaced
	if top["data"], err = json.Marshal(data); err != nil {
		return nil, err
	}
	return json.Marshal(top)
}

// filterGroups keeps, in each rule group, the rules a tenant may see:
//   - rules whose static labels put them in the tenant's namespaces, and
//   - alerting rules without that static label (platform-wide rules) that have
//     alerts in the tenant's namespaces, reduced to those alerts and with
//     their state recomputed from them, so that another namespace's firing
//     alert does not show through the rule's state.
//
// Groups left without rules are dropped.
func filterGroups(raw json.RawMessage, v view) (json.RawMessage, error) {
	var groups []object
	if err := json.Unmarshal(raw, &groups); err != nil {
		return nil, fmt.Errorf("decoding rule groups: %w", err)
	}
	kept := []object{}
	for _, g := range groups {
		var rules []object
		if err := json.Unmarshal(g["rules"], &rules); err != nil {
			return nil, fmt.Errorf("decoding rules: %w", err)
		}
		var keptRules []object
		for _, rule := range rules {
			ok, err := filterRule(rule, v)
			if err != nil {
				return nil, err
			}
			if ok {
				keptRules = append(keptRules, rule)
			}
		}
		if len(keptRules) == 0 {
			continue
		}
		b, err := json.Marshal(keptRules)
		if err != nil {
			return nil, err
		}
		g["rules"] = b
		kept = append(kept, g)
	}
	return json.Marshal(kept)
}

// filterRule reports whether a rule is visible and, for alerting rules,
// reduces its alerts in place.
func filterRule(rule object, v view) (bool, error) {
	var typ string
	var ruleLabels map[string]string
	if err := field(rule, "type", &typ); err != nil {
		return false, err
	}
	if err := field(rule, "labels", &ruleLabels); err != nil {
		return false, err
	}
	if v.foreign(ruleLabels) {
		return false, nil
	}
	// A rule is the caller's by its static labels only if they name both
	// its namespace and (when confined) its cluster; otherwise only its
	// alerts can make it visible.
	hasStatic := v.owns(ruleLabels)
	if typ != "alerting" {
		return hasStatic, nil
	}
	alertsRaw, hasAlerts := rule["alerts"]
	if !hasAlerts || string(alertsRaw) == "null" {
		// exclude_alerts=true: only the static label can decide.
		return hasStatic, nil
	}
	alerts, states, err := filterAlerts(alertsRaw, v, ruleLabels[v.clusters.Label()])
	if err != nil {
		return false, err
	}
	if !hasStatic && len(states) == 0 {
		return false, nil
	}
	rule["alerts"] = alerts
	state := "inactive"
	for _, s := range states {
		if s == "firing" {
			state = "firing"
			break
		}
		if s == "pending" {
			state = "pending"
		}
	}
	if rule["state"], err = json.Marshal(state); err != nil {
		return false, err
	}
	return true, nil
}

// field decodes o[key] into v; a missing key leaves v as it is.
func field(o object, key string, v any) error {
	raw, ok := o[key]
	if !ok {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decoding %q: %w", key, err)
	}
	return nil
}

// filterAlerts keeps the alerts whose labels put them in the caller's
// view and returns their states; cluster is the cluster of their rule,
// "" outside a rule.
func filterAlerts(raw json.RawMessage, v view, cluster string) (json.RawMessage, []string, error) {
	var alerts []object
	if err := json.Unmarshal(raw, &alerts); err != nil {
		return nil, nil, fmt.Errorf("decoding alerts: %w", err)
	}
	kept := []object{}
	var states []string
	for _, a := range alerts {
		var state string
		var alertLabels map[string]string
		if err := field(a, "state", &state); err != nil {
			return nil, nil, err
		}
		if err := field(a, "labels", &alertLabels); err != nil {
			return nil, nil, err
		}
		if v.ownsIn(alertLabels, cluster) {
			kept = append(kept, a)
			states = append(states, state)
		}
	}
	b, err := json.Marshal(kept)
	return b, states, err
}
