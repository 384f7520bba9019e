package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/internal/childproc"
	"github.com/tollgate-dev/tollgate/internal/demo/lokiserver"
	"github.com/tollgate-dev/tollgate/internal/demo/synth"
)

// LokiOptions configure the demo's Loki.
type LokiOptions struct {
	// Binary is the Loki server to run (FindLoki). Empty leaves logs out of
	// the demo: the component then only explains, in the banner, how to
	// get them.
	Binary string
	// Cluster is the synthetic cluster whose services write logs.
	Cluster synth.Cluster
	// Orgs maps each namespace of the cluster to its Loki org ID.
	Orgs map[string]string
	// History is how far back the logs loaded at startup go.
	History time.Duration
	// Step is the spacing of each service's lines in the history.
	Step time.Duration
	// LiveInterval is how often each service writes a live line.
	LiveInterval time.Duration
	// ReadyTimeout bounds the wait for Loki's /ready; StopTimeout the wait
	// for it to exit after SIGTERM, before it is killed.
	ReadyTimeout time.Duration
	StopTimeout  time.Duration
	// Gateway is the Tollgate that the banner's examples go through.
	Gateway *Gateway
	Logger  *slog.Logger
}

// Defaults for LokiOptions left zero.
const (
	DefaultLogHistory       = time.Hour
	DefaultLogStep          = 10 * time.Second
	DefaultLogInterval      = 5 * time.Second
	DefaultLokiReadyTimeout = 2 * time.Minute
	DefaultLokiStopTimeout  = 10 * time.Second
)

// Loki is a real Loki, run as a child process with its own configuration
// and storage in a temporary directory, holding the synthetic cluster's
// logs in one org per tenant.
type Loki struct {
	opts   LokiOptions
	client *http.Client

	child
	lines int
}

// NewLoki returns the component; Start brings it up.
func NewLoki(opts LokiOptions) *Loki {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.History == 0 {
		opts.History = DefaultLogHistory
	}
	if opts.Step == 0 {
		opts.Step = DefaultLogStep
	}
	if opts.LiveInterval == 0 {
		opts.LiveInterval = DefaultLogInterval
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = DefaultLokiReadyTimeout
	}
	if opts.StopTimeout == 0 {
		opts.StopTimeout = DefaultLokiStopTimeout
	}
	// Every request to Loki is local and small; a stuck one should fail
	// rather than hang the demo.
	return &Loki{opts: opts, client: &http.Client{Timeout: 30 * time.Second}}
}

// Name implements Component.
func (l *Loki) Name() string { return "loki" }

// Enabled reports whether the demo runs Loki, that is whether it was given
// a binary.
func (l *Loki) Enabled() bool { return l.opts.Binary != "" }

// URL is Loki's base URL once started, "" if it is not enabled.
func (l *Loki) URL() string { return l.url }

