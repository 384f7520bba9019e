package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/tollgate-dev/tollgate/internal/childproc"
)

// AlertmanagerEnv names the environment variable that points the demo at
// an Alertmanager binary of the user's choice.
const AlertmanagerEnv = "TOLLGATE_ALERTMANAGER"

// FindAlertmanager returns the Alertmanager binary: $TOLLGATE_ALERTMANAGER
// if set, else Debian's prometheus-alertmanager or alertmanager on PATH
// (`make deps` installs it), else "": the demo then runs without alerts.
func FindAlertmanager(getenv func(string) string) string {
	if getenv != nil {
		if p := getenv(AlertmanagerEnv); p != "" {
			return p
		}
	}
	for _, name := range []string{"prometheus-alertmanager", "alertmanager"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// AlertmanagerOptions configure the demo's Alertmanager.
type AlertmanagerOptions struct {
	// Binary is the Alertmanager to run (FindAlertmanager); empty leaves
	// alerts out of the demo, saying so in the banner.
	Binary string
	// Gateway is the Tollgate that the banner's examples go through.
	Gateway *Gateway
	Logger  *slog.Logger
}

// Alertmanager is a real Alertmanager, run as a child process, holding a
// few alerts of the demo's teams and one of the platform's.
type Alertmanager struct {
	opts   AlertmanagerOptions
	client *http.Client

	child
}

// NewAlertmanager returns the component; Start brings it up.
func NewAlertmanager(opts AlertmanagerOptions) *Alertmanager {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Alertmanager{opts: opts, client: &http.Client{Timeout: 30 * time.Second}}
}

// Name implements Component.
func (a *Alertmanager) Name() string { return "alertmanager" }

// Enabled reports whether the demo runs Alertmanager.
func (a *Alertmanager) Enabled() bool { return a.opts.Binary != "" }

// URL is Alertmanager's base URL once started, "" if it is not enabled.
func (a *Alertmanager) URL() string { return a.url }

// alertmanagerConfig routes every alert to a receiver that sends nothing,
// grouped by alert name, so that a group mixes teams.
const alertmanagerConfig = `route:
  receiver: demo
  group_by: [alertname]
  group_wait: 0s
receivers:
  - name: demo
`

// demoAlerts are the alerts the demo keeps firing: two teams' alerts of
// the same name (one group), a third team's, and a platform alert without
// a namespace, which only admins see.
func demoAlerts() []map[string]string {
	return []map[string]string{
		{"alertname": "HighErrorRate", "namespace": "team-payments-prod", "service": "payments-api", "severity": "page"},
		{"alertname": "HighErrorRate", "namespace": "team-search-prod", "service": "search-api", "severity": "page"},
		{"alertname": "PodCrashLooping", "namespace": "team-checkout-prod", "service": "cart", "severity": "ticket"},
		{"alertname": "NodeNotReady", "node": "node-3", "severity": "page"},
	}
}

// alertRefresh is how often the alerts are posted again: Alertmanager
// resolves an alert not heard of for resolve_timeout (5m).
const alertRefresh = time.Minute

// Start implements Component.
func (a *Alertmanager) Start(ctx context.Context) (err error) {
	if !a.Enabled() {
		a.opts.Logger.Warn("Alertmanager is not installed: the demo runs without alerts; run `make deps` or set " + AlertmanagerEnv)
		return nil
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, a.Stop())
		}
	}()
	if a.dir, err = os.MkdirTemp("", "tollgate-demo-alertmanager-"); err != nil {
		return fmt.Errorf("creating Alertmanager's directory: %w", err)
	}
	if err := a.startProcess(ctx); err != nil {
		return err
	}
	if err := a.postAlerts(ctx); err != nil {
		return fmt.Errorf("posting the demo's alerts: %w", err)
	}
	liveCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	a.stopLive = stop
	a.live.Add(1)
	go func() {
		defer a.live.Done()
		t := time.NewTicker(alertRefresh)
		defer t.Stop()
		for {
			select {
			case <-liveCtx.Done():
				return
			case <-t.C:
				if err := a.postAlerts(liveCtx); err != nil && liveCtx.Err() == nil {
					a.opts.Logger.Warn("posting the demo's alerts again", "err", err)
				}
			}
		}
	}()
	a.opts.Logger.Info("Alertmanager is ready", "url", a.url)
	return nil
}

