package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/demo"
)

// Markers of the synthetic namespaces (synth.Default): powers of two in
// namespace order.
var markers = map[string]float64{
	"team-payments-prod":    1,
	"team-payments-staging": 2,
	"team-checkout-prod":    4,
	"team-search-prod":      8,
	"team-search-staging":   16,
	"kube-system":           32,
	"monitoring":            64,
}

func pick(names ...string) map[string]float64 {
	out := map[string]float64{}
	for _, n := range names {
		out[n] = markers[n]
	}
	return out
}

// startDemo runs the demo as `tollgate demo` would, on free ports, and stops
// it when the test ends. Its TSDB goes to a directory of the test's, which
// must be empty again after Stop.
func startDemo(t *testing.T) *demo.Demo {
	t.Helper()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := demo.New(demo.Options{Listen: "127.0.0.1:0", PrometheusBinary: prometheusBinary(t), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
		checkEmptyDir(t, tmp)
	})
	return d
}

// apiResponse is the envelope of every Prometheus API answer.
type apiResponse struct {
	Status    string          `json:"status"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Data      json.RawMessage `json:"data"`
}

func do(t *testing.T, e demo.Example) (int, apiResponse) {
	t.Helper()
	status, body := send(t, e)
	var r apiResponse
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("%s: answer is not Prometheus API JSON: %v\n%s", e.ID, err, body)
	}
	return status, r
}

// vector decodes an instant query result into namespace → value.
func vector(t *testing.T, data json.RawMessage) map[string]float64 {
	t.Helper()
	var d struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("decoding the query result: %v", err)
	}
	if d.ResultType != "vector" {
		t.Fatalf("result type %q, want vector", d.ResultType)
	}
	out := map[string]float64{}
	for _, s := range d.Result {
		str, _ := s.Value[1].(string)
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			t.Fatalf("value %v: %v", s.Value[1], err)
		}
		out[s.Metric["namespace"]] = v
	}
	return out
}

func equalVector(t *testing.T, id string, got, want map[string]float64) {
	t.Helper()
	if !maps.Equal(got, want) {
		t.Errorf("%s: got %v, want %v", id, got, want)
	}
}

type alert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

func alertNamespaces(t *testing.T, id string, as []alert) []string {
	t.Helper()
	var ns []string
	for _, a := range as {
		if a.Labels["alertname"] != "HighErrorRate" || a.State != "firing" {
			t.Errorf("%s: unexpected alert %v (%s)", id, a.Labels, a.State)
		}
		ns = append(ns, a.Labels["namespace"])
	}
	slices.Sort(ns)
	return ns
}

// checks hold what each printed example must show beyond its status. Every
// example the banner prints needs one, so that none goes untested.
var checks = map[string]func(t *testing.T, data json.RawMessage){
	"prometheus-direct": func(t *testing.T, data json.RawMessage) {
		equalVector(t, "prometheus-direct", vector(t, data), markers)
	},
	"payments-by-namespace": func(t *testing.T, data json.RawMessage) {
		equalVector(t, "payments-by-namespace", vector(t, data), pick("team-payments-prod", "team-payments-staging"))
	},
	"payments-sum": func(t *testing.T, data json.RawMessage) {
		equalVector(t, "payments-sum", vector(t, data), map[string]float64{"": 3})
	},
	"checkout-by-namespace": func(t *testing.T, data json.RawMessage) {
		equalVector(t, "checkout-by-namespace", vector(t, data), pick("team-checkout-prod"))
	},
	"admin-by-namespace": func(t *testing.T, data json.RawMessage) {
		got := vector(t, data)
		equalVector(t, "admin-by-namespace", got, markers)
		var sum float64
		for _, v := range got {
			sum += v
		}
		if sum != 127 {
			t.Errorf("admin-by-namespace: sum %v, want 127", sum)
		}
	},
	"payments-cross-tenant": func(t *testing.T, data json.RawMessage) {
		equalVector(t, "payments-cross-tenant", vector(t, data), map[string]float64{})
	},
	"payments-label-values": func(t *testing.T, data json.RawMessage) {
		var got []string
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatal(err)
		}
		if want := []string{"team-payments-prod", "team-payments-staging"}; !slices.Equal(got, want) {
			t.Errorf("payments-label-values: got %v, want %v", got, want)
		}
	},
	"payments-rules": func(t *testing.T, data json.RawMessage) {
		var d struct {
			Groups []struct {
				Name  string `json:"name"`
				Rules []struct {
					Name   string            `json:"name"`
					Type   string            `json:"type"`
					Labels map[string]string `json:"labels"`
					Alerts []alert           `json:"alerts"`
				} `json:"rules"`
			} `json:"groups"`
		}
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatal(err)
		}
		var recorded, alerted []string
		for _, g := range d.Groups {
			for _, r := range g.Rules {
				switch r.Type {
				case "recording":
					recorded = append(recorded, r.Labels["namespace"])
				case "alerting":
					if r.Name != "HighErrorRate" {
						t.Errorf("payments-rules: unexpected alerting rule %s", r.Name)
					}
					alerted = append(alerted, alertNamespaces(t, "payments-rules", r.Alerts)...)
				}
			}
		}
		slices.Sort(recorded)
		want := []string{"team-payments-prod", "team-payments-staging"}
		if !slices.Equal(recorded, want) {
			t.Errorf("payments-rules: recording rules for namespaces %v, want %v", recorded, want)
		}
		if !slices.Equal(alerted, want) {
			t.Errorf("payments-rules: HighErrorRate alerts in %v, want %v", alerted, want)
		}
	},
	"payments-alerts": func(t *testing.T, data json.RawMessage) {
		var d struct {
			Alerts []alert `json:"alerts"`
		}
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatal(err)
		}
		if got, want := alertNamespaces(t, "payments-alerts", d.Alerts), []string{"team-payments-prod", "team-payments-staging"}; !slices.Equal(got, want) {
			t.Errorf("payments-alerts: alerts in %v, want %v", got, want)
		}
	},
	"no-identity": nil,
	"no-tenant":   nil,
}

func TestDemoExamples(t *testing.T) {
	d := startDemo(t)
	var ids []string
	for _, s := range d.Sections() {
		for _, e := range s.Examples {
			ids = append(ids, e.ID)
			t.Run(e.ID, func(t *testing.T) {
				check, ok := checks[e.ID]
				if !ok {
					t.Fatalf("example %s has no check in this test", e.ID)
				}
				status, r := do(t, e)
				if status != e.Status {
					t.Fatalf("status %d, want %d: %s %s", status, e.Status, r.ErrorType, r.Error)
				}
				if status != http.StatusOK {
					if r.Status != "error" || r.Error == "" {
						t.Errorf("refusal without an error message: %+v", r)
					}
					return
				}
				if r.Status != "success" {
					t.Fatalf("status %q: %s", r.Status, r.Error)
				}
				check(t, r.Data)
			})
		}
	}
	for id := range checks {
		if !slices.Contains(ids, id) {
			t.Errorf("check %s has no example in the banner", id)
		}
	}
}

func TestDemoRefusesForgedToken(t *testing.T) {
	d := startDemo(t)
	e := demo.Example{
		ID:      "forged-token",
		URL:     d.Gateway().URL() + "/api/v1/query",
		Headers: []string{"Authorization: Bearer tg_forged"},
		Params:  []demo.Param{{Name: "query", Value: "up"}},
	}
	if status, r := do(t, e); status != http.StatusUnauthorized || r.ErrorType != "unauthorized" {
		t.Errorf("status %d, want 401: %+v", status, r)
	}
}

func TestDemoBuildInfoAndHealth(t *testing.T) {
	d := startDemo(t)
	status, r := do(t, demo.Example{ID: "buildinfo", URL: d.Prometheus().URL() + "/api/v1/status/buildinfo"})
	if status != http.StatusOK || r.Status != "success" || !bytes.Contains(r.Data, []byte(`"goVersion":"go`)) {
		t.Errorf("buildinfo: %d %+v %s", status, r, r.Data)
	}
	for _, u := range []string{d.Gateway().URL() + "/-/ready", d.Prometheus().URL() + "/-/ready"} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", u, resp.StatusCode)
		}
	}
}