// Start implements Component. It returns once Loki is ready and holds the
// synthetic history; live lines keep coming until Stop.
func (l *Loki) Start(ctx context.Context) (err error) {
	log := l.opts.Logger
	if !l.Enabled() {
		log.Warn("Loki is not built: the demo runs without logs; run `make loki` or `make demo`, or set " + LokiEnv)
		return nil
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, l.Stop())
		}
	}()
	l.dir, err = os.MkdirTemp("", "tollgate-demo-loki-")
	if err != nil {
		return fmt.Errorf("creating Loki's directory: %w", err)
	}
	began := time.Now()
	log.Info("starting Loki", "binary", l.opts.Binary, "dir", l.dir)
	// The ports are free when picked but not reserved: another process may
	// take one before Loki binds it. That shows as Loki exiting with
	// "address already in use", and is worth a second try on other ports.
	for attempt := 1; ; attempt++ {
		err = l.startProcess(ctx)
		if err == nil || !errors.Is(err, errPortTaken) || attempt == 3 {
			break
		}
		log.Info("a port picked for Loki was taken meanwhile; retrying on others", "err", err)
		// Start the next attempt from an empty directory.
		if err := os.RemoveAll(l.dir); err != nil {
			return fmt.Errorf("emptying Loki's directory: %w", err)
		}
		if err := os.Mkdir(l.dir, 0o700); err != nil {
			return fmt.Errorf("creating Loki's directory: %w", err)
		}
	}
	if err != nil {
		return err
	}
	log.Info("Loki is ready", "url", l.url, "took", time.Since(began).Round(time.Millisecond))

	seeded := time.Now()
	end := seeded.Truncate(l.opts.Step)
	pushes := logLines(l.opts.Cluster, l.opts.Orgs, every(end.Add(-l.opts.History), end, l.opts.Step), l.opts.Step)
	if err := l.push(ctx, pushes); err != nil {
		return fmt.Errorf("loading the synthetic logs: %w", err)
	}
	log.Info("loaded synthetic logs", "lines", l.lines, "orgs", len(pushes), "since", end.Add(-l.opts.History).Format(time.RFC3339),
		"took", time.Since(seeded).Round(time.Millisecond))

	liveCtx, stopLive := context.WithCancel(context.WithoutCancel(ctx))
	l.stopLive = stopLive
	exited := l.proc.Exited()
	l.live.Add(1)
	go func() {
		defer l.live.Done()
		l.pushLive(liveCtx, exited)
	}()
	return nil
}

// errPortTaken marks a start that failed because a port was taken.
var errPortTaken = errors.New("a port Loki was to listen on is taken")

// startProcess writes the configuration for two free ports, starts Loki and
// waits until it is ready.
func (l *Loki) startProcess(ctx context.Context) error {
	httpPort, err := freePort()
	if err != nil {
		return err
	}
	grpcPort, err := freePort()
	if err != nil {
		return err
	}
	cfgPath := filepath.Join(l.dir, "loki.yaml")
	if err := os.WriteFile(cfgPath, []byte(lokiserver.Config(l.dir, httpPort, grpcPort)), 0o600); err != nil {
		return fmt.Errorf("writing Loki's configuration: %w", err)
	}
	cmd := exec.Command(l.opts.Binary, "-config.file="+cfgPath)
	cmd.Dir = l.dir
	// Loki logs at warn, but even so prints harmless errors at startup (an
	// empty ring, for one) that would only alarm the demo's user: its
	// output is kept for error messages and logged at debug only.
	p, err := childproc.Start(cmd, childproc.Options{
		Name: "Loki",
		Line: func(line string) { l.opts.Logger.Debug("Loki output", "line", line) },
		Keep: childOutput,
	})
	if err != nil {
		return fmt.Errorf("starting Loki (%s): %w", cmd.Path, err)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	if err := l.waitReady(ctx, url, p); err != nil {
		// A Loki that is not ready is no use; stop it before a retry or
		// returning the error.
		if stopErr := p.Stop(l.opts.StopTimeout); stopErr != nil {
			err = errors.Join(err, stopErr)
		}
		if strings.Contains(p.Output(), "address already in use") {
			err = fmt.Errorf("%w: %w", errPortTaken, err)
		}
		return err
	}
	l.proc, l.url = p, url
	go p.Watch(l.opts.Logger, "Loki exited unexpectedly; logs are unavailable until the demo is restarted")
	return nil
}

// waitReady polls /ready until Loki answers 200, reporting progress every
// few seconds, so that a slow start does not look like a hang.
func (l *Loki) waitReady(ctx context.Context, url string, p *childproc.Process) error {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, l.opts.ReadyTimeout)
	defer cancel()
	var last string
	probe := func(ctx context.Context) bool {
		ready, status, err := l.ready(ctx, url)
		switch {
		case err != nil:
			// Connection refused, as a rule: Loki has not opened its
			// port yet.
			last = "not answering yet"
		case status != "":
			last = status
		}
		return ready
	}
	progress := func(elapsed time.Duration) {
		l.opts.Logger.Info("waiting for Loki to be ready", "elapsed", elapsed.Round(time.Second), "loki", last)
	}
	switch err := p.WaitReady(ctx, 100*time.Millisecond, probe, 3*time.Second, progress); {
	case err == nil:
		return nil
	case errors.Is(err, childproc.ErrExited):
		return fmt.Errorf("Loki exited before it was ready (%v)%s", p.Err(), p.LastOutput())
	case parent.Err() != nil:
		// Interrupted, or out of the caller's time.
		return fmt.Errorf("waiting for Loki to be ready: %w", parent.Err())
	default:
		return fmt.Errorf("Loki is not ready after %s: %s%s", l.opts.ReadyTimeout, last, p.LastOutput())
	}
}

