package cost_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/cost"
	"github.com/tollgate-dev/tollgate/cost/allocation"
	"github.com/tollgate-dev/tollgate/cost/pricing"
	"github.com/tollgate-dev/tollgate/cost/source"
	"github.com/tollgate-dev/tollgate/internal/testkit/testenv"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// The fleet of the performance yardstick: per cluster, 50 nodes
// and 1,000 containers (20 namespaces × 5 Deployments × 5 pods × 2
// containers), every series labelled with its cluster.
const (
	fleetNodes       = 50
	fleetNamespaces  = 20
	fleetDeployments = 5
	fleetPods        = 5
	fleetContainers  = 2
	// fleetInterval is the backfilled samples' interval: 30m keeps the
	// backfill to ~4 million samples and leaves at least two samples in
	// every 1h range the source's rate and avg_over_time read.
	fleetInterval = 30 * time.Minute
)

// fleetSeries is one series: its exposition up to the value, and its
// value at t (seconds since the first sample).
type fleetSeries struct {
	prefix string
	value  func(secs float64) float64
}

// fleetFamily is a metric family and its series, written together as
// OpenMetrics requires.
type fleetFamily struct {
	name, kind string
	series     []fleetSeries
}

func constant(v float64) func(float64) float64 { return func(float64) float64 { return v } }

// fleet is the kube-state-metrics, cAdvisor and node series the cost
// source queries, for the clusters.
func fleet(clusters ...string) []fleetFamily {
	fams := map[string]*fleetFamily{}
	var order []string
	add := func(name, kind, labels string, value func(float64) float64) {
		f := fams[name]
		if f == nil {
			f = &fleetFamily{name: name, kind: kind}
			fams[name] = f
			order = append(order, name)
		}
		sample := name
		if kind == "counter" {
			sample += "_total"
		}
		f.series = append(f.series, fleetSeries{prefix: sample + "{" + labels + "} ", value: value})
	}
	for ci, cl := range clusters {
		region := []string{"eu-west-1", "us-east-1"}[ci%2]
		for n := range fleetNodes {
			nl := fmt.Sprintf(`cluster=%q,node="node-%02d"`, cl, n)
			add("kube_node_status_capacity", "gauge", nl+`,resource="cpu",unit="core"`, constant(16))
			add("kube_node_status_capacity", "gauge", nl+`,resource="memory",unit="byte"`, constant(64*allocation.GiB))
			// An instance type in no catalogue: the default prices.
			add("kube_node_labels", "gauge", nl+`,label_node_kubernetes_io_instance_type="bench-16c64g",label_topology_kubernetes_io_region="`+region+`"`, constant(1))
		}
		addClusterPods(cl, add)
	}
	out := make([]fleetFamily, 0, len(order))
	for _, name := range order {
		out = append(out, *fams[name])
	}
	return out
}

// addClusterPods adds a cluster's namespaces, Deployments, pods and
// containers; pod p runs on node p mod 50, so every node holds 20
// containers requesting 5 of its 16 cores.
func addClusterPods(cl string, add func(name, kind, labels string, value func(float64) float64)) {
	pod := 0
	for ns := range fleetNamespaces {
		nsl := fmt.Sprintf(`cluster=%q,namespace="ns-%02d"`, cl, ns)
		add("kube_namespace_labels", "gauge", nsl+fmt.Sprintf(`,label_team="team-%d"`, ns%7), constant(1))
		for d := range fleetDeployments {
			rs := fmt.Sprintf("app-%d-5d8f7c9b4", d)
			add("kube_replicaset_owner", "gauge", nsl+`,replicaset="`+rs+`",owner_kind="Deployment",owner_name="app-`+strconv.Itoa(d)+`"`, constant(1))
			for p := range fleetPods {
				pl := nsl + fmt.Sprintf(`,pod="%s-%05d"`, rs, p)
				node := fmt.Sprintf("node-%02d", pod%fleetNodes)
				pod++
				add("kube_pod_info", "gauge", pl+`,node="`+node+`",created_by_kind="ReplicaSet",created_by_name="`+rs+`"`, constant(1))
				add("kube_pod_labels", "gauge", pl+`,label_app="app-`+strconv.Itoa(d)+`"`, constant(1))
				for c := range fleetContainers {
					addContainer(add, pl+fmt.Sprintf(`,container="c%d"`, c), node, float64(pod%10+c)/20)
				}
			}
		}
	}
}

func addContainer(add func(name, kind, labels string, value func(float64) float64), cl, node string, use float64) {
	add("kube_pod_container_status_running", "gauge", cl, constant(1))
	add("kube_pod_container_resource_requests", "gauge", cl+`,node="`+node+`",resource="cpu",unit="core"`, constant(0.25))
	add("kube_pod_container_resource_requests", "gauge", cl+`,node="`+node+`",resource="memory",unit="byte"`, constant(allocation.GiB/2))
	add("container_cpu_usage_seconds", "counter", cl, func(s float64) float64 { return (0.05 + 0.3*use) * s })
	add("container_memory_working_set_bytes", "gauge", cl, constant((0.1+0.6*use)*allocation.GiB))
}

