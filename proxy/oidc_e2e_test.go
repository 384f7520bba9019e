package proxy_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tollgate-dev/tollgate/identity"
	"github.com/tollgate-dev/tollgate/internal/demo/synth"
	"github.com/tollgate-dev/tollgate/internal/testkit/oidctest"
	"github.com/tollgate-dev/tollgate/internal/testkit/testenv"
)

// The OIDC end-to-end test runs Tollgate with three trusted issuers in
// front of a real Prometheus and a real Loki:
//   - the bank's identity provider, which signs people in (here through
//     Grafana's login, the authorization code flow);
//   - a Kubernetes cluster's service-account issuer, whose tokens carry no
//     groups: the service account is mapped by its sub;
//   - an identity provider that is down.
//
// Trusted headers are configured too, for the loopback address every
// client here comes from, as when Grafana and an auth proxy share a host:
// requests without identity headers go on to OIDC.
const oidcGatewayYAML = `
upstreams: {prometheus: %[1]q, loki: %[2]q}
tenancy:
  label: namespace
  admin_groups: [platform-sre]
  tenants:
    - {name: payments, groups: [team-payments], namespaces: [team-payments-prod, team-payments-staging]}
    - {name: checkout, groups: [team-checkout, "k8s:system:serviceaccount:checkout-ci:deployer"], namespaces: ["team-checkout-*"], loki_org_id: checkout-org}
auth:
  trusted_headers: {user: X-Forwarded-User, groups: X-Forwarded-Groups, trusted_cidrs: [127.0.0.1/32]}
  oidc:
    - issuer: %[3]q
      audiences: [tollgate]
      user_claim: preferred_username
    - issuer: %[4]q
      audiences: [tollgate]
      groups_claim: sub
      groups_prefix: "k8s:"
    - issuer: %[5]q
      audiences: [tollgate]
  tokens:
    - {name: ci, sha256: %[6]q, groups: [platform-sre]}
`

// grafanaClient is Grafana as registered at the identity provider: its
// tokens are for itself and for Tollgate (an audience mapper).
var grafanaClient = oidctest.Client{ID: "grafana", Secret: "grafana-secret", RedirectURI: "http://grafana.test/login/generic_oauth", Audience: []string{"tollgate"}}

type oidcE2E struct {
	*e2e
	humans, cluster, down *oidctest.Provider
	promSeen, lokiSeen    *headerLog
	lokiStart             time.Time
}

// headerLog records the headers of every request an upstream received.
type headerLog struct {
	mu      sync.Mutex
	headers []http.Header
}

func (l *headerLog) all() []http.Header {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.headers)
}

// recordingProxy forwards to target and logs the headers it passes on.
func recordingProxy(t *testing.T, target string) (string, *headerLog) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	log := &headerLog{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.mu.Lock()
		log.headers = append(log.headers, r.Header.Clone())
		log.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, log
}

func setupOIDCE2E(t *testing.T) *oidcE2E {
	t.Helper()
	e := &oidcE2E{humans: oidctest.Start(t), cluster: oidctest.Start(t), down: oidctest.Start(t)}
	e.down.SetDown(true)
	e.humans.AddClient(grafanaClient)
	for user, groups := range map[string][]string{"alice": {"team-payments", "interns"}, "sam": {"platform-sre"}, "ivan": {"interns"}} {
		e.humans.AddUser(user, map[string]any{"groups": groups, "preferred_username": user + "@bank.example"})
	}

	end := time.Now().Truncate(time.Minute)
	var om bytes.Buffer
	if err := synth.WriteOpenMetrics(&om, synth.Default().Series(), synth.Window{Start: end.Add(-2 * time.Hour), End: end, Step: 30 * time.Second}); err != nil {
		t.Fatal(err)
	}
	prom := testenv.StartPrometheus(t, testenv.PrometheusOptions{OpenMetrics: om.Bytes(), Rules: e2eRules})
	loki := testenv.StartLoki(t)
	promURL, promSeen := recordingProxy(t, prom.URL)
	lokiURL, lokiSeen := recordingProxy(t, loki.URL)
	e.promSeen, e.lokiSeen = promSeen, lokiSeen

	gw := startGateway(t, fmt.Sprintf(oidcGatewayYAML, promURL, lokiURL, e.humans.URL, e.cluster.URL, e.down.URL, identity.HashToken(adminToken)))
	e.e2e = &e2e{gateway: gw, direct: prom.URL, evalTime: strconv.FormatInt(end.Unix(), 10), trusted: &http.Client{Timeout: 30 * time.Second}}
	e.seedLoki(t, loki.URL)
	return e
}

