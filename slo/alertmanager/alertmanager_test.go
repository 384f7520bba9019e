package alertmanager_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/testkit/testenv"
	"github.com/tollgate-dev/tollgate/slo/alertmanager"
)

const routingFile = `pager:
  name: platform-sre-pager
  pagerduty_configs:
    - routing_key: 0123456789abcdef0123456789abcdef
ticket:
  name: platform-tickets
  webhook_configs:
    - url: https://tickets.example.com/alertmanager
teams:
  - team: payments
    pager:
      name: payments-pager
      webhook_configs: [{url: "https://pager.example.com/payments"}]
  - team: checkout
    ticket:
      name: checkout-tickets
      email_configs: [{to: checkout@example.com, from: am@example.com, smarthost: "mail.example.com:25"}]
group_wait: 10s
page_repeat_interval: 30m
`

func writeConfig(t *testing.T, r alertmanager.Routing) string {
	t.Helper()
	var b bytes.Buffer
	if err := alertmanager.Write(&b, r); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "alertmanager.yml")
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// amtool checks the generated configuration, then says which receiver each
// kind of alert reaches.
func TestRoutesWithAmtool(t *testing.T) {
	r, ps, err := alertmanager.ParseRouting("routing.yaml", []byte(routingFile))
	if err != nil {
		t.Fatal(ps)
	}
	cfg := writeConfig(t, r)
	amtool := testenv.Binary(t, "TOLLGATE_AMTOOL", "amtool")
	if out, err := exec.Command(amtool, "check-config", cfg).CombinedOutput(); err != nil {
		t.Fatalf("amtool check-config: %v\n%s", err, out)
	}
	for labels, want := range map[string]string{
		`sloth_id=payments-api-availability severity=page team=payments`:   "payments-pager",
		`sloth_id=checkout-web-latency severity=page team=checkout`:        "platform-sre-pager",
		`sloth_id=payments-api-availability severity=ticket team=payments`: "platform-tickets",
		`sloth_id=checkout-web-latency severity=ticket team=checkout`:      "checkout-tickets",
		`sloth_id=svc-slo sloth_severity=page`:                             "platform-sre-pager",
		`sloth_id=svc-slo sloth_severity=ticket`:                           "platform-tickets",
		`alertname=Watchdog severity=page`:                                 "unrouted",
	} {
		out, err := exec.Command(amtool, append([]string{"config", "routes", "test", "--config.file=" + cfg}, strings.Fields(labels)...)...).Output()
		if err != nil {
			t.Fatalf("amtool config routes test %s: %v", labels, err)
		}
		if got := strings.TrimSpace(string(out)); got != want {
			t.Errorf("%s reaches %q, want %q", labels, got, want)
		}
	}
	data, _ := os.ReadFile(cfg)
	for _, want := range []string{"group_by:\n        - sloth_id", "group_wait: 10s", "repeat_interval: 30m", "source_matchers:\n      - severity=\"page\"\n    target_matchers:\n      - severity=\"ticket\"\n    equal:\n      - sloth_id",
		"source_matchers:\n      - sloth_severity=\"page\"\n    target_matchers:\n      - sloth_severity=\"ticket\"\n    equal:\n      - sloth_id"} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("configuration lacks %q:\n%s", want, data)
		}
	}
}

func TestRoutingProblems(t *testing.T) {
	_, ps, err := alertmanager.ParseRouting("routing.yaml", []byte(`pager:
  webhook_configs: [{url: "http://x"}]
tickets: {name: t}
teams:
  - team: payments
  - team: "bad team"
    pager: {name: platform-sre-pager}
group_wait: soon
`))
	if err == nil {
		t.Fatal("bad routing accepted")
	}
	var lines []string
	for _, p := range ps {
		lines = append(lines, p.String())
	}
	out := strings.Join(lines, "\n")
	for _, want := range []string{
		"routing.yaml:1:1: pager.name: is missing",
		`routing.yaml:3:1: tickets: unknown key`, `did you mean "ticket"?`,
		"routing.yaml:5:5: teams[0]: routes nothing",
		`routing.yaml:6:5: teams[1].team: "bad team" is not a team name`,
		`routing.yaml:8:1: group_wait: "soon" is not a positive duration`,
		"ticket: is missing",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	r, _, err := alertmanager.ParseRouting("routing.yaml", []byte(routingFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Validate([]string{"payments", "search"}).Err(); err == nil || !strings.Contains(err.Error(), `no tenant has team "checkout"`) {
		t.Errorf("unknown team: %v", err)
	}
}
