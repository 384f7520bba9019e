package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/tollgate-dev/tollgate/internal/demo/synth"
	"github.com/tollgate-dev/tollgate/internal/testkit/slotest"
	"github.com/tollgate-dev/tollgate/internal/testkit/testenv"
)

// Specs of two teams: payments in Sloth's prometheus/v1 format with an
// events SLI, checkout as a Kubernetes PrometheusServiceLevel with
// Tollgate's latency SLI. Neither mentions a namespace: --tenant confines
// them.
const (
	e2ePaymentsSpec = `version: prometheus/v1
service: payments-api
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{service="payments-api",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{service="payments-api"}[{{.window}}]))
    alerting:
      name: PaymentsAPIAvailability
`
	e2eCheckoutSpec = `apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata: {name: checkout-web, namespace: team-checkout-prod}
spec:
  service: checkout-web
  labels: {namespace: team-checkout-prod}
  slos:
    - name: latency
      objective: 99
      sli:
        latency: {metric: http_request_duration_seconds, selector: '{service="checkout-web"}', threshold: 0.3}
      alerting:
        name: CheckoutWebLatency
        absentAlert: {}
`
)

// webhook records what Alertmanager delivers, by receiver path.
type webhook struct {
	mu       sync.Mutex
	messages map[string][]webhookMessage
	changed  chan struct{}
}

type webhookMessage struct {
	At       time.Time
	Receiver string `json:"receiver"`
	Status   string `json:"status"`
	Alerts   []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		StartsAt    time.Time         `json:"startsAt"`
	} `json:"alerts"`
}

func (w *webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	var m webhookMessage
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	m.At = time.Now()
	w.mu.Lock()
	w.messages[r.URL.Path] = append(w.messages[r.URL.Path], m)
	w.mu.Unlock()
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// alerts returns the firing alerts delivered to a path, by sloth_id.
func (w *webhook) alerts(path string) map[string][]map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string][]map[string]string{}
	for _, m := range w.messages[path] {
		for _, a := range m.Alerts {
			if a.Status == "firing" {
				out[a.Labels["sloth_id"]] = append(out[a.Labels["sloth_id"]], a.Labels)
			}
		}
	}
	return out
}

