package promserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/regexp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/route"

	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/scrape"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/util/features"
	"github.com/prometheus/prometheus/util/notifications"
	v1 "github.com/prometheus/prometheus/web/api/v1"
)

// apiDeps is what the HTTP API serves.
type apiDeps struct {
	engine   promql.QueryEngine
	db       *tsdb.DB
	rules    *rules.Manager
	url      *url.URL
	dir      string
	logger   *slog.Logger
	gatherer prometheus.Gatherer
	features features.Collector
	parser   parser.Parser
}

// newAPI serves Prometheus' own HTTP API package, so that the
// gateway is demonstrated against exactly the responses it meets in
// production. The parts of a Prometheus server the demo does not have
// (scraping, Alertmanagers, configuration, remote write) are empty stubs
// rather than nils, which the API would dereference on their endpoints.
func newAPI(d apiDeps) http.Handler {
	startTime := time.Now()
	none := noScraping{}
	api := v1.NewAPI(
		d.engine,
		d.db,
		nil, // no remote write or OTLP receiver, hence no appender
		// Exemplar storage is off, so queries find none, but the endpoint
		// answers instead of dereferencing nil.
		d.db,
		func(context.Context) v1.ScrapePoolsRetriever { return none },
		func(context.Context) v1.TargetRetriever { return none },
		func(context.Context) v1.AlertmanagerRetriever { return none },
		func() config.Config { return config.DefaultConfig },
		map[string]string{},
		v1.GlobalURLOptions{ListenAddress: d.url.Host, Host: d.url.Host, Scheme: d.url.Scheme},
		func(f http.HandlerFunc) http.HandlerFunc { return f }, // ready as soon as it serves
		tsdbStats{d.db},
		d.dir,
		false, // no admin API: nothing may delete the demo's data
		false, // no search API
		0,
		d.logger,
		func(context.Context) v1.RulesRetriever { return d.rules },
		0, 0, 0, // remote read limits; remote read is not advertised
		false, // not an agent
		// An origin that never matches: no web page may read the demo
		// through the visitor's browser.
		regexp.MustCompile(`^$`),
		func() (v1.RuntimeInfo, error) { return runtimeInfo(startTime, d.dir), nil },
		buildInfo(),
		func() []notifications.Notification { return []notifications.Notification{} },
		func() (<-chan notifications.Notification, func(), bool) { return nil, func() {}, false },
		d.gatherer,
		prometheus.NewRegistry(), // remote read metrics, which nobody reads
		nil,
		false, nil, // no remote write receiver
		false, false, false, // no OTLP receiver
		0, // default lookback delta
		false,
		false,
		nil,
		d.features,
		v1.OpenAPIOptions{ExternalURL: d.url.String()},
		d.parser,
		false, // no query cost statistics
		0,     // no --query.timeout flag to report
	)
	router := route.New()
	api.Register(router.WithPrefix("/api/v1"))

	mux := http.NewServeMux()
	mux.Handle("/api/v1/", router)
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("Prometheus Server is Healthy.\n"))
	})
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("Prometheus Server is Ready.\n"))
	})
	return mux
}

// noScraping answers the scrape and Alertmanager endpoints: the demo has
// neither targets nor Alertmanagers.
type noScraping struct{}

func (noScraping) ScrapePools() []string                       { return []string{} }
func (noScraping) TargetsActive() map[string][]*scrape.Target  { return map[string][]*scrape.Target{} }
func (noScraping) TargetsDropped() map[string][]*scrape.Target { return map[string][]*scrape.Target{} }
func (noScraping) TargetsDroppedCounts() map[string]int        { return map[string]int{} }
func (noScraping) Alertmanagers() []*url.URL                   { return nil }
func (noScraping) DroppedAlertmanagers() []*url.URL            { return nil }
func (noScraping) ScrapePoolConfig(string) (*config.ScrapeConfig, error) {
	return nil, errors.New("the demo has no scrape pools")
}

// tsdbStats adapts *tsdb.DB to the API's TSDB status endpoints, as
// Prometheus' own readyStorage does.
type tsdbStats struct{ db *tsdb.DB }

func (s tsdbStats) CleanTombstones() error { return s.db.CleanTombstones() }
func (s tsdbStats) Delete(ctx context.Context, mint, maxt int64, ms ...*labels.Matcher) error {
	return s.db.Delete(ctx, mint, maxt, ms...)
}
func (s tsdbStats) Snapshot(dir string, withHead bool) error { return s.db.Snapshot(dir, withHead) }
func (s tsdbStats) Stats(statsByLabelName string, limit int) (*tsdb.Stats, error) {
	return s.db.Head().Stats(statsByLabelName, limit), nil
}
func (s tsdbStats) WALReplayStatus() (tsdb.WALReplayStatus, error) {
	// There is no WAL to replay.
	return tsdb.WALReplayStatus{}, nil
}
func (s tsdbStats) BlockMetas() ([]tsdb.BlockMeta, error) { return s.db.BlockMetas(), nil }

func runtimeInfo(start time.Time, dir string) v1.RuntimeInfo {
	cwd, _ := os.Getwd()
	host, _ := os.Hostname()
	return v1.RuntimeInfo{
		StartTime:           start,
		CWD:                 cwd,
		Hostname:            host,
		ServerTime:          time.Now(),
		ReloadConfigSuccess: true,
		LastConfigTime:      start,
		GoroutineCount:      runtime.NumGoroutine(),
		GOMAXPROCS:          runtime.GOMAXPROCS(0),
		GOMEMLIMIT:          debug.SetMemoryLimit(-1),
		GOGC:                os.Getenv("GOGC"),
		GODEBUG:             os.Getenv("GODEBUG"),
		StorageRetention:    "until the demo stops (" + dir + ")",
	}
}

// buildInfo reports the version of the Prometheus module the demo embeds,
// which is what decides the API's behaviour. Clients such as Grafana pick
// features by this version, so it is given as a Prometheus release number.
func buildInfo() *v1.PrometheusVersion {
	v := &v1.PrometheusVersion{Version: "unknown", BuildUser: "tollgate demo", GoVersion: runtime.Version()}
	// Test binaries carry no dependency list; the version stays unknown.
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == "github.com/prometheus/prometheus" {
				v.Version = releaseVersion(m.Version)
			}
		}
	}
	return v
}

// releaseVersion turns the Go module version of Prometheus 3 into its release
// number: module v0.312.1 is Prometheus 3.12.1. Other versions are returned
// without their "v".
func releaseVersion(module string) string {
	major, rest, _ := strings.Cut(strings.TrimPrefix(module, "v"), ".")
	minorText, patch, ok := strings.Cut(rest, ".")
	minor, err := strconv.Atoi(minorText)
	if major != "0" || !ok || err != nil || minor < 300 {
		return strings.TrimPrefix(module, "v")
	}
	return fmt.Sprintf("%d.%d.%s", minor/100, minor%100, patch)
}