func TestBannerCurls(t *testing.T) {
	d := startDemo(t)
	banner := checkBanner(t, d)
	// startDemo runs no Loki: the banner must say how to get logs.
	if want := "Logs: Loki is not built; run `make loki` (or `make demo`, which builds it)"; !strings.Contains(banner, want) {
		t.Errorf("banner of a demo without Loki does not say %q:\n%s", want, banner)
	}
}

// checkBanner checks that the banner mentions the URLs and the token, and
// that its curl commands are exactly the examples, each one sending what
// the example says. It returns the banner.
func checkBanner(t *testing.T, d *demo.Demo) string {
	t.Helper()
	gw, prom := d.Gateway().URL(), d.Prometheus().URL()
	if !strings.HasPrefix(gw, "http://127.0.0.1:") || strings.HasSuffix(gw, ":0") {
		t.Fatalf("gateway URL %q does not name the bound port", gw)
	}
	var out bytes.Buffer
	if err := demo.WriteBanner(&out, d.Sections()); err != nil {
		t.Fatal(err)
	}
	banner := out.String()
	for _, want := range []string{gw, prom, d.Gateway().Token(), "Ctrl-C"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner does not mention %q:\n%s", want, banner)
		}
	}
	var curls []string
	for line := range strings.Lines(banner) {
		if strings.HasPrefix(line, "curl ") {
			curls = append(curls, strings.TrimSuffix(line, "\n"))
		}
	}
	var examples []demo.Example
	for _, s := range d.Sections() {
		examples = append(examples, s.Examples...)
	}
	if len(curls) != len(examples) {
		t.Fatalf("%d curl lines for %d examples:\n%s", len(curls), len(examples), banner)
	}
	for i, e := range examples {
		if curls[i] != e.Curl() {
			t.Errorf("line %d is %q, want %q", i, curls[i], e.Curl())
		}
		base := gw
		if e.ID == "prometheus-direct" {
			base = prom
		}
		checkCurl(t, curls[i], base, e)
	}
	return banner
}