// A real Prometheus evaluates the rules generated for two tenants over
// three days of backfilled data, and a real Alertmanager, configured by
// `tollgate slo alertmanager-config`, delivers to webhooks run by the test:
// the page of a fast burn reaches platform SRE's pager with team and
// severity; the ticket of a slow burn reaches the ticket receiver and not
// the pager; the fast burn's own ticket is inhibited by its page. The
// payments SLI reads only the payments namespaces, although another
// tenant's namespace holds the same series with 100% errors.
func TestSloEndToEnd(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "tollgate.yaml", tollgateYAML)
	paymentsRules := filepath.Join(dir, "rules", "payments.yml")
	checkoutRules := filepath.Join(dir, "rules", "checkout.yml")
	if err := os.MkdirAll(filepath.Dir(paymentsRules), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, g := range []struct{ tenant, spec, out string }{
		{"payments", writeFile(t, dir, "specs/payments.yaml", e2ePaymentsSpec), paymentsRules},
		{"checkout", writeFile(t, dir, "specs/checkout.yaml", e2eCheckoutSpec), checkoutRules},
	} {
		if _, stderr, err := run(t, "", "slo", "generate", "--tenant", g.tenant, "--config", cfg, "--out", g.out, g.spec); err != nil {
			t.Fatalf("generate for %s: %v\n%s", g.tenant, err, stderr)
		}
	}
	slotest.CheckRules(t, paymentsRules, checkoutRules)

	hooks := &webhook{messages: map[string][]webhookMessage{}, changed: make(chan struct{}, 1)}
	srv := httptest.NewServer(hooks)
	t.Cleanup(srv.Close)
	// Prometheus finds the Alertmanager through discovery, which sends
	// updates every 5s, so the first alerts are dropped and resent (every
	// 5s here, 1m by default) with their first start time. Alertmanager
	// flushes a new group at once when start + group_wait has passed, and
	// then its inhibitor may not have seen the page yet: group_wait must
	// outlast that delay.
	routing := writeFile(t, dir, "routing.yaml", fmt.Sprintf(`pager:
  name: platform-sre-pager
  webhook_configs: [{url: %q}]
ticket:
  name: slo-tickets
  webhook_configs: [{url: %q}]
group_wait: 15s
group_interval: 1s
`, srv.URL+"/pager", srv.URL+"/ticket"))
	amConfig := filepath.Join(dir, "alertmanager.yml")
	if _, stderr, err := run(t, "", "slo", "alertmanager-config", "--routing", routing, "--config", cfg, "--out", amConfig); err != nil {
		t.Fatalf("alertmanager-config: %v\n%s", err, stderr)
	}
	if out, err := exec.Command(testenv.Binary(t, "TOLLGATE_AMTOOL", "amtool"), "check-config", amConfig).CombinedOutput(); err != nil {
		t.Fatalf("amtool check-config: %v\n%s", err, out)
	}
	amYAML, err := os.ReadFile(amConfig)
	if err != nil {
		t.Fatal(err)
	}
	am := testenv.StartAlertmanager(t, testenv.AlertmanagerOptions{Config: string(amYAML)})

	end := time.Now().Truncate(time.Minute)
	var om bytes.Buffer
	if err := synth.WriteOpenMetrics(&om, e2eSeries(end), synth.Window{Start: end.Add(-3 * 24 * time.Hour), End: end, Step: time.Minute}); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	prom := testenv.StartPrometheus(t, testenv.PrometheusOptions{
		OpenMetrics:   om.Bytes(),
		RuleFiles:     []string{paymentsRules, checkoutRules},
		Alertmanagers: []string{am.Addr},
		// Prometheus sends alerts with endsAt = evaluation + 4 × resend
		// delay; at 1s, a loaded machine that delayed the next resend by
		// 4s made the page look resolved to the inhibitor, and the ticket
		// slipped through. 5s leaves 20s.
		Args: []string{"--rules.alert.resend-delay=5s"},
	})

	// Wait for the page of payments and the ticket of checkout.
	deadline := time.After(120 * time.Second)
	for len(hooks.alerts("/pager")["payments-api-availability"]) == 0 || len(hooks.alerts("/ticket")["checkout-web-latency"]) == 0 {
		select {
		case <-hooks.changed:
		case <-time.After(time.Second):
		case <-deadline:
			t.Fatalf("no page or no ticket after 120s; pager got %v, tickets got %v; alerts in Prometheus: %s",
				hooks.alerts("/pager"), hooks.alerts("/ticket"), get(t, prom.URL+"/api/v1/alerts"))
		}
	}
	t.Logf("page and ticket delivered %s after Prometheus started backfilling", time.Since(began).Round(100*time.Millisecond))
	page := hooks.alerts("/pager")["payments-api-availability"][0]
	for k, want := range map[string]string{"alertname": "PaymentsAPIAvailability", "severity": "page", "sloth_severity": "page", "team": "payments", "sloth_service": "payments-api", "namespace": "team-payments-prod"} {
		if page[k] != want {
			t.Errorf("page: %s=%q, want %q (labels %v)", k, page[k], want, page)
		}
	}
	ticket := hooks.alerts("/ticket")["checkout-web-latency"][0]
	for k, want := range map[string]string{"alertname": "CheckoutWebLatency", "severity": "ticket", "team": "web-shop", "sloth_slo": "latency", "namespace": "team-checkout-prod"} {
		if ticket[k] != want {
			t.Errorf("ticket: %s=%q, want %q (labels %v)", k, ticket[k], want, ticket)
		}
	}

	// The fast burn also crosses the slow ticket thresholds; Alertmanager
	// holds that ticket back while the page fires.
	waitFor(t, 30*time.Second, "payments' ticket inhibited by its page", func() bool {
		body := get(t, am.URL+"/api/v2/alerts?"+url.Values{"filter": {`sloth_id="payments-api-availability"`, `severity="ticket"`}}.Encode())
		var alerts []struct {
			Status struct {
				State       string   `json:"state"`
				InhibitedBy []string `json:"inhibitedBy"`
			} `json:"status"`
		}
		if err := json.Unmarshal(body, &alerts); err != nil {
			t.Fatal(err)
		}
		return len(alerts) == 1 && alerts[0].Status.State == "suppressed" && len(alerts[0].Status.InhibitedBy) == 1
	})

	// The SLI reads payments' namespaces only: 3% errors, not the 50% that
	// checkout's copy of the same series would make it.
	var res struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(get(t, prom.URL+"/api/v1/query?query="+url.QueryEscape(`slo:sli_error:ratio_rate1h{sloth_id="payments-api-availability"}`)), &res); err != nil || len(res.Data.Result) != 1 {
		t.Fatalf("payments SLI: %v %+v", err, res)
	}
	v, _ := strconv.ParseFloat(res.Data.Result[0].Value[1].(string), 64)
	if math.Abs(v-0.03) > 0.003 {
		t.Errorf("payments' one-hour error ratio is %v, want 0.03: the SLI reads another tenant's series", v)
	}

	// Two more group intervals: still no checkout alert at the pager, no
	// payments alert at the ticket receiver.
	time.Sleep(3 * time.Second)
	if got := hooks.alerts("/pager")["checkout-web-latency"]; len(got) > 0 {
		t.Errorf("the slow burn paged: %v", got)
	}
	if got := hooks.alerts("/ticket")["payments-api-availability"]; len(got) > 0 {
		hooks.mu.Lock()
		for p, ms := range hooks.messages {
			for _, m := range ms {
				t.Logf("%s %s %+v", m.At.Format("15:04:05.000"), p, m)
			}
		}
		hooks.mu.Unlock()
		t.Errorf("the inhibited ticket was delivered: %v", got)
	}
}