// seedLoki pushes the Loki end-to-end test's streams straight into Loki.
func (e *oidcE2E) seedLoki(t *testing.T, lokiURL string) {
	t.Helper()
	seeder := &lokiE2E{direct: lokiURL, client: &http.Client{Timeout: 30 * time.Second}}
	e.lokiStart = time.Now().Add(-10 * time.Minute)
	for i, s := range lokiSeed {
		var values [][]string
		for j := 0; j < s.lines; j++ {
			ts := e.lokiStart.Add(time.Duration(i*100+j) * time.Second)
			values = append(values, []string{strconv.FormatInt(ts.UnixNano(), 10), fmt.Sprintf("seed %s line %d", s.labels["namespace"], j)})
		}
		body, _ := json.Marshal(map[string]any{"streams": []any{map[string]any{"stream": s.labels, "values": values}}})
		seeder.directPushJSON(t, s.org, body)
	}
}

// bearer is a caller presenting a bearer token.
func bearer(name, tok string) caller {
	return caller{name: name, headers: []string{"Authorization", "Bearer " + tok}}
}

// serviceAccountToken is a projected service-account token as a
// Kubernetes API server issues it: audience as requested, the service
// account in sub and under kubernetes.io, no groups.
func serviceAccountToken(t *testing.T, cluster *oidctest.Provider, ns, sa string, aud ...string) string {
	now := time.Now()
	return cluster.Mint(t, map[string]any{
		"aud": aud, "sub": "system:serviceaccount:" + ns + ":" + sa,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"kubernetes.io": map[string]any{
			"namespace":      ns,
			"serviceaccount": map[string]any{"name": sa, "uid": "7b3e0a4c-6f0e-4a43-9d5e-1f2a3b4c5d6e"},
			"pod":            map[string]any{"name": sa + "-7d9c8", "uid": "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"},
		},
	})
}

