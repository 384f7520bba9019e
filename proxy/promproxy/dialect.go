package promproxy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/tollgate-dev/tollgate/promenforce"
)

// maxBuildInfoBytes bounds the status/buildinfo answer read to detect a
// dialect (a real one is a few hundred bytes).
const maxBuildInfoBytes = 64 << 10

// BuildInfo is what DetectDialect read from the backend.
type BuildInfo struct {
	Dialect promenforce.Dialect
	// Version and Application are the backend's own words, for the log.
	Version, Application string
}

// DetectDialect reads the backend's /api/v1/status/buildinfo and tells which
// PromQL dialect it speaks: Mimir says so in "application"; Thanos reports
// its own 0.x version; Prometheus reports 2.x or 3.x. orgID is sent as
// X-Scope-OrgID when set (Mimir requires one on every request).
func DetectDialect(ctx context.Context, base *url.URL, transport http.RoundTripper, orgID string) (BuildInfo, error) {
	u := base.JoinPath("/api/v1/status/buildinfo")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return BuildInfo{}, fmt.Errorf("building the buildinfo request: %w", err)
	}
	if orgID != "" {
		req.Header.Set("X-Scope-OrgID", orgID)
	}
	resp, err := (&http.Client{Transport: transport}).Do(req)
	if err != nil {
		return BuildInfo{}, fmt.Errorf("reading %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return BuildInfo{}, fmt.Errorf("reading %s: status %s", u.Redacted(), resp.Status)
	}
	var r struct {
		Data struct {
			Version     string `json:"version"`
			Application string `json:"application"`
		} `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBuildInfoBytes)).Decode(&r); err != nil {
		return BuildInfo{}, fmt.Errorf("decoding %s: %w", u.Redacted(), err)
	}
	d, err := dialectOf(r.Data.Application, r.Data.Version)
	if err != nil {
		return BuildInfo{}, fmt.Errorf("%s: %w", u.Redacted(), err)
	}
	return BuildInfo{Dialect: d, Version: r.Data.Version, Application: r.Data.Application}, nil
}

// dialectOf maps a build's application and version to its dialect.
func dialectOf(application, version string) (promenforce.Dialect, error) {
	if strings.Contains(strings.ToLower(application), "mimir") || strings.Contains(strings.ToLower(application), "cortex") {
		return promenforce.DialectMimir, nil
	}
	major, _, _ := strings.Cut(strings.TrimPrefix(version, "v"), ".")
	switch major {
	case "0":
		// Thanos is the Prometheus-compatible API still on 0.x.
		return promenforce.DialectThanos, nil
	case "2":
		return promenforce.DialectPrometheus2, nil
	case "3":
		return promenforce.DialectPrometheus3, nil
	}
	return "", fmt.Errorf("version %q of %q is not one Tollgate knows the dialect of; set upstreams.prometheus_dialect", version, application)
}
