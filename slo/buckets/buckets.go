// Package buckets checks latency SLIs against the histograms a Prometheus
// actually holds. A latency SLI counts the requests in the bucket whose
// upper bound is the threshold; when no bucket has that bound the SLI has
// no samples, and its burn-rate alerts can never fire. A spec's optional
// `buckets` list catches that offline only if it is right and present; this
// asks the server (Prometheus, Thanos, Mimir, or Tollgate with a token) for
// the `le` values of the very series the SLI will read.
package buckets

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/tollgate-dev/tollgate/internal/problem"
	"github.com/tollgate-dev/tollgate/promapi"
	"github.com/tollgate-dev/tollgate/slo/spec"
)

// Checker asks one Prometheus-compatible API.
type Checker struct {
	// URL is the API's base URL (the part before /api/v1).
	URL *url.URL
	// Token, if set, is sent as a bearer token.
	Token  string
	Client *http.Client
}

// Check returns a problem for every latency SLI whose threshold is not a
// bucket boundary of the series it selects (an error), and for every one
// that selects no series at all (a warning: the service may not be
// deployed yet, or the metric name or selector is wrong). An SLO is asked
// about once; errors talking to the server are returned as an error.
func (c *Checker) Check(ctx context.Context, slos []*spec.SLO) (problem.List, error) {
	var ps problem.List
	for _, s := range slos {
		l := s.SLI.Latency
		if l == nil {
			continue
		}
		query := "count by (le) (" + l.Metric + "_bucket" + l.Selector + ")"
		les, err := c.les(ctx, query)
		if err != nil {
			return ps, fmt.Errorf("SLO %s: asking %s for the buckets of %s: %w", s.ID, c.URL.Redacted(), l.Metric, err)
		}
		path := s.Key("sli.latency", "threshold")
		at := func(p problem.Problem) problem.Problem {
			p.Pos, p.Path = s.Locate(path), path+" (SLO "+s.ID+")"
			return p
		}
		switch {
		case len(les) == 0:
			ps = append(ps, at(problem.Problem{Severity: problem.SeverityWarning,
				Msg: fmt.Sprintf("%s holds no series for %s, so the SLI has no samples yet", c.URL.Redacted(), query),
				Fix: "check the metric name and selector against what the service exports; ignore this if the service is not deployed yet"}))
		case !slices.Contains(les, l.Threshold):
			ps = append(ps, at(problem.Problem{Severity: problem.SeverityError,
				Msg: fmt.Sprintf("%s is not a bucket boundary of %s_bucket%s in %s, whose boundaries are %s: the SLI would have no samples and its alerts could never fire",
					spec.FormatFloat(l.Threshold), l.Metric, l.Selector, c.URL.Redacted(), spec.FormatFloats(les)),
				Fix: fmt.Sprintf("use a boundary, e.g. %s, or add %s to the histogram's buckets in the service", spec.FormatFloat(spec.Nearest(les, l.Threshold)), spec.FormatFloat(l.Threshold))}))
		}
	}
	return ps, nil
}

// les runs an instant query and returns the sorted, distinct finite `le`
// values of its result.
func (c *Checker) les(ctx context.Context, query string) ([]float64, error) {
	api := promapi.New(promapi.Options{URL: c.URL, Client: c.Client, BearerToken: c.Token})
	vector, err := api.Query(ctx, query)
	if err != nil {
		return nil, err
	}
	var les []float64
	for _, s := range vector {
		le, err := strconv.ParseFloat(s.Metric["le"], 64)
		if err != nil || math.IsInf(le, 0) || slices.Contains(les, le) {
			continue
		}
		les = append(les, le)
	}
	slices.Sort(les)
	return les, nil
}
