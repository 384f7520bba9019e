package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/user"
	"strconv"
	"time"

	"github.com/tollgate-dev/tollgate/audit"
	"github.com/tollgate-dev/tollgate/dashboards/grafana"
	"github.com/tollgate-dev/tollgate/gateway"
	"github.com/tollgate-dev/tollgate/internal/config"
)

// provisionRun is one `tollgate dashboards provision`, for the audit
// trail.
type provisionRun struct {
	grafanaURL    string
	orgID         int
	prune, dryRun bool
	start         time.Time
	res           grafana.Result
	err           error
}

// auditProvision writes the audit record of a provisioning when the
// configuration has an audit trail: provisioning changes every team's
// folders, permissions and dashboards, a privileged action. The Grafana
// token is never recorded.
func auditProvision(stderr io.Writer, cfg *config.File, run provisionRun) error {
	if cfg == nil || cfg.Audit == nil {
		return nil
	}
	trail, err := gateway.NewAudit(cfg, nil, nil, nil)
	if err != nil {
		return fmt.Errorf("audit trail: %w", err)
	}
	trail.Record(provisionRecord(run))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = trail.Close(ctx)
	if err == nil && trail.Lost() > 0 {
		err = errors.New("an audit sink refused it or could not be reached")
	}
	switch {
	case err != nil && trail.FailClosed():
		return fmt.Errorf("the audit record of the provisioning was not written (audit.fail_closed is set): %w", err)
	case err != nil:
		fmt.Fprintf(stderr, "warning: the audit record of the provisioning was not written: %v\n", err)
	}
	return nil
}

func provisionRecord(run provisionRun) audit.Record {
	who := "unknown"
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	method := http.MethodPost
	if run.dryRun {
		method = "DRY-RUN"
	}
	r := audit.Record{
		Time: run.start.UTC(), RequestID: fmt.Sprintf("provision-%d", run.start.UnixNano()), User: who,
		Authenticator: "grafana-token", API: "grafana", Route: "dashboards provision", Method: method,
		Path:      "/api/dashboards/db",
		QuerySent: url.Values{"prune": {strconv.FormatBool(run.prune)}, "dry_run": {strconv.FormatBool(run.dryRun)}, "org_id": {strconv.Itoa(run.orgID)}},
		Decision:  audit.Allowed, Status: http.StatusOK, Duration: time.Since(run.start).Seconds(), Upstream: run.grafanaURL,
	}
	r.QueryEnforced = r.QuerySent
	for _, c := range run.res.Changes {
		r.Changes = append(r.Changes, c.String())
	}
	if run.err != nil {
		r.Decision, r.Reason, r.Status = audit.Refused, run.err.Error(), http.StatusBadGateway
	}
	return r
}
