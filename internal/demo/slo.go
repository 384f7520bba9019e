package demo

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/tollgate-dev/tollgate/slo/alertmanager"
	"github.com/tollgate-dev/tollgate/slo/build"
	"github.com/tollgate-dev/tollgate/slo/rules"
	"github.com/tollgate-dev/tollgate/slo/windows"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// demoSLOSpec is the payments team's SLO spec over the synthetic cluster's
// metrics: what the team would keep in Git. It names no namespace;
// --tenant payments confines it.
const demoSLOSpec = `# The payments team's SLOs, as the team keeps them in Git. Generate the
# rules with: tollgate slo generate --tenant payments --config tollgate.yaml
version: prometheus/v1
service: payments-api
labels: {tier: "1"}
slos:
  - name: availability
    objective: 99.5
    description: Requests answered without a 5xx.
    sli:
      ratio:
        errors: http_requests_total{service="payments-api",code=~"5.."}
        total: http_requests_total{service="payments-api"}
    alerting:
      name: PaymentsAPIAvailability
      page_alert: {for: 2m}
      ticket_alert: {for: 15m}
      absent_alert: {}
  - name: latency
    objective: 99
    description: Requests answered within 250 ms.
    sli:
      latency:
        metric: http_request_duration_seconds
        selector: '{service="payments-api"}'
        threshold: 0.25
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
    alerting:
      name: PaymentsAPILatency
`

// demoRouting is an example routing file: platform SRE's pager, a ticket
// queue, and the payments team paged directly for its own SLOs.
const demoRouting = `# Who receives the SLO alerts. Replace the URLs with your receivers, then:
#   tollgate slo alertmanager-config --routing routing.yaml --out alertmanager.yml
pager:
  name: platform-sre-pager
  webhook_configs: [{url: "https://pager.example.com/platform-sre"}]
ticket:
  name: slo-tickets
  webhook_configs: [{url: "https://tickets.example.com/slo"}]
teams:
  - team: payments
    pager:
      name: payments-pager
      webhook_configs: [{url: "https://pager.example.com/payments"}]
`

// SLOs writes what the SLO generator produces for the demo's platform into
// the output folder: the built-in catalogue's rules, the payments team's
// spec and its tenant-confined rules, and the Alertmanager configuration
// that routes their alerts. Nothing runs; the files stay after the demo
// stops, ready for promtool, amtool, Prometheus and Alertmanager.
type SLOs struct {
	dir     string
	tenancy tenancy.Config
	logger  *slog.Logger
	files   map[string]string // role -> path
	slos    int
}

// NewSLOs returns the component writing into dir/slo.
func NewSLOs(dir string, tc tenancy.Config, logger *slog.Logger) *SLOs {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &SLOs{dir: dir, tenancy: tc, logger: logger, files: map[string]string{}}
}

// Name implements Component.
func (s *SLOs) Name() string { return "slo" }

// Dir is the folder the files are written to.
func (s *SLOs) Dir() string { return s.dir }

// Files are the written files by role: catalogue-rules, team-spec,
// team-rules, routing, alertmanager.
func (s *SLOs) Files() map[string]string { return s.files }

// Start implements Component: it generates and writes the files.
func (s *SLOs) Start(context.Context) error {
	dir, err := filepath.Abs(filepath.Join(s.dir, "slo"))
	if err != nil {
		return fmt.Errorf("demo SLO folder: %w", err)
	}
	s.dir = dir
	ws, err := windows.Default().Get(30 * 24 * time.Hour)
	if err != nil {
		return err
	}
	platform, err := s.writeCatalogue(ws)
	if err != nil {
		return err
	}
	team, err := s.writeTeam(ws)
	if err != nil {
		return err
	}
	if err := s.writeAlertmanager(); err != nil {
		return err
	}
	s.slos = platform + team
	s.logger.Info("SLO rules and Alertmanager configuration written", "dir", dir, "slos", s.slos)
	return nil
}