func TestOIDCE2E(t *testing.T) {
	e := setupOIDCE2E(t)
	alice := bearer("alice (OIDC, payments)", e.humans.Login(t, grafanaClient, "alice").AccessToken)
	sam := bearer("sam (OIDC, admin)", e.humans.Login(t, grafanaClient, "sam").AccessToken)
	ivan := bearer("ivan (OIDC, no tenant)", e.humans.Login(t, grafanaClient, "ivan").AccessToken)
	deployer := bearer("checkout-ci:deployer (service account)", serviceAccountToken(t, e.cluster, "checkout-ci", "deployer", "tollgate"))

	t.Run("tenants, admins and service accounts see what their groups allow", func(t *testing.T) {
		for _, m := range methods {
			for _, tc := range []struct {
				c    caller
				want float64
			}{{alice, 3}, {sam, allMarkers}, {deployer, 4}} {
				if got := e.instant(t, tc.c, m, `sum(tollgate_demo_namespace_marker)`); got[""] != tc.want {
					t.Errorf("%s %s: sum = %v, want %v", tc.c.name, m, got[""], tc.want)
				}
				if got := e.instant(t, tc.c, m, `sum(tollgate_demo_namespace_marker{namespace=~".+"})`); got[""] != tc.want {
					t.Errorf("%s %s: widened selector sum = %v, want %v", tc.c.name, m, got[""], tc.want)
				}
			}
		}
		code, body := e.do(t, ivan, http.MethodGet, "/api/v1/query", url.Values{"query": {"vector(1)"}})
		if code != http.StatusForbidden || !strings.Contains(string(body), `user \"ivan@bank.example\" belongs to no tenant`) {
			t.Errorf("ivan: %d %s", code, body)
		}
	})

	t.Run("refused tokens are 401 in the API's format and never echoed", func(t *testing.T) {
		e.refusals(t)
	})

	t.Run("an identity provider that is down is 503 with Retry-After", func(t *testing.T) {
		tok := e.down.Mint(t, e.down.Claims("bob", []string{"tollgate"}, map[string]any{"groups": []string{"team-payments"}}))
		resp := e.raw(t, http.MethodGet, "/api/v1/query?query=vector(1)", "Authorization", "Bearer "+tok)
		body := readAll(t, resp)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
			!strings.Contains(body, `"errorType":"unavailable"`) || !strings.Contains(body, "cannot be reached to check the token") {
			t.Errorf("%d Retry-After %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
		noTokenPart(t, body, tok)
		// Meanwhile the other issuers, static tokens and headers work.
		for _, c := range []caller{alice, admin, payments} {
			if code, body := e.do(t, c, http.MethodGet, "/api/v1/query", url.Values{"query": {"vector(1)"}}); code != http.StatusOK {
				t.Errorf("%s while an issuer is down: %d %s", c.name, code, body)
			}
		}
	})

	t.Run("Grafana with Forward OAuth Identity", func(t *testing.T) {
		e.grafanaReplay(t)
	})
}

// refusals sends attack tokens through the gateway: each is a 401 in the
// Prometheus error format whose text says why and holds no part of it.
func (e *oidcE2E) refusals(t *testing.T) {
	now := time.Now()
	alice := func(extra map[string]any) map[string]any {
		return e.humans.Claims("alice", []string{"tollgate"}, extra)
	}
	key, kid := e.humans.SigningKey()
	unsigned := b64JSON(map[string]any{"alg": "none", "kid": kid}) + "." + b64JSON(alice(nil)) + "."
	for _, tc := range []struct{ name, tok, reason string }{
		{"expired", e.humans.Mint(t, alice(map[string]any{"exp": now.Add(-time.Hour).Unix()})), "the token expired at"},
		{"for another audience", e.humans.Mint(t, alice(map[string]any{"aud": []string{"grafana"}})), "audience"},
		{"a service account token for the API server", serviceAccountToken(t, e.cluster, "checkout-ci", "deployer", "https://kubernetes.default.svc"), `audience ["https://kubernetes.default.svc"] is not one of auth.oidc[1].audiences`},
		{"alg none", unsigned, "unsigned"},
		{"forged header identity from the admin group", oidctest.Sign(t, oidctest.NewRSAKey(t), "RS256", map[string]any{"kid": kid}, alice(map[string]any{"groups": []string{"platform-sre"}})), "signature does not verify"},
		{"issuer not trusted", oidctest.Sign(t, key, "RS256", map[string]any{"kid": kid}, alice(map[string]any{"iss": "https://evil.example"})), "is not one of the issuers in auth.oidc"},
	} {
		resp := e.raw(t, http.MethodPost, "/api/v1/query", "Authorization", "Bearer "+tc.tok, "Content-Type", "application/x-www-form-urlencoded")
		body := readAll(t, resp)
		var r apiResponse
		if err := json.Unmarshal([]byte(body), &r); err != nil || resp.StatusCode != http.StatusUnauthorized || r.ErrorType != "unauthorized" ||
			!strings.HasPrefix(r.Error, "authentication required: ") || !strings.Contains(r.Error, tc.reason) || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %d %s; want 401 saying %q", tc.name, resp.StatusCode, body, tc.reason)
		}
		noTokenPart(t, body, tc.tok)
	}
	// An ID token alone, in X-Id-Token, is no credential.
	id := e.humans.Login(t, grafanaClient, "alice").IDToken
	resp := e.raw(t, http.MethodGet, "/api/v1/query?query=vector(1)", "X-Id-Token", id)
	if body := readAll(t, resp); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("X-Id-Token alone: %d %s", resp.StatusCode, body)
	}
}