// writeFleet streams the families' samples from..to every fleetInterval
// into one OpenMetrics file per day under dir (promtool reads its whole
// input once per two-hour block, so small files backfill faster), and
// returns the files and the samples written.
func writeFleet(b *testing.B, dir string, fams []fleetFamily, from, to time.Time) ([]string, int) {
	var files []string
	samples := 0
	for day := from; day.Before(to); day = day.Add(24 * time.Hour) {
		end := day.Add(24 * time.Hour)
		if end.After(to) {
			end = to.Add(time.Nanosecond)
		}
		path := filepath.Join(dir, fmt.Sprintf("fleet-%d.om", len(files)))
		n, err := writeFleetFile(path, fams, from, day, end)
		if err != nil {
			b.Fatalf("writing %s: %v", path, err)
		}
		files, samples = append(files, path), samples+n
	}
	return files, samples
}

func writeFleetFile(path string, fams []fleetFamily, origin, from, to time.Time) (int, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	n := writeFamilies(w, fams, origin, from, to)
	if _, err := io.WriteString(w, "# EOF\n"); err != nil {
		f.Close()
		return 0, err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return 0, err
	}
	return n, f.Close()
}

func writeFamilies(w *bufio.Writer, fams []fleetFamily, origin, from, to time.Time) int {
	n := 0
	var line []byte
	for _, fam := range fams {
		fmt.Fprintf(w, "# TYPE %s %s\n", fam.name, fam.kind)
		for _, s := range fam.series {
			for t := from; t.Before(to); t = t.Add(fleetInterval) {
				line = append(line[:0], s.prefix...)
				line = strconv.AppendFloat(line, s.value(t.Sub(origin).Seconds()), 'g', -1, 64)
				line = append(line, ' ')
				line = strconv.AppendInt(line, t.Unix(), 10)
				line = append(line, '\n')
				w.Write(line) // a write error is sticky and returned by Flush
				n++
			}
		}
	}
	return n
}

// timedLoader times the source's share of a computation: the range
// queries and the decoding of their answers into the accumulator.
type timedLoader struct {
	src  cost.Loader
	took time.Duration
}

func (l *timedLoader) Load(ctx context.Context, acc *allocation.Accumulator, w source.Window, progress func(int, int)) (source.Labels, error) {
	began := time.Now()
	defer func() { l.took += time.Since(began) }()
	return l.src.Load(ctx, acc, w, progress)
}

// heapPeak samples the heap in use until stop is called, which returns
// its peak in bytes.
func heapPeak() (stop func() uint64) {
	var peak uint64
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	var once sync.Once
	return func() uint64 {
		once.Do(func() { close(done) })
		<-finished
		return peak
	}
}

// promCounters reads Prometheus's own query evaluation time and CPU time
// (seconds, cumulative) from its /metrics.
func promCounters(b *testing.B, base string) (eval, cpu float64) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		field := func() float64 {
			v, _ := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			return v
		}
		switch {
		case strings.HasPrefix(line, `prometheus_engine_query_duration_seconds_sum{slice="inner_eval"}`):
			eval = field()
		case strings.HasPrefix(line, "process_cpu_seconds_total "):
			cpu = field()
		}
	}
	return eval, cpu
}