// ready asks /ready once; status is Loki's explanation when it is not.
func (l *Loki) ready(ctx context.Context, url string) (ok bool, status string, err error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return childproc.ProbeHTTP(ctx, l.client, url+"/ready")
}

// push sends the pushes in org order, counting the lines.
func (l *Loki) push(ctx context.Context, pushes map[string]*lokiPush) error {
	orgs := make([]string, 0, len(pushes))
	for org := range pushes {
		orgs = append(orgs, org)
	}
	slices.Sort(orgs)
	for _, org := range orgs {
		if err := pushLogs(ctx, l.client, l.url, org, pushes[org]); err != nil {
			return err
		}
		for _, s := range pushes[org].Streams {
			l.lines += len(s.Values)
		}
	}
	return nil
}

// pushLive writes a line per service every LiveInterval, so that recent
// queries and live tail show activity, until ctx ends or Loki has exited
// (which watch reports). A failure is reported when it starts and when it
// ends, not on every tick.
func (l *Loki) pushLive(ctx context.Context, exited <-chan struct{}) {
	tick := time.NewTicker(l.opts.LiveInterval)
	defer tick.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-exited:
			return
		case t := <-tick.C:
			// At the tick's time, not spread: a live line is never in
			// the future.
			pushes := logLines(l.opts.Cluster, l.opts.Orgs, []time.Time{t}, 0)
			err := l.pushAll(ctx, pushes)
			switch {
			case ctx.Err() != nil:
				return
			case err != nil && !failing:
				l.opts.Logger.Warn("pushing live logs to Loki failed; retrying every interval", "err", err)
				failing = true
			case err == nil && failing:
				l.opts.Logger.Info("pushing live logs to Loki works again")
				failing = false
			}
		}
	}
}

func (l *Loki) pushAll(ctx context.Context, pushes map[string]*lokiPush) error {
	var errs []error
	for org, p := range pushes {
		errs = append(errs, pushLogs(ctx, l.client, l.url, org, p))
	}
	return errors.Join(errs...)
}

// Stop implements Component: the live lines stop, then Loki gets SIGTERM
// (and SIGKILL if it has not exited after StopTimeout), then its directory
// is removed.
func (l *Loki) Stop() error {
	return l.child.stop(l.opts.StopTimeout, "Loki's directory")
}