// grafanaReplay sends exactly what Grafana's Prometheus and Loki data
// sources send with "Forward OAuth Identity" (jsonData.oauthPassThru):
// the signed-in user's access token as "Authorization: Bearer", the ID
// token as X-Id-Token, Grafana's User-Agent; queries as Grafana's clients
// build them (pkg/promlib/client: POST form bodies when httpMethod is
// POST, times in seconds; pkg/tsdb/loki: GET, times in nanoseconds, step
// in ms, X-Query-Tags on supporting queries). The health checks are
// Grafana's own: "1+1" at time 4, and "vector(1)+vector(1)".
func (e *oidcE2E) grafanaReplay(t *testing.T) {
	tokens := e.humans.Login(t, grafanaClient, "alice")
	grafana := []string{"Authorization", tokens.TokenType + " " + tokens.AccessToken, "X-Id-Token", tokens.IDToken, "User-Agent", "Grafana/12.1.0", "Accept-Encoding", "gzip"}
	form := append(slices.Clone(grafana), "Content-Type", "application/x-www-form-urlencoded")
	end, _ := strconv.ParseInt(e.evalTime, 10, 64)
	start := end - 3600
	lokiEnd := time.Now().Add(time.Minute)
	ns := func(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) }

	type req struct {
		method, path string
		params       url.Values
		headers      []string
		check        func(t *testing.T, body []byte)
	}
	sumIs := func(want float64) func(*testing.T, []byte) {
		return func(t *testing.T, body []byte) { checkRangeSum(t, body, want) }
	}
	for _, r := range []req{
		{http.MethodPost, "/api/v1/query", url.Values{"query": {"1+1"}, "time": {"4"}}, form, nil},
		{http.MethodGet, "/api/v1/status/buildinfo", nil, grafana, nil},
		{http.MethodPost, "/api/v1/query_range", url.Values{"query": {"sum(tollgate_demo_namespace_marker)"}, "start": {fmt.Sprint(start)}, "end": {fmt.Sprint(end)}, "step": {"60"}, "timeout": {"30s"}}, form, sumIs(3)},
		{http.MethodPost, "/api/v1/query", url.Values{"query": {`sum(tollgate_demo_namespace_marker{namespace=~".+"})`}, "time": {fmt.Sprint(end) + ".5"}}, form, nil},
		{http.MethodPost, "/api/v1/labels", url.Values{"start": {fmt.Sprint(start)}, "end": {fmt.Sprint(end)}}, form, nil},
		{http.MethodGet, "/api/v1/label/namespace/values", url.Values{"start": {fmt.Sprint(start)}, "end": {fmt.Sprint(end)}}, grafana, valuesWithin("team-payments-prod", "team-payments-staging")},
		{http.MethodPost, "/api/v1/series", url.Values{"match[]": {"tollgate_demo_namespace_marker"}, "start": {fmt.Sprint(start)}, "end": {fmt.Sprint(end)}}, form, nil},
		{http.MethodGet, "/loki/api/v1/query", url.Values{"query": {"vector(1)+vector(1)"}, "time": {ns(lokiEnd)}, "direction": {"backward"}}, grafana, nil},
		{http.MethodGet, "/loki/api/v1/query_range", url.Values{"query": {`{app="api"}`}, "start": {ns(e.lokiStart)}, "end": {ns(lokiEnd)}, "step": {"2000ms"}, "limit": {"1000"}, "direction": {"backward"}}, grafana, streamsWithin("team-payments-prod", "team-payments-staging")},
		{http.MethodGet, "/loki/api/v1/query_range", url.Values{"query": {`sum by (level) (count_over_time({app="api"}[1m]))`}, "start": {ns(e.lokiStart)}, "end": {ns(lokiEnd)}, "step": {"60000ms"}, "direction": {"backward"}}, append(slices.Clone(grafana), "X-Query-Tags", "Source=logvolhist"), nil},
		{http.MethodGet, "/loki/api/v1/labels", url.Values{"start": {ns(e.lokiStart)}, "end": {ns(lokiEnd)}}, grafana, nil},
		{http.MethodGet, "/loki/api/v1/label/namespace/values", url.Values{"start": {ns(e.lokiStart)}, "end": {ns(lokiEnd)}}, grafana, valuesWithin("team-payments-prod", "team-payments-staging")},
	} {
		path := r.path
		var body io.Reader
		if r.method == http.MethodGet && len(r.params) > 0 {
			path += "?" + r.params.Encode()
		} else if r.method == http.MethodPost {
			body = strings.NewReader(r.params.Encode())
		}
		resp := e.rawBody(t, r.method, path, body, r.headers...)
		b := readAll(t, resp)
		if resp.StatusCode != http.StatusOK || !strings.Contains(b, `"status":"success"`) {
			t.Errorf("%s %s: %d %s", r.method, r.path, resp.StatusCode, b)
			continue
		}
		if r.check != nil {
			r.check(t, []byte(b))
		}
	}
	e.upstreamsSawNoCredentials(t)
}

// upstreamsSawNoCredentials: the user's tokens stay at Tollgate; Loki got
// the payments org.
func (e *oidcE2E) upstreamsSawNoCredentials(t *testing.T) {
	for name, log := range map[string]*headerLog{"Prometheus": e.promSeen, "Loki": e.lokiSeen} {
		hs := log.all()
		if len(hs) == 0 {
			t.Errorf("%s received nothing", name)
		}
		for _, h := range hs {
			for _, k := range []string{"Authorization", "X-Id-Token", "Cookie", "X-Forwarded-User"} {
				if h.Get(k) != "" {
					t.Errorf("%s received %s", name, k)
				}
			}
			if name == "Loki" && h.Get("X-Scope-OrgID") != "payments" {
				t.Errorf("Loki received X-Scope-OrgID %q, want payments", h.Get("X-Scope-OrgID"))
			}
		}
	}
}