// BenchmarkAllocateEndToEndTwoClusters is the end-to-end
// yardstick: 2 clusters × 50 nodes × 1,000 containers, 7 days of
// series every 30m backfilled into one real Prometheus (2.42, its
// 85 two-hour blocks left uncompacted so that no compaction runs during
// the measurement: a worst case for the backend), and the engine's
// Compute for a 7-day window (168 hourly steps, the default resolution)
// aggregated by cluster,namespace as an admin, source
// queries and core. It reports wall seconds per computation, the
// source's part (queries, answers decoded into the accumulator) and the
// core's, Prometheus's evaluation and CPU seconds, and this process's
// peak heap and peak RSS. `make bench` runs it once (-benchtime 1x).
func BenchmarkAllocateEndToEndTwoClusters(b *testing.B) {
	now := time.Now().UTC().Truncate(time.Hour)
	from := now.Add(-7*24*time.Hour - 2*time.Hour)
	began := time.Now()
	files, samples := writeFleet(b, b.TempDir(), fleet("prod-eu", "prod-us"), from, now)
	generated := time.Since(began)
	began = time.Now()
	prom := testenv.StartPrometheus(b, testenv.PrometheusOptions{OpenMetricsFiles: files, Args: []string{
		// A lookback of one sample interval lets every 5m point of the
		// running-time subqueries see a sample, as a 1m scrape would.
		"--query.lookback-delta=30m", "--storage.tsdb.max-block-duration=2h", "--query.timeout=10m"}})
	backfilled := time.Since(began)
	b.Logf("%d samples every %s (%s..%s) generated in %s, backfilled and Prometheus started in %s",
		samples, fleetInterval, from.Format(time.RFC3339), now.Format(time.RFC3339), generated.Round(time.Millisecond), backfilled.Round(time.Second))
	u, err := url.Parse(prom.URL)
	if err != nil {
		b.Fatal(err)
	}
	loader := &timedLoader{src: source.New(source.Options{URL: u, Cluster: "local",
		Prices: pricing.New(pricing.Options{Defaults: pricing.Defaults{CPU: 0.03, RAM: 0.004}})})}
	engine := cost.New(cost.Options{Source: loader, Clusters: []string{"prod-eu", "prod-us"}})
	// window=7d would start at midnight six days ago (OpenCost's
	// meaning); the yardstick is seven whole days, 168 hourly steps.
	window := now.Add(-7*24*time.Hour).Format(time.RFC3339) + "," + now.Format(time.RFC3339)
	q, err := cost.Request{Window: window, Aggregate: "cluster,namespace"}.Query(now)
	if err != nil {
		b.Fatal(err)
	}
	evalBefore, cpuBefore := promCounters(b, prom.URL)
	runtime.GC()
	stop := heapPeak()
	b.ResetTimer()
	began = time.Now()
	for b.Loop() {
		res, err := engine.Compute(context.Background(), q, tenancy.Access{Admin: true}, nil)
		if err != nil {
			b.Fatal(err)
		}
		checkFleetResult(b, res)
	}
	wall := time.Since(began)
	b.StopTimer()
	peak := stop()
	evalAfter, cpuAfter := promCounters(b, prom.URL)
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	n := float64(b.N)
	b.ReportMetric(wall.Seconds()/n, "wall-s/op")
	b.ReportMetric(loader.took.Seconds()/n, "source-s/op")
	b.ReportMetric((wall-loader.took).Seconds()/n, "core-s/op")
	b.ReportMetric((evalAfter-evalBefore)/n, "prom-eval-s/op")
	b.ReportMetric((cpuAfter-cpuBefore)/n, "prom-cpu-s/op")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(ru.Maxrss)/1024, "max-rss-MB") // Linux: KiB
	b.ReportMetric(backfilled.Seconds(), "backfill-s")
	logQueryTimes(b, prom.URL, q)
}

// logQueryTimes runs each of the source's queries alone for the last day
// of the window (one chunk), untimed by the benchmark, and logs how long
// Prometheus took: where the source's time goes.
func logQueryTimes(b *testing.B, base string, q cost.Query) {
	var parts []string
	for _, nq := range source.Queries(q.Resolution) {
		v := url.Values{"query": {nq.PromQL}, "start": {strconv.FormatInt(q.End.Add(-23*time.Hour).Unix(), 10)},
			"end": {strconv.FormatInt(q.End.Unix(), 10)}, "step": {strconv.FormatInt(int64(q.Resolution/time.Second), 10)}}
		began := time.Now()
		resp, err := http.PostForm(base+"/api/v1/query_range", v)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: %s", nq.Name, resp.Status)
		}
		parts = append(parts, fmt.Sprintf("%s %.2fs %dKB", nq.Name, time.Since(began).Seconds(), n>>10))
	}
	b.Logf("one day's chunk, each query alone: %s", strings.Join(parts, "; "))
}

// checkFleetResult: every namespace of both clusters is one allocation,
// and the week's cost is what the requests cost (the source read every
// step, not a fraction of them).
func checkFleetResult(b *testing.B, res *cost.Result) {
	if d := res.Query.End.Sub(res.Query.Start); d != 7*24*time.Hour {
		b.Fatalf("window of %s, want 168h", d)
	}
	if len(res.Sets) != 1 || len(res.Sets[0].Allocations) != 2*fleetNamespaces {
		b.Fatalf("%d sets, want 1 with %d allocations", len(res.Sets), 2*fleetNamespaces)
	}
	// Usage stays under the requests, so the requests are charged. Per
	// namespace and hour: 50 containers × (0.25 core × $0.03 + 0.5 GiB × $0.004).
	want := 50 * (0.25*0.03 + 0.5*0.004) * res.Query.End.Sub(res.Query.Start).Hours()
	for _, a := range res.Sets[0].Allocations {
		if got := a.TotalCost(); got < want*0.99 || got > want*1.01 {
			b.Fatalf("%s cost %.2f over the week, want %.2f (%.1f core-hours requested, %.1f charged, %s..%s)", a.Name, got, want, a.CPURequestCoreHours, a.CPUCoreHours, a.Start, a.End)
		}
	}
	if len(res.Warnings) != 0 {
		b.Fatalf("warnings: %v", res.Warnings)
	}
}
