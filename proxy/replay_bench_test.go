package proxy_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// replayRequest is one request Grafana sends for a dashboard: a variable's
// label values, or a panel target's range or instant query.
type replayRequest struct {
	path    string
	query   string // PromQL; for label values, the match[] selector
	instant bool
}

// goldenTargets reads every target and query variable of the payments
// team's golden dashboards (dashboards/testdata/golden), with Grafana's
// variables substituted as "All" and a 30 s step over 6 h would.
func goldenTargets(b *testing.B) []replayRequest {
	files, _ := filepath.Glob(filepath.Join("..", "dashboards", "testdata", "golden", "teams", "payments", "*.json"))
	if len(files) == 0 {
		b.Fatal("no golden dashboards found")
	}
	subst := strings.NewReplacer("$namespace", "team-payments-prod|team-payments-staging", "$service", "payments-api|ledger|api",
		"$slo", ".+", "$__rate_interval", "1m", "$__interval", "30s", "$__range_s", "21600", "$__range", "6h")
	labelValues := regexp.MustCompile(`^label_values\((.*),\s*(\w+)\)$`)
	var out []replayRequest
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		var d struct {
			Panels     []dashPanel `json:"panels"`
			Templating struct {
				List []struct {
					Type  string `json:"type"`
					Query any    `json:"query"`
				} `json:"list"`
			} `json:"templating"`
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			b.Fatal(err)
		}
		for _, v := range d.Templating.List {
			q, _ := v.Query.(string)
			if m := labelValues.FindStringSubmatch(q); v.Type == "query" && m != nil {
				out = append(out, replayRequest{path: "/api/v1/label/" + m[2] + "/values", query: subst.Replace(m[1])})
			}
		}
		for _, p := range flatten(d.Panels) {
			for _, t := range p.Targets {
				if t.Expr != "" {
					out = append(out, replayRequest{path: "/api/v1/query_range", query: subst.Replace(t.Expr), instant: t.Instant})
				}
			}
		}
	}
	return out
}

type dashPanel struct {
	Panels  []dashPanel `json:"panels"`
	Targets []struct {
		Expr    string `json:"expr"`
		Instant bool   `json:"instant"`
	} `json:"targets"`
}

func flatten(ps []dashPanel) []dashPanel {
	var out []dashPanel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, flatten(p.Panels)...)
	}
	return out
}

// BenchmarkDashboardReplay replays the payments team's golden dashboards
// as Grafana refreshes them: every variable and panel target, six at a
// time, over the last 6 h at a 30 s step, ten refreshes with the window
// moving by 30 s. It compares the wall time straight to Prometheus with
// the wall time through Tollgate with the results cache (memory, 64 MiB,
// cold at the first refresh), refresh by refresh interleaved, and
// reports the cache's size against its bound.
func BenchmarkDashboardReplay(b *testing.B) {
	const maxBytes = 64 << 20
	gwURL, promURL, reg := startReplayStack(b, maxBytes)
	reqs := goldenTargets(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 6}}
	now := time.Now()
	replay := func(base string, to time.Time, tenant bool) time.Duration {
		start := time.Now()
		sem := make(chan struct{}, 6)
		var wg sync.WaitGroup
		for _, r := range reqs {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				replayOne(b, client, base, r, to, tenant)
			})
		}
		wg.Wait()
		return time.Since(start)
	}
	replay(promURL, now, false) // warm Prometheus, not Tollgate
	var heapBefore runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&heapBefore)
	var direct, cached time.Duration
	for b.Loop() {
		direct, cached = 0, 0
		for k := range 10 {
			to := now.Add(-5*time.Minute + time.Duration(k)*30*time.Second)
			direct += replay(promURL, to, false)
			cached += replay(gwURL, to, true)
		}
	}
	var heapAfter runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&heapAfter)
	b.ReportMetric(float64(len(reqs)), "requests/refresh")
	b.ReportMetric(direct.Seconds()*1000, "direct-ms")
	b.ReportMetric(cached.Seconds()*1000, "tollgate-cached-ms")
	b.ReportMetric(direct.Seconds()/cached.Seconds(), "speedup")
	b.ReportMetric(gauge(b, reg, "tollgate_cache_memory_bytes")/(1<<20), "cache-MiB")
	b.ReportMetric(float64(maxBytes>>20), "cache-max-MiB")
	b.ReportMetric((float64(heapAfter.HeapInuse)-float64(heapBefore.HeapInuse))/(1<<20), "heap-growth-MiB")
}

func replayOne(b *testing.B, client *http.Client, base string, r replayRequest, to time.Time, tenant bool) {
	const step = 30
	end := to.Unix() / step * step
	start := to.Add(-6*time.Hour).Unix() / step * step
	ps := url.Values{}
	path := r.path
	switch {
	case strings.Contains(r.path, "/label/"):
		ps = url.Values{"match[]": {r.query}, "start": {fmt.Sprint(start)}, "end": {fmt.Sprint(end)}}
	case r.instant:
		path = "/api/v1/query"
		ps = url.Values{"query": {r.query}, "time": {fmt.Sprint(end)}}
	default:
		ps = url.Values{"query": {r.query}, "start": {fmt.Sprint(start)}, "end": {fmt.Sprint(end)}, "step": {fmt.Sprint(step)}}
	}
	// Grafana's Prometheus data source POSTs queries as a form.
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(ps.Encode()))
	if strings.Contains(path, "/label/") {
		req, _ = http.NewRequest(http.MethodGet, base+path+"?"+ps.Encode(), nil)
	} else {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if tenant {
		req.Header.Set("X-Forwarded-User", "grafana")
		req.Header.Set("X-Forwarded-Groups", "team-payments")
	}
	resp, err := client.Do(req)
	if err != nil {
		b.Error(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Errorf("%s %q: %d %s", path, r.query, resp.StatusCode, body)
	}
}

// startReplayStack is startStack with the cache and a registry to read
// its metrics from.
func startReplayStack(b *testing.B, maxBytes int) (gw, prom string, reg *prometheus.Registry) {
	// Data over the whole window the dashboards show, and the 5 minutes
	// it moves.
	prom, _ = startPrometheusFor(b, 6*time.Hour+10*time.Minute, "")
	gw, reg = startGatewayWithRegistry(b, fmt.Sprintf("upstreams: {prometheus: %q}\n"+paymentsOnly+"cache: {backend: memory, max_bytes: %d}\n", prom, maxBytes))
	return gw, prom, reg
}

func gauge(b *testing.B, reg *prometheus.Registry, name string) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) > 0 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	b.Fatalf("metric %s not found", name)
	return 0
}
