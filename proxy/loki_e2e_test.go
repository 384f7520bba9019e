package proxy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/gorilla/websocket"
	"github.com/grafana/loki/pkg/push"

	"github.com/tollgate-dev/tollgate/identity"
	"github.com/tollgate-dev/tollgate/internal/testkit/testenv"
)

// The Loki end-to-end test runs a real Loki v3.7.8 with auth_enabled and
// two tenants in distinct org IDs. The payments org also holds a stream
// labelled with checkout's namespace and one in kube-system: data that sits
// in the right org under the wrong label must stay invisible too.
const lokiGatewayYAML = `
upstreams: {prometheus: "http://127.0.0.1:1", loki: %[1]q}
tenancy:
  label: namespace
  admin_groups: [platform-sre]
  tenants:
    - {name: payments, groups: [team-payments], namespaces: [team-payments-prod, team-payments-staging], default_namespace: team-payments-prod}
    - {name: checkout, groups: [team-checkout], namespaces: ["team-checkout-*"], loki_org_id: checkout-org}
auth:
  trusted_headers: {user: X-Forwarded-User, groups: X-Forwarded-Groups, trusted_cidrs: [127.0.0.1/32]}
  tokens:
    - {name: ci, sha256: %[2]q, groups: [platform-sre]}
`

type lokiE2E struct {
	gateway, direct string
	start, end      time.Time
	client          *http.Client
}

type seedStream struct {
	org    string
	labels map[string]string
	lines  int
}

var lokiSeed = []seedStream{
	{"payments", map[string]string{"namespace": "team-payments-prod", "app": "api", "level": "info"}, 5},
	{"payments", map[string]string{"namespace": "team-payments-staging", "app": "api", "level": "error"}, 3},
	{"payments", map[string]string{"namespace": "team-checkout-prod", "app": "api", "level": "info"}, 7}, // wrong label in the payments org
	{"payments", map[string]string{"namespace": "kube-system", "app": "coredns"}, 11},
	{"checkout-org", map[string]string{"namespace": "team-checkout-prod", "app": "web", "level": "info"}, 13},
	{"checkout-org", map[string]string{"namespace": "team-payments-prod", "app": "api"}, 17}, // wrong label in the checkout org
}

func setupLokiE2E(t *testing.T) *lokiE2E {
	t.Helper()
	loki := testenv.StartLoki(t)
	gateway := startGateway(t, fmt.Sprintf(lokiGatewayYAML, loki.URL, identity.HashToken(adminToken)))
	e := &lokiE2E{gateway: gateway, direct: loki.URL, client: &http.Client{Timeout: 30 * time.Second}}
	e.start = time.Now().Add(-10 * time.Minute)
	for i, s := range lokiSeed {
		var values [][]string
		for j := 0; j < s.lines; j++ {
			ts := e.start.Add(time.Duration(i*100+j) * time.Second)
			values = append(values, []string{strconv.FormatInt(ts.UnixNano(), 10), fmt.Sprintf("level=%s seed %s line %d", s.labels["level"], s.labels["namespace"], j)})
		}
		body, _ := json.Marshal(map[string]any{"streams": []any{map[string]any{"stream": s.labels, "values": values}}})
		e.directPushJSON(t, s.org, body)
	}
	e.end = time.Now().Add(time.Minute)
	return e
}

func (e *lokiE2E) directPushJSON(t *testing.T, org string, body []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.direct+"/loki/api/v1/push", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Scope-OrgID", org)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("seeding org %s: %d %s", org, resp.StatusCode, b)
	}
}