func (e *oidcE2E) raw(t *testing.T, method, path string, headers ...string) *http.Response {
	t.Helper()
	return e.rawBody(t, method, path, nil, headers...)
}

func (e *oidcE2E) rawBody(t *testing.T, method, path string, body io.Reader, headers ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, e.gateway+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	// A replayed Accept-Encoding: gzip is decoded by readAll: the client
	// decompresses only what it asked for itself.
	resp, err := e.trusted.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func noTokenPart(t *testing.T, body, tok string) {
	t.Helper()
	for _, part := range strings.Split(tok, ".") {
		if len(part) >= 8 && strings.Contains(body, part) {
			t.Errorf("the answer %q contains part of the token", body)
		}
	}
}

func b64JSON(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// checkRangeSum: every point of a one-series range result is want.
func checkRangeSum(t *testing.T, body []byte, want float64) {
	t.Helper()
	var r struct {
		Data struct {
			Result []struct {
				Values [][2]any `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil || len(r.Data.Result) != 1 || len(r.Data.Result[0].Values) == 0 {
		t.Fatalf("range result: %v %s", err, body)
	}
	for _, v := range r.Data.Result[0].Values {
		if s, _ := v[1].(string); s != strconv.FormatFloat(want, 'f', -1, 64) {
			t.Errorf("point %v = %s, want %v", v[0], s, want)
		}
	}
}

// valuesWithin: a label-values answer names only the given values.
func valuesWithin(allowed ...string) func(*testing.T, []byte) {
	return func(t *testing.T, body []byte) {
		t.Helper()
		var r struct {
			Data []string `json:"data"`
		}
		if err := json.Unmarshal(body, &r); err != nil || len(r.Data) == 0 {
			t.Fatalf("label values: %v %s", err, body)
		}
		for _, v := range r.Data {
			if !slices.Contains(allowed, v) {
				t.Errorf("label value %q is outside the tenant", v)
			}
		}
	}
}

// streamsWithin: a streams answer holds only streams of the given
// namespaces.
func streamsWithin(allowed ...string) func(*testing.T, []byte) {
	return func(t *testing.T, body []byte) {
		t.Helper()
		var r struct {
			Data struct {
				Result []struct {
					Stream map[string]string `json:"stream"`
				} `json:"result"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &r); err != nil || len(r.Data.Result) == 0 {
			t.Fatalf("streams: %v %s", err, body)
		}
		for _, s := range r.Data.Result {
			if !slices.Contains(allowed, s.Stream["namespace"]) {
				t.Errorf("stream %v is outside the tenant", s.Stream)
			}
		}
	}
}

// The replay sends what the example data sources make Grafana send:
// forwarded identity on the Prometheus and Loki data sources, Prometheus
// queries as POST form bodies.
func TestGrafanaOIDCDataSourcesExample(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "deploy", "grafana", "datasources-oidc.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name, Type, Access, URL string
			JSONData                map[string]any `yaml:"jsonData"`
		} `yaml:"datasources"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil || f.APIVersion != 1 {
		t.Fatalf("%v %+v", err, f)
	}
	forwarded := map[string]bool{}
	for _, ds := range f.Datasources {
		if ds.Access != "proxy" {
			t.Errorf("%s: access %q; only proxy keeps tokens off the browser", ds.Name, ds.Access)
		}
		if ds.JSONData["oauthPassThru"] == true {
			forwarded[ds.Type] = true
			if ds.Type == "prometheus" && ds.JSONData["httpMethod"] != "POST" {
				t.Errorf("%s: httpMethod %v; the replay sends POST", ds.Name, ds.JSONData["httpMethod"])
			}
			if ds.Type == "alertmanager" && (!strings.HasSuffix(ds.URL, "/alertmanager") || ds.JSONData["implementation"] != "prometheus") {
				t.Errorf("%s: URL %q, implementation %v; Tollgate serves API v2 under /alertmanager, as the prometheus implementation asks for it", ds.Name, ds.URL, ds.JSONData["implementation"])
			}
		}
	}
	if !forwarded["prometheus"] || !forwarded["loki"] || !forwarded["alertmanager"] {
		t.Errorf("data sources forwarding the user's token: %v; want prometheus, loki and alertmanager", forwarded)
	}
}
