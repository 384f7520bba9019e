package promproxy

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// A rules response as Prometheus returns it, trimmed to the fields that
// matter plus some that must survive untouched.
const rulesBody = `{"status":"success","data":{"groups":[
 {"name":"payments","file":"/etc/rules/payments.yml","interval":30,"rules":[
   {"type":"recording","name":"ns:http:rate5m","query":"sum(rate(x[5m]))","labels":{"namespace":"team-a"},"health":"ok"},
   {"type":"alerting","name":"PaymentsDown","query":"up == 0","duration":60,"labels":{"namespace":"team-a","severity":"page"},"state":"firing",
    "alerts":[{"labels":{"alertname":"PaymentsDown","namespace":"team-a"},"state":"firing","value":"0"}],"health":"ok"}]},
 {"name":"victim","file":"/etc/rules/victim.yml","interval":30,"rules":[
   {"type":"recording","name":"victim:secret","query":"sum(secret)","labels":{"namespace":"victim"},"health":"ok"}]},
 {"name":"platform","file":"/etc/rules/platform.yml","interval":30,"rules":[
   {"type":"recording","name":"cluster:cpu","query":"sum(node_cpu)","health":"ok"},
   {"type":"alerting","name":"HighErrorRate","query":"err > 0.01","duration":0,"labels":{"severity":"ticket"},"state":"firing",
    "alerts":[
      {"labels":{"alertname":"HighErrorRate","namespace":"victim"},"state":"firing","value":"0.5"},
      {"labels":{"alertname":"HighErrorRate","namespace":"team-a"},"state":"pending","value":"0.02"}],"health":"ok"},
   {"type":"alerting","name":"VictimOnly","query":"x","labels":{},"state":"firing",
    "alerts":[{"labels":{"alertname":"VictimOnly","namespace":"victim"},"state":"firing","value":"1"}],"health":"ok"}]}
 ],"groupNextToken":"abc"},"warnings":["w1"]}`

type rulesResp struct {
	Status string `json:"status"`
	Data   struct {
		Groups []struct {
			Name  string `json:"name"`
			File  string `json:"file"`
			Rules []struct {
				Name   string `json:"name"`
				State  string `json:"state"`
				Alerts []struct {
					Labels map[string]string `json:"labels"`
				} `json:"alerts"`
			} `json:"rules"`
		} `json:"groups"`
		GroupNextToken string `json:"groupNextToken"`
	} `json:"data"`
	Warnings []string `json:"warnings"`
}

func TestRulesAreFiltered(t *testing.T) {
	h, up := newTestHandler(t, "")
	up.respond = func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			t.Errorf("filtered request should let the transport negotiate gzip, got %q", r.Header.Get("Accept-Encoding"))
		}
		_, _ = io.WriteString(w, rulesBody)
	}
	r := get("/api/v1/rules", nil)
	r.Header.Set("Accept-Encoding", "br")
	w, _ := serve(h, r, tenantAccess("team-a"))
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), "victim") {
		t.Errorf("response mentions the other namespace: %s", w.Body)
	}
	var got rulesResp
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range got.Data.Groups {
		for _, rule := range g.Rules {
			names = append(names, g.Name+"/"+rule.Name+"/"+rule.State)
		}
	}
	// HighErrorRate keeps only the team-a alert, and its state is that
	// alert's (pending), not the victim's (firing).
	want := "payments/ns:http:rate5m/ payments/PaymentsDown/firing platform/HighErrorRate/pending"
	if strings.Join(names, " ") != want {
		t.Errorf("rules = %s\nwant    %s", strings.Join(names, " "), want)
	}
	if got.Data.GroupNextToken != "abc" || len(got.Warnings) != 1 || got.Data.Groups[0].File != "/etc/rules/payments.yml" {
		t.Errorf("fields outside the filtered lists were lost: %+v", got)
	}
}

func TestAlertsAreFiltered(t *testing.T) {
	h, up := newTestHandler(t, "")
	up.respond = func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"status":"success","data":{"alerts":[
			{"labels":{"alertname":"A","namespace":"team-a"},"state":"firing","value":"1"},
			{"labels":{"alertname":"B","namespace":"victim"},"state":"firing","value":"1"},
			{"labels":{"alertname":"C"},"state":"firing","value":"1"}]}}`)
	}
	w, _ := serve(h, get("/api/v1/alerts", nil), tenantAccess("team-a"))
	var got struct {
		Data struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
			} `json:"alerts"`
		} `json:"data"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Data.Alerts) != 1 || got.Data.Alerts[0].Labels["alertname"] != "A" {
		t.Errorf("alerts = %+v, want only A", got.Data.Alerts)
	}
}

// A response Tollgate cannot understand is not passed on: it might be
// unfiltered data.
func TestFilterFailsClosed(t *testing.T) {
	for name, body := range map[string]string{
		"not json":     `<html>`,
		"wrong shape":  `{"status":"success","data":{"groups":{"a":1}}}`,
		"missing list": `{"status":"success","data":{}}`,
	} {
		h, up := newTestHandler(t, "")
		up.respond = func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, body) }
		w, e := serve(h, get("/api/v1/rules", nil), tenantAccess("team-a"))
		if w.Code != http.StatusBadGateway || e.Status != "error" {
			t.Errorf("%s: got %d %s, want 502", name, w.Code, w.Body)
		}
	}
}

func TestFilterPassesUpstreamErrors(t *testing.T) {
	h, up := newTestHandler(t, "")
	up.respond = func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"status":"error","errorType":"unavailable","error":"rule manager not ready"}`)
	}
	w, e := serve(h, get("/api/v1/rules", nil), tenantAccess("team-a"))
	if w.Code != http.StatusServiceUnavailable || e.Error != "rule manager not ready" {
		t.Errorf("got %d %+v", w.Code, e)
	}
}