func (e *lokiE2E) send(t *testing.T, base string, c caller, method, path string, params url.Values, headers ...string) (int, []byte) {
	t.Helper()
	u := base + path
	var body io.Reader
	if method == http.MethodGet {
		u += "?" + params.Encode()
	} else {
		body = strings.NewReader(params.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(c.headers); i += 2 {
		req.Header.Set(c.headers[i], c.headers[i+1])
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (e *lokiE2E) window() url.Values {
	return url.Values{"start": {strconv.FormatInt(e.start.Add(-time.Minute).UnixNano(), 10)}, "end": {strconv.FormatInt(time.Now().Add(time.Minute).UnixNano(), 10)}}
}

func (e *lokiE2E) data(t *testing.T, c caller, method, path string, params url.Values, headers ...string) json.RawMessage {
	t.Helper()
	code, body := e.send(t, e.gateway, c, method, path, params, headers...)
	if code != 200 {
		t.Fatalf("%s %s %v as %s: %d %s", method, path, params, c.name, code, body)
	}
	var r struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("%s %s: %v: %s", method, path, err, body)
	}
	if r.Data == nil {
		return body // endpoints such as index/stats answer without an envelope
	}
	return r.Data
}

// streams runs a log query and returns the number of lines per namespace.
func (e *lokiE2E) streams(t *testing.T, c caller, method, q string, headers ...string) map[string]int {
	t.Helper()
	p := e.window()
	p.Set("query", q)
	p.Set("limit", "1000")
	var d struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Stream map[string]string `json:"stream"`
			Values [][2]string       `json:"values"`
		} `json:"result"`
	}
	if err := json.Unmarshal(e.data(t, c, method, "/loki/api/v1/query_range", p, headers...), &d); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range d.Result {
		out[r.Stream["namespace"]] += len(r.Values)
	}
	return out
}

// metric runs a metric query and returns the value per namespace.
func (e *lokiE2E) metric(t *testing.T, c caller, q string) map[string]float64 {
	t.Helper()
	p := url.Values{"query": {q}, "time": {strconv.FormatInt(time.Now().UnixNano(), 10)}}
	var d struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := json.Unmarshal(e.data(t, c, http.MethodGet, "/loki/api/v1/query", p), &d); err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, r := range d.Result {
		v, _ := strconv.ParseFloat(r.Value[1].(string), 64)
		out[r.Metric["namespace"]] += v
	}
	return out
}

var checkoutCaller = caller{name: "checkout", headers: []string{"X-Forwarded-User", "bob", "X-Forwarded-Groups", "team-checkout"}}

func TestLokiE2E(t *testing.T) {
	e := setupLokiE2E(t)

	t.Run("log queries see only the tenant's namespaces in the tenant's org", func(t *testing.T) {
		for _, m := range methods {
			got := e.streams(t, payments, m, `{app=~".+"}`)
			if want := map[string]int{"team-payments-prod": 5, "team-payments-staging": 3}; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("payments %s: %v, want %v", m, got, want)
			}
			got = e.streams(t, checkoutCaller, m, `{namespace=~".+"} |= "seed"`)
			if want := map[string]int{"team-checkout-prod": 13}; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("checkout %s: %v, want %v", m, got, want)
			}
		}
	})

	t.Run("bypass attempts", func(t *testing.T) {
		for _, q := range []string{
			`{namespace="team-checkout-prod"}`,
			`{namespace="kube-system"}`,
			`{namespace!="team-payments-prod"} | label_format namespace="team-payments-staging"`,
			`{app="coredns"}`,
		} {
			got := e.streams(t, payments, http.MethodPost, q)
			for ns, n := range got {
				if ns != "team-payments-staging" || n != 3 {
					t.Errorf("%q returned %d lines of %s", q, n, ns)
				}
			}
		}
		// A forged X-Scope-OrgID is replaced by the tenant's own.
		got := e.streams(t, payments, http.MethodGet, `{app=~".+"}`, "X-Scope-OrgID", "checkout-org")
		if want := map[string]int{"team-payments-prod": 5, "team-payments-staging": 3}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("forged org: %v, want %v", got, want)
		}
	})

	t.Run("metric queries", func(t *testing.T) {
		got := e.metric(t, payments, `sum by (namespace) (count_over_time({app=~".+"} | logfmt [1h]))`)
		if fmt.Sprint(got) != fmt.Sprint(map[string]float64{"team-payments-prod": 5, "team-payments-staging": 3}) {
			t.Errorf("payments: %v", got)
		}
		got = e.metric(t, checkoutCaller, `sum(count_over_time({namespace=~".+"}[1h])) + sum(rate({app="web"}[1h])) * 0`)
		if got[""] != 13 {
			t.Errorf("checkout total %v, want 13", got)
		}
	})

	t.Run("absent_over_time keeps the labels of the tenant's own data", func(t *testing.T) {
		labelsOf := func(base string, c caller, q string, headers ...string) string {
			p := url.Values{"query": {q}, "time": {strconv.FormatInt(time.Now().UnixNano(), 10)}}
			code, body := e.send(t, base, c, http.MethodGet, "/loki/api/v1/query", p, headers...)
			var r struct {
				Data struct {
					Result []struct {
						Metric map[string]string `json:"metric"`
					} `json:"result"`
				} `json:"data"`
			}
			if code != 200 || json.Unmarshal(body, &r) != nil || len(r.Data.Result) != 1 {
				t.Fatalf("%s: %d %s", q, code, body)
			}
			return fmt.Sprint(r.Data.Result[0].Metric)
		}
		for _, q := range []string{
			`absent_over_time({namespace="team-payments-prod", app="gone"}[5m])`,
			`absent_over_time({app="gone"}[5m])`,
			`absent_over_time({app="gone", namespace="team-payments-staging", level="x"}[5m])`,
		} {
			// Loki itself, in the payments org: the tenant's own data.
			want := labelsOf(e.direct, caller{name: "direct"}, q, "X-Scope-OrgID", "payments")
			if got := labelsOf(e.gateway, payments, q); got != want {
				t.Errorf("%s: labels %s through Tollgate, %s on the tenant's own data", q, got, want)
			}
		}
	})

	t.Run("admin queries every org unrewritten", func(t *testing.T) {
		got := e.streams(t, admin, http.MethodGet, `{namespace=~".+"}`)
		// Both orgs, all labels: 5+3+7+11 from payments, 13+17 from checkout.
		if got["team-payments-prod"] != 5+17 || got["team-checkout-prod"] != 7+13 || got["kube-system"] != 11 {
			t.Errorf("admin: %v", got)
		}
	})

	t.Run("labels, label values and series", func(t *testing.T) {
		for _, m := range methods {
			var vals []string
			_ = json.Unmarshal(e.data(t, payments, m, "/loki/api/v1/label/namespace/values", e.window()), &vals)
			if !slices.Equal(vals, paymentsNS) {
				t.Errorf("%s namespace values: %v", m, vals)
			}
			var names []string
			_ = json.Unmarshal(e.data(t, checkoutCaller, m, "/loki/api/v1/labels", e.window()), &names)
			if !slices.Contains(names, "namespace") || slices.Contains(names, "__tenant_id__") {
				t.Errorf("%s labels: %v", m, names)
			}
			var series []map[string]string
			p := e.window()
			p["match[]"] = []string{`{app=~".+"}`, `{namespace="kube-system"}`}
			_ = json.Unmarshal(e.data(t, payments, m, "/loki/api/v1/series", p), &series)
			if len(series) != 2 {
				t.Errorf("%s series: %v", m, series)
			}
			for _, s := range series {
				if !slices.Contains(paymentsNS, s["namespace"]) {
					t.Errorf("%s: foreign series %v", m, s)
				}
			}
		}
	})

	t.Run("index stats and volume", func(t *testing.T) {
		p := e.window()
		p.Set("query", `{app=~".+"}`)
		// Loki counts index stats from flushed chunks only, and this test's
		// data is still in the ingester, so the answer is all zeros here;
		// lokiproxy's unit tests check the query it is sent is confined.
		var stats struct{ Streams, Chunks, Bytes, Entries *int }
		if err := json.Unmarshal(e.data(t, payments, http.MethodGet, "/loki/api/v1/index/stats", p), &stats); err != nil || stats.Streams == nil || stats.Entries == nil {
			t.Errorf("stats: %+v %v", stats, err)
		}
		for _, path := range []string{"/loki/api/v1/index/volume", "/loki/api/v1/index/volume_range"} {
			p := e.window()
			p.Set("query", `{namespace=~".+"}`)
			p.Set("targetLabels", "namespace")
			p.Set("step", "60")
			body := e.data(t, payments, http.MethodGet, path, p)
			if strings.Contains(string(body), "kube-system") || strings.Contains(string(body), "checkout") || !strings.Contains(string(body), "team-payments-prod") {
				t.Errorf("%s: %s", path, body)
			}
			// Without targetLabels, Loki groups by the selector's labels:
			// the tenant's own `app`, not the namespace Tollgate adds.
			p.Set("query", `{app="api"}`)
			p.Del("targetLabels")
			body = e.data(t, payments, http.MethodGet, path, p)
			if strings.Contains(string(body), `"namespace"`) || !strings.Contains(string(body), `"app":"api"`) {
				t.Errorf("%s grouped by more than the query's labels: %.300s", path, body)
			}
		}
	})

	t.Run("patterns and detected fields and labels answer", func(t *testing.T) {
		for _, path := range []string{"/loki/api/v1/patterns", "/loki/api/v1/detected_labels", "/loki/api/v1/detected_fields"} {
			p := e.window()
			p.Set("query", `{app=~".+"}`)
			if path == "/loki/api/v1/patterns" {
				p.Set("step", "60")
			}
			code, body := e.send(t, e.gateway, payments, http.MethodGet, path, p)
			if code != 200 || strings.Contains(string(body), "kube-system") || strings.Contains(string(body), "coredns") {
				t.Errorf("%s: %d %s", path, code, body)
			}
		}
	})

	t.Run("live tail", func(t *testing.T) {
		u := strings.Replace(e.gateway, "http://", "ws://", 1) + "/loki/api/v1/tail?" + url.Values{"query": {`{app=~".+"}`}}.Encode()
		hdr := http.Header{}
		hdr.Set("X-Forwarded-User", "alice")
		hdr.Set("X-Forwarded-Groups", "team-payments")
		hdr.Set("X-Scope-OrgID", "checkout-org") // forged: replaced
		conn, resp, err := websocket.DefaultDialer.Dial(u, hdr)
		if err != nil {
			body := ""
			if resp != nil {
				b, _ := io.ReadAll(resp.Body)
				body = string(b)
			}
			t.Fatalf("tail handshake: %v %s", err, body)
		}
		defer conn.Close()
		// The tailer subscribes to the ingester some time after the
		// handshake, and lines pushed before are not tailed: push a round
		// every second until payments' own line comes through.
		lines := make(chan []string)
		readErr := make(chan error, 1)
		done := make(chan struct{})
		defer close(done)
		go func() {
			for {
				var msg struct {
					Streams []struct {
						Stream map[string]string `json:"stream"`
						Values [][2]string       `json:"values"`
					} `json:"streams"`
				}
				if err := conn.ReadJSON(&msg); err != nil {
					readErr <- err
					return
				}
				var got []string
				for _, s := range msg.Streams {
					for _, v := range s.Values {
						got = append(got, v[1])
					}
				}
				select {
				case lines <- got:
				case <-done:
					return
				}
			}
		}()
		var seen []string
		deadline := time.After(30 * time.Second)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for round := 0; !slices.Contains(seen, "tailed team-payments-staging"); {
			select {
			case <-tick.C:
				if round < 20 {
					round++
					now := time.Now()
					for _, p := range []struct{ org, ns string }{{"checkout-org", "team-checkout-prod"}, {"payments", "kube-system"}, {"payments", "team-payments-staging"}} {
						body, _ := json.Marshal(map[string]any{"streams": []any{map[string]any{
							"stream": map[string]string{"namespace": p.ns, "app": "tail"},
							"values": [][]string{{strconv.FormatInt(now.UnixNano(), 10), "tailed " + p.ns}},
						}}})
						e.directPushJSON(t, p.org, body)
					}
				}
			case got := <-lines:
				seen = append(seen, got...)
			case err := <-readErr:
				t.Fatalf("reading tail after %v: %v", seen, err)
			case <-deadline:
				t.Fatalf("payments' line was not tailed within 30s; tailed %v", seen)
			}
		}
		for _, line := range seen {
			if strings.Contains(line, "checkout") || strings.Contains(line, "kube-system") {
				t.Errorf("tail showed a foreign line: %q (all: %v)", line, seen)
			}
		}
	})

	t.Run("push", func(t *testing.T) {
		push := func(c caller, contentType string, streams ...map[string]string) (int, string) {
			t.Helper()
			var body []byte
			ts := time.Now()
			if contentType == "application/json" {
				var ss []any
				for i, s := range streams {
					ss = append(ss, map[string]any{"stream": s, "values": [][]string{{strconv.FormatInt(ts.Add(time.Duration(i)).UnixNano(), 10), "pushed " + s["marker"]}}})
				}
				body, _ = json.Marshal(map[string]any{"streams": ss})
			} else {
				var req push.PushRequest
				for i, s := range streams {
					ls := make([]string, 0, len(s))
					for k, v := range s {
						ls = append(ls, fmt.Sprintf("%s=%q", k, v))
					}
					sort.Strings(ls)
					req.Streams = append(req.Streams, push.Stream{Labels: "{" + strings.Join(ls, ", ") + "}", Entries: []push.Entry{{Timestamp: ts.Add(time.Duration(i)), Line: "pushed " + s["marker"]}}})
				}
				raw, _ := req.Marshal()
				body = snappy.Encode(nil, raw)
			}
			r, _ := http.NewRequest(http.MethodPost, e.gateway+"/loki/api/v1/push", bytes.NewReader(body))
			r.Header.Set("Content-Type", contentType)
			r.Header.Set("X-Scope-OrgID", "checkout-org") // forged: ignored
			for i := 0; i+1 < len(c.headers); i += 2 {
				r.Header.Set(c.headers[i], c.headers[i+1])
			}
			resp, err := e.client.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		for _, ct := range []string{"application/json", "application/x-protobuf"} {
			foreign := "foreign-" + ct
			mixedOwn, mixedForeign := "mixed-own-"+ct, "mixed-foreign-"+ct
			valid, defaulted := "valid-"+ct, "defaulted-"+ct
			if code, msg := push(payments, ct, map[string]string{"namespace": "team-checkout-prod", "app": "evil", "marker": foreign}); code != 403 || !strings.Contains(msg, `namespace="team-checkout-prod"`) {
				t.Errorf("%s foreign push: %d %s", ct, code, msg)
			}
			code, msg := push(payments, ct, map[string]string{"namespace": "team-payments-prod", "app": "mixed", "marker": mixedOwn}, map[string]string{"namespace": "kube-system", "app": "mixed", "marker": mixedForeign})
			if code != 403 || !strings.Contains(msg, "kube-system") || !strings.Contains(msg, "nothing was written") {
				t.Errorf("%s mixed push: %d %s", ct, code, msg)
			}
			if code, msg := push(payments, ct, map[string]string{"namespace": "team-payments-staging", "app": "ok", "marker": valid}); code != 204 {
				t.Errorf("%s valid push: %d %s", ct, code, msg)
			}
			if code, msg := push(payments, ct, map[string]string{"app": "nolabel", "marker": defaulted}); code != 204 {
				t.Errorf("%s push without namespace: %d %s", ct, code, msg)
			}
			if code, msg := push(checkoutCaller, ct, map[string]string{"app": "nolabel", "marker": "checkout-default"}); code != 403 || !strings.Contains(msg, "default_namespace") {
				t.Errorf("%s checkout push without namespace: %d %s", ct, code, msg)
			}
			// What was refused is nowhere; what was accepted is readable by
			// its tenant only.
			all := e.rawLines(t, admin, `{app=~".+"}`)
			for _, m := range []string{foreign, mixedOwn, mixedForeign} {
				if slices.ContainsFunc(all, func(l string) bool { return strings.HasSuffix(l, " "+m) }) {
					t.Errorf("%s: refused line %q was written", ct, m)
				}
			}
			mine := e.rawLines(t, payments, `{app=~"ok|nolabel"}`)
			theirs := e.rawLines(t, checkoutCaller, `{app=~".+"}`)
			for _, m := range []string{valid, defaulted} {
				if !slices.Contains(mine, "pushed "+m) {
					t.Errorf("%s: payments cannot read its own push %q: %v", ct, m, mine)
				}
				if slices.Contains(theirs, "pushed "+m) {
					t.Errorf("%s: checkout reads payments' push %q", ct, m)
				}
			}
			if got := e.streams(t, payments, http.MethodGet, `{app="nolabel"}`); got["team-payments-prod"] == 0 {
				t.Errorf("%s: the stream without namespace did not get the default: %v", ct, got)
			}
		}
	})

	t.Run("refused endpoints", func(t *testing.T) {
		for _, p := range []string{"/api/prom/query", "/api/prom/label", "/api/prom/push", "/loki/api/v1/delete", "/loki/api/v1/rules", "/loki/api/v1/index/shards", "/otlp/v1/logs"} {
			code, body := e.send(t, e.gateway, payments, http.MethodGet, p, url.Values{"query": {`{app="api"}`}})
			if code != 403 {
				t.Errorf("%s: %d %s, want 403", p, code, body)
			}
		}
		if code, _ := e.send(t, e.gateway, anonymous, http.MethodGet, "/loki/api/v1/labels", nil); code != 401 {
			t.Errorf("anonymous: %d", code)
		}
	})

	// Finding 6: Loki v3.7.8 stores a stream labelled k8s.namespace, and
	// every later query that returns it fails with 500, for the tenant and
	// for admins. The gateway refuses such pushes, so the tenant's and the
	// admin's queries keep answering. (This runs last: on a gateway that
	// lets the push through, it would break the queries above too.)
	t.Run("poisoned label names are refused", func(t *testing.T) {
		ts := strconv.FormatInt(time.Now().UnixNano(), 10)
		var pb push.PushRequest
		pb.Streams = []push.Stream{{Labels: `{app="poison", "k8s.namespace"="team-payments-prod", namespace="team-payments-prod"}`, Entries: []push.Entry{{Timestamp: time.Now(), Line: "poisoned protobuf"}}}}
		raw, _ := pb.Marshal()
		for _, p := range []struct {
			name, contentType string
			body              []byte
			substr            string
		}{
			{"json stream label", "application/json", []byte(`{"streams":[{"stream":{"namespace":"team-payments-prod","app":"poison","k8s.namespace":"team-payments-prod"},"values":[["` + ts + `","poisoned json"]]}]}`), `label name "k8s.namespace"`},
			{"protobuf stream label", "application/x-protobuf", snappy.Encode(nil, raw), `label name "k8s.namespace"`},
			{"json structured metadata", "application/json", []byte(`{"streams":[{"stream":{"namespace":"team-payments-prod","app":"poison"},"values":[["` + ts + `","poisoned metadata",{"trace.id":"abc"}]]}]}`), `structured metadata name "trace.id"`},
		} {
			r, _ := http.NewRequest(http.MethodPost, e.gateway+"/loki/api/v1/push", bytes.NewReader(p.body))
			r.Header.Set("Content-Type", p.contentType)
			for i := 0; i+1 < len(payments.headers); i += 2 {
				r.Header.Set(payments.headers[i], payments.headers[i+1])
			}
			resp, err := e.client.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 400 || !strings.Contains(string(b), p.substr) {
				t.Errorf("%s: %d %s, want 400 naming %s", p.name, resp.StatusCode, b, p.substr)
			}
		}
		// e.data fails the test on anything but 200.
		for _, c := range []caller{payments, admin} {
			for _, l := range e.rawLines(t, c, `{namespace=~".+", app=~".+"}`) {
				if strings.HasPrefix(l, "poisoned") {
					t.Errorf("%s reads the refused line %q", c.name, l)
				}
			}
		}
	})
}

// rawLines returns every line a caller can read with a log query.
func (e *lokiE2E) rawLines(t *testing.T, c caller, q string) []string {
	t.Helper()
	p := e.window()
	p.Set("query", q)
	p.Set("limit", "5000")
	var d struct {
		Result []struct {
			Values [][2]string `json:"values"`
		} `json:"result"`
	}
	_ = json.Unmarshal(e.data(t, c, http.MethodGet, "/loki/api/v1/query_range", p), &d)
	var out []string
	for _, r := range d.Result {
		for _, v := range r.Values {
			out = append(out, v[1])
		}
	}
	return out
}