// e2eSeries is three days of traffic, 10 requests per second each:
//   - payments-api in team-payments-prod: 0.05% errors (half its budget),
//     then 3% (30x) for the last 90 minutes;
//   - the same series in team-checkout-prod, all errors: a tenant's SLI
//     that read it would be ruined;
//   - checkout-web's latency histogram: 2% of requests slower than 0.3s
//     (2x the 99% objective's budget) all along.
func e2eSeries(end time.Time) []synth.Series {
	burnStart := end.Add(-90 * time.Minute)
	const rps = 10.0
	errorsUntil := func(t time.Time) float64 {
		// Counters start at zero three days before the end.
		start := end.Add(-3 * 24 * time.Hour)
		if t.Before(burnStart) {
			return t.Sub(start).Seconds() * rps * 0.0005
		}
		return burnStart.Sub(start).Seconds()*rps*0.0005 + t.Sub(burnStart).Seconds()*rps*0.03
	}
	since := func(t time.Time) float64 { return t.Sub(end.Add(-3 * 24 * time.Hour)).Seconds() }
	counter := func(value func(time.Time) float64, ls ...string) synth.Series {
		return synth.Series{Labels: labels.FromStrings(ls...), Type: "counter", Value: value}
	}
	return []synth.Series{
		counter(func(t time.Time) float64 { return since(t)*rps - errorsUntil(t) },
			"__name__", "http_requests_total", "namespace", "team-payments-prod", "service", "payments-api", "code", "200"),
		counter(errorsUntil, "__name__", "http_requests_total", "namespace", "team-payments-prod", "service", "payments-api", "code", "500"),
		counter(func(t time.Time) float64 { return since(t) * rps },
			"__name__", "http_requests_total", "namespace", "team-checkout-prod", "service", "payments-api", "code", "500"),
		counter(func(t time.Time) float64 { return since(t) * rps },
			"__name__", "http_request_duration_seconds_count", "namespace", "team-checkout-prod", "service", "checkout-web"),
		counter(func(t time.Time) float64 { return since(t) * rps * 0.98 },
			"__name__", "http_request_duration_seconds_bucket", "namespace", "team-checkout-prod", "service", "checkout-web", "le", "0.3"),
	}
}

func get(t *testing.T, u string) []byte {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	return b
}

func waitFor(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