// checkCurl has a POSIX shell parse the command and checks that curl
// receives the example's URL, headers, parameters and body. Commands
// without a shell substitution must also pass shellSplit, which refuses
// any character a shell would interpret outside quotes.
func checkCurl(t *testing.T, cmd, base string, e demo.Example) {
	t.Helper()
	args := shellWords(t, cmd)
	if !strings.Contains(e.Body, demo.Now) {
		split, err := shellSplit(cmd)
		if err != nil {
			t.Errorf("%s: %v\n%s", e.ID, err, cmd)
			return
		}
		if !slices.Equal(split, args) {
			t.Errorf("%s: the shell reads %q, shellSplit %q", e.ID, args, split)
		}
	}
	if len(args) < 2 || args[0] != "curl" {
		t.Errorf("%s: not a curl command: %q", e.ID, args)
		return
	}
	var url, body string
	var headers []string
	var params []demo.Param
	get := false
	for i := 1; i < len(args); i++ {
		switch a := args[i]; a {
		case "-s":
		case "-G":
			get = true
		case "-w":
			i++
		case "-H":
			i++
			headers = append(headers, args[i])
		case "--data-urlencode":
			i++
			name, value, _ := strings.Cut(args[i], "=")
			params = append(params, demo.Param{Name: name, Value: value})
		case "--data-raw":
			i++
			body = args[i]
		default:
			if strings.HasPrefix(a, "-") || url != "" {
				t.Errorf("%s: unexpected argument %q", e.ID, a)
			}
			url = a
		}
	}
	if !strings.HasPrefix(url, base+"/") || url != e.URL {
		t.Errorf("%s: URL %q, want %q under %s", e.ID, url, e.URL, base)
	}
	if !slices.Equal(headers, e.Headers) {
		t.Errorf("%s: headers %q, want %q", e.ID, headers, e.Headers)
	}
	if !slices.Equal(params, e.Params) {
		t.Errorf("%s: parameters %q, want %q", e.ID, params, e.Params)
	}
	if len(params) > 0 && !get {
		t.Errorf("%s: parameters without -G would be POSTed", e.ID)
	}
	if body != "" && get {
		t.Errorf("%s: -G would send the body as parameters", e.ID)
	}
	checkBody(t, e.ID, body, e.Body)
}

func TestDemoStartFailsCleanly(t *testing.T) {
	d := startDemo(t)
	// The gateway's address is taken: Start must fail and stop the
	// Prometheus it had already started (startDemo's cleanup checks that
	// the TSDB directory is gone).
	busy, err := demo.New(demo.Options{Listen: d.Gateway().Addr(), PrometheusBinary: prometheusBinary(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := busy.Start(ctx); err == nil {
		_ = busy.Stop()
		t.Fatal("Start succeeded on an address in use")
	} else if !strings.Contains(err.Error(), "gateway") {
		t.Errorf("error does not say what failed: %v", err)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, o := range []demo.Options{
		{History: time.Minute},
		{Step: 2 * time.Minute},
		{Step: -time.Second},
		{RuleInterval: -time.Second},
		{LogInterval: -time.Second},
	} {
		if _, err := demo.New(o); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		}
	}
}

func TestDemoKeepsAppendingLiveSamples(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	d, err := demo.New(demo.Options{Listen: "127.0.0.1:0", PrometheusBinary: prometheusBinary(t), History: 5 * time.Minute, Step: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	started := float64(time.Now().UnixMilli()) / 1000
	e := demo.Example{
		ID:     "latest",
		URL:    d.Prometheus().URL() + "/api/v1/query",
		Params: []demo.Param{{Name: "query", Value: `timestamp(tollgate_demo_namespace_marker{namespace="monitoring"})`}},
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, r := do(t, e)
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, r.Error)
		}
		if latest := vector(t, r.Data)["monitoring"]; latest > started {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no sample newer than the start of the demo after 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkEmptyDir fails the test if Stop left anything in the demo's
// temporary directory.
func checkEmptyDir(t *testing.T, dir string) {
	t.Helper()
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("Stop left %d entries in the temporary directory, e.g. %s", len(left), left[0].Name())
	}
}