// Section implements Component: the logs' part of the banner, whose
// examples go through the gateway.
func (l *Loki) Section() Section {
	if !l.Enabled() {
		return Section{
			Title: "Logs",
			Lines: []string{
				"Logs: Loki is not built; run `make loki` (or `make demo`, which builds it)",
				"      or set " + LokiEnv + " to a Loki 3 server binary. Everything above works without it.",
			},
		}
	}
	base := l.opts.Gateway.URL()
	alice := identityHeaders("alice", "team-payments")
	countByNamespace := []Param{{"query", `sum by (namespace) (count_over_time({service=~".+"}[1h]))`}}
	push := func(namespace, msg string) string {
		return `{"streams":[{"stream":{"namespace":"` + namespace + `","service":"curl"},"values":[["` + Now + `","level=info service=curl user=alice msg=` + msg + `"]]}]}`
	}
	jsonPush := append(slices.Clone(alice), "Content-Type: application/json")
	return Section{
		Title: "Logs (a real Loki behind the same gateway; point Grafana's Loki data source at it too)",
		Lines: []string{
			"Loki:     " + l.url + " (the upstream; it trusts any X-Scope-OrgID it is sent, so Tollgate sets it from the tenancy)",
			"Orgs:     " + l.orgsLine(),
			fmt.Sprintf("Data:     %d logfmt access-log lines over the last %s, one per service every %s, and a live one every %s; stream labels cluster, namespace, service",
				l.lines, shortDuration(l.opts.History), shortDuration(l.opts.Step), shortDuration(l.opts.LiveInterval)),
			"Pushes:   only into your own namespaces; a stream without a namespace label goes to your tenant's default_namespace (payments: team-payments-prod)",
			`Tail:     logcli --addr=` + base + ` --header=` + shellQuote(alice[0]) + ` --header=` + shellQuote(alice[1]) + ` query --tail '{service=~".+"}'`,
		},
		Examples: []Example{
			{
				ID:      "logs-errors",
				Title:   "alice's error lines, from her namespaces only (query_range covers the last hour unless told otherwise)",
				URL:     base + "/loki/api/v1/query_range",
				Headers: alice,
				Params:  []Param{{"query", `{service=~".+"} |= "error"`}, {"limit", "5"}},
				Status:  http.StatusOK,
			},
			{
				ID:      "logs-count-payments",
				Title:   "Lines per namespace in the last hour as alice: team-payments-prod and team-payments-staging",
				URL:     base + "/loki/api/v1/query",
				Headers: alice,
				Params:  countByNamespace,
				Status:  http.StatusOK,
			},
			{
				ID:      "logs-count-checkout",
				Title:   "The same query as bob (team-checkout): team-checkout-prod, from the checkout org",
				URL:     base + "/loki/api/v1/query",
				Headers: identityHeaders("bob", "team-checkout"),
				Params:  countByNamespace,
				Status:  http.StatusOK,
			},
			{
				ID:      "logs-count-admin",
				Title:   "The ci token reads every org: all 7 namespaces, the platform's included",
				URL:     base + "/loki/api/v1/query",
				Headers: []string{"Authorization: Bearer " + l.opts.Gateway.Token()},
				Params:  countByNamespace,
				Status:  http.StatusOK,
			},
			{
				ID:      "logs-label-values",
				Title:   "The namespaces alice can list in Loki",
				URL:     base + "/loki/api/v1/label/namespace/values",
				Headers: alice,
				Status:  http.StatusOK,
			},
			{
				ID:      "logs-push-foreign",
				Title:   "alice pushing a line into team-checkout-prod is refused, and nothing is written: 403",
				URL:     base + "/loki/api/v1/push",
				Headers: jsonPush,
				Body:    push("team-checkout-prod", "into-checkout"),
				Status:  http.StatusForbidden,
			},
			{
				ID:      "logs-push-own",
				Title:   "Into her own namespace the push goes through to the payments org: 204",
				URL:     base + "/loki/api/v1/push",
				Headers: jsonPush,
				Body:    push("team-payments-prod", "hello"),
				Status:  http.StatusNoContent,
			},
			{
				ID:      "logs-read-pushed",
				Title:   "alice reads back what she pushed",
				URL:     base + "/loki/api/v1/query_range",
				Headers: alice,
				Params:  []Param{{"query", `{service="curl"}`}},
				Status:  http.StatusOK,
			},
		},
	}
}

// orgsLine tells which namespaces each Loki org holds, e.g.
// "payments: team-payments-prod, team-payments-staging; ...".
func (l *Loki) orgsLine() string {
	byOrg := map[string][]string{}
	var orgs []string
	for _, ns := range l.opts.Cluster.Namespaces {
		org := l.opts.Orgs[ns.Name]
		if _, ok := byOrg[org]; !ok {
			orgs = append(orgs, org)
		}
		byOrg[org] = append(byOrg[org], ns.Name)
	}
	parts := make([]string, 0, len(orgs))
	for _, org := range orgs {
		name := org
		if org == platformOrg {
			name += " (admins only)"
		}
		parts = append(parts, name+": "+strings.Join(byOrg[org], ", "))
	}
	return strings.Join(parts, "; ")
}