// write writes one of the files, by role, into the folder.
func (s *SLOs) write(role, name string, data []byte) error {
	p := filepath.Join(s.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("demo SLO folder: %w", err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return fmt.Errorf("writing the demo's %s: %w", role, err)
	}
	s.files[role] = p
	return nil
}

// writeCatalogue writes the built-in catalogue's rules, as
// tollgate slo generate --catalog does, and returns how many SLOs it has.
func (s *SLOs) writeCatalogue(ws windows.Windows) (int, error) {
	b, err := readSLOSpecs(build.Sources{Catalog: true})
	if err != nil {
		return 0, fmt.Errorf("the SLO catalogue: %w", err)
	}
	platform, err := renderRules(b, rules.Options{Windows: ws})
	if err != nil {
		return 0, fmt.Errorf("the SLO catalogue's rules: %w", err)
	}
	if err := s.write("catalogue-rules", "rules/platform.yml", platform); err != nil {
		return 0, err
	}
	return len(b.Set.SLOs()), nil
}

// writeTeam writes the payments team's spec and its rules, confined to the
// tenant payments by the mapping tollgate slo generate --tenant payments
// uses, and returns how many SLOs the spec has.
func (s *SLOs) writeTeam(ws windows.Windows) (int, error) {
	if err := s.write("team-spec", "specs/payments.yaml", []byte(demoSLOSpec)); err != nil {
		return 0, err
	}
	b, err := readSLOSpecs(build.Sources{Paths: []string{s.files["team-spec"]}})
	if err != nil {
		return 0, fmt.Errorf("the demo's SLO spec: %w", err)
	}
	tn, err := tenancy.New(s.tenancy)
	if err != nil {
		return 0, fmt.Errorf("demo tenancy: %w", err)
	}
	payments, ok := tn.Tenant("payments")
	if !ok {
		return 0, fmt.Errorf("demo tenancy has no tenant payments")
	}
	team, err := renderRules(b, rules.ForTenant(rules.Options{Windows: ws}, payments))
	if err != nil {
		return 0, fmt.Errorf("the payments team's SLO rules: %w", err)
	}
	if err := s.write("team-rules", "rules/payments.yml", team); err != nil {
		return 0, err
	}
	return len(b.Set.SLOs()), nil
}

// writeAlertmanager writes the example routing file and the Alertmanager
// configuration generated from it.
func (s *SLOs) writeAlertmanager() error {
	if err := s.write("routing", "alertmanager/routing.yaml", []byte(demoRouting)); err != nil {
		return err
	}
	routing, ps, err := alertmanager.ParseRouting(s.files["routing"], []byte(demoRouting))
	if err != nil {
		return fmt.Errorf("the demo's alert routing: %w", ps.Err())
	}
	var am bytes.Buffer
	if err := alertmanager.Write(&am, routing); err != nil {
		return err
	}
	return s.write("alertmanager", "alertmanager/alertmanager.yml", am.Bytes())
}

// readSLOSpecs reads specs as tollgate slo generate does; the demo's own have
// no errors.
func readSLOSpecs(src build.Sources) (*build.Build, error) {
	b, err := build.Read(src)
	if err != nil {
		return nil, err
	}
	if err := b.Problems.Err(); err != nil {
		return nil, err
	}
	return b, nil
}

// renderRules generates the rules of b and renders them as a Prometheus rule
// file. Warnings are the demo's own business and known.
func renderRules(b *build.Build, opts rules.Options) ([]byte, error) {
	if err := b.Generate(opts); err != nil {
		return nil, err
	}
	if err := b.Problems.Err(); err != nil {
		return nil, err
	}
	return b.Render(rules.FormatPrometheus)
}

// Stop implements Component. The files stay: they are the demo's output.
func (s *SLOs) Stop() error { return nil }

// Section implements Component.
func (s *SLOs) Section() Section {
	f := s.files
	return Section{
		Title: "SLOs (rule and Alertmanager files; they stay after the demo stops)",
		Lines: []string{
			fmt.Sprintf("Written to %s: %d SLOs", s.dir, s.slos),
			"Platform: " + f["catalogue-rules"] + "  (the built-in catalogue: tollgate slo catalog)",
			"Team:     " + f["team-spec"] + " -> " + f["team-rules"] + "  (--tenant payments: every query confined to its namespaces)",
			"Routes:   " + f["routing"] + " -> " + f["alertmanager"],
			"Check:    promtool check rules " + f["catalogue-rules"] + " " + f["team-rules"],
			"          amtool check-config " + f["alertmanager"],
			"Validate: tollgate slo validate --team payments " + f["team-spec"],
		},
	}
}