// startProcess writes the configuration, starts Alertmanager on a free
// port without clustering, and waits until it is ready.
func (a *Alertmanager) startProcess(ctx context.Context) error {
	cfg := filepath.Join(a.dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte(alertmanagerConfig), 0o600); err != nil {
		return fmt.Errorf("writing Alertmanager's configuration: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(a.opts.Binary, "--config.file="+cfg, "--storage.path="+filepath.Join(a.dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=warn")
	cmd.Dir = a.dir
	p, err := childproc.Start(cmd, childproc.Options{
		Name: "Alertmanager",
		Line: func(line string) { a.opts.Logger.Debug("Alertmanager output", "line", line) },
		Keep: childOutput,
	})
	if err != nil {
		return fmt.Errorf("starting Alertmanager (%s): %w", cmd.Path, err)
	}
	a.proc, a.url = p, "http://"+addr
	wait, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	probe := func(ctx context.Context) bool {
		ready, _, err := childproc.ProbeHTTP(ctx, a.client, a.url+"/-/ready")
		return err == nil && ready
	}
	if err := p.WaitReady(wait, 100*time.Millisecond, probe, 0, nil); err != nil {
		return fmt.Errorf("Alertmanager is not ready: %w%s", err, p.LastOutput())
	}
	return nil
}

// postAlerts posts the demo's alerts, as a Prometheus would.
func (a *Alertmanager) postAlerts(ctx context.Context) error {
	now := time.Now()
	var alerts []map[string]any
	for _, ls := range demoAlerts() {
		alerts = append(alerts, map[string]any{"labels": ls, "startsAt": now.Add(-10 * time.Minute).Format(time.RFC3339),
			"endsAt": now.Add(5 * time.Minute).Format(time.RFC3339)})
	}
	body, err := json.Marshal(alerts)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.url+"/api/v2/alerts", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("Alertmanager answered %s", resp.Status)
	}
	return nil
}

// Stop implements Component.
func (a *Alertmanager) Stop() error {
	return a.child.stop(10*time.Second, "Alertmanager's directory")
}

// Section implements Component: alerts and silences through the gateway.
func (a *Alertmanager) Section() Section {
	if !a.Enabled() {
		return Section{Title: "Alerts", Lines: []string{
			"Alerts: Alertmanager is not installed; run `make deps` (Debian prometheus-alertmanager) or set " + AlertmanagerEnv + ".",
		}}
	}
	base := a.opts.Gateway.URL() + "/alertmanager/api/v2"
	alice := identityHeaders("alice", "team-payments")
	foreign := `{"matchers":[{"name":"namespace","value":"team-search-prod","isRegex":false,"isEqual":true}],` +
		`"startsAt":"2026-01-01T00:00:00Z","endsAt":"2099-01-01T00:00:00Z","createdBy":"alice","comment":"silence search's pages"}`
	return Section{
		Title: "Alerts (a real Alertmanager behind the same gateway; Grafana's Alertmanager data source: URL " + a.opts.Gateway.URL() + "/alertmanager, implementation Prometheus)",
		Lines: []string{
			"Alertmanager: " + a.url + " (the upstream; every team's alerts, and a platform alert without a namespace)",
			"Silences:     a team sees, creates, updates and expires only silences confined to its namespaces; createdBy is the signed-in user",
		},
		Examples: []Example{
			{
				ID:      "alertmanager-alerts-payments",
				Title:   "alice's alerts: payments' HighErrorRate only, not search's, checkout's or the platform's",
				URL:     base + "/alerts",
				Headers: alice,
				Status:  http.StatusOK,
			},
			{
				ID:      "alertmanager-foreign-silence",
				Title:   "alice tries to silence search's alerts: refused (403), nothing reaches Alertmanager",
				URL:     base + "/silences",
				Headers: append(slices.Clone(alice), "Content-Type: application/json"),
				Body:    foreign,
				Status:  http.StatusForbidden,
			},
		},
	}
}
