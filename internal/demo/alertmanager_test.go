package demo_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/demo"
	"github.com/tollgate-dev/tollgate/internal/testkit/testenv"
)

// TestDemoAlertmanager runs the demo with the real Alertmanager and sends
// what the banner's Alerts section prints: alice sees payments' alert
// only, and her silence of search's alerts is refused, in Alertmanager's
// error format, without reaching Alertmanager.
func TestDemoAlertmanager(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := demo.New(demo.Options{Listen: "127.0.0.1:0", PrometheusBinary: prometheusBinary(t),
		AlertmanagerBinary: testenv.AlertmanagerBinary(t), Logger: logger})
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
	banner := checkBanner(t, d)
	if !strings.Contains(banner, "/alertmanager") {
		t.Errorf("the banner does not point Grafana's Alertmanager data source at the gateway:\n%s", banner)
	}
	var examples []demo.Example
	for _, s := range d.Sections() {
		for _, e := range s.Examples {
			if strings.HasPrefix(e.ID, "alertmanager-") {
				examples = append(examples, e)
			}
		}
	}
	if len(examples) != 2 {
		t.Fatalf("%d Alertmanager examples, want 2", len(examples))
	}
	for _, e := range examples {
		status, body := send(t, e)
		if status != e.Status {
			t.Fatalf("%s: status %d, want %d: %s", e.ID, status, e.Status, body)
		}
		switch e.ID {
		case "alertmanager-alerts-payments":
			var alerts []struct {
				Labels map[string]string `json:"labels"`
			}
			if err := json.Unmarshal(body, &alerts); err != nil || len(alerts) != 1 || alerts[0].Labels["namespace"] != "team-payments-prod" {
				t.Errorf("alice's alerts: %v %s, want payments' HighErrorRate only", err, body)
			}
		case "alertmanager-foreign-silence":
			var refusal struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(body, &refusal); err != nil || refusal.Code != 403 || !strings.Contains(refusal.Message, "team-search-prod") {
				t.Errorf("refusal %s, want Alertmanager's {code, message} naming the namespace", body)
			}
		default:
			t.Errorf("example %s has no check here", e.ID)
		}
	}
	// Nothing reached Alertmanager.
	resp, err := http.Get(d.Alertmanager().URL() + "/api/v2/silences")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if strings.TrimSpace(string(b)) != "[]" {
		t.Errorf("Alertmanager holds silences after the refusal: %s", b)
	}
}
