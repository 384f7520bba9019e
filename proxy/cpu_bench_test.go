//go:build linux

package proxy_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/testkit/testenv"
)

// BenchmarkProxyCPUVersusPromLabelProxy runs the same query_range (1 h,
// step 60 s, a tenant of two namespaces) under the same load (8 clients)
// straight to Prometheus, through prom-label-proxy v0.11.1 and through
// Tollgate without a cache, each proxy in its own process, in the same
// run, and compares the proxies' own CPU time per request (from
// /proc/PID/stat), latency and throughput. b.N is the requests per target
// and round; three rounds alternate the targets. Tollgate runs twice: with
// its fast HTTP/1.1 server (the default) and with proxy.http_server:
// net/http.
func BenchmarkProxyCPUVersusPromLabelProxy(b *testing.B) {
	plp := promLabelProxyBinary(b)
	_, promURL, end := startStack(b, "", "upstreams: {prometheus: %[1]q}\ntenancy: {label: namespace, tenants: [{name: x, groups: [x], namespaces: [x]}]}\nauth: {trusted_headers: {user: U, groups: G, trusted_cidrs: [127.0.0.1/32]}}\n")
	plpAddr := testenv.FreeAddr(b)
	plpProc := startProc(b, "prom-label-proxy", plp, "-label", "namespace", "-label-value", "team-payments-prod", "-label-value", "team-payments-staging",
		"-upstream", promURL, "-insecure-listen-address", plpAddr)
	tgAddr, tgProc := startTollgate(b, promURL, "fast")
	stdAddr, stdProc := startTollgate(b, promURL, "net/http")
	waitHTTP(b, "http://"+plpAddr+"/api/v1/query?query=vector(1)")
	waitHTTP(b, "http://"+tgAddr+"/-/ready")
	waitHTTP(b, "http://"+stdAddr+"/-/ready")

	q := `sum by (service) (rate(http_requests_total[5m]))`
	scoped := `sum by (service) (rate(http_requests_total{namespace=~"team-payments-prod|team-payments-staging"}[5m]))`
	ps := func(q string) string {
		return url.Values{"query": {q}, "start": {fmt.Sprint(end.Add(-time.Hour).Unix())}, "end": {fmt.Sprint(end.Unix())}, "step": {"60"}}.Encode()
	}
	targets := []*loadTarget{
		{name: "direct", url: promURL + "/api/v1/query_range?" + ps(scoped)},
		{name: "prom-label-proxy", url: "http://" + plpAddr + "/api/v1/query_range?" + ps(q), proc: plpProc},
		{name: "tollgate", url: "http://" + tgAddr + "/api/v1/query_range?" + ps(q), proc: tgProc, headers: []string{"U", "bench", "G", "payments"}},
		{name: "tollgate-nethttp", url: "http://" + stdAddr + "/api/v1/query_range?" + ps(q), proc: stdProc, headers: []string{"U", "bench", "G", "payments"}},
	}
	for _, t := range targets {
		t.load(b, 50) // warm connections
		t.reset()
	}
	b.ResetTimer()
	for range 3 {
		for _, t := range targets {
			t.load(b, b.N)
		}
	}
	b.StopTimer()
	d, p, g, std := targets[0], targets[1], targets[2], targets[3]
	for _, t := range targets {
		b.ReportMetric(t.rps(), t.name+"-req/s")
		b.ReportMetric(t.pct(.5), t.name+"-p50-ms")
		b.ReportMetric(t.pct(.99), t.name+"-p99-ms")
	}
	for _, t := range []*loadTarget{p, g, std} {
		b.ReportMetric(t.cpuPerRequest(), t.name+"-cpu-µs/req")
		b.ReportMetric(t.pct(.5)-d.pct(.5), t.name+"-added-p50-ms")
		b.ReportMetric(t.pct(.99)-d.pct(.99), t.name+"-added-p99-ms")
	}
	b.ReportMetric(g.cpuPerRequest()/p.cpuPerRequest(), "cpu-ratio-tollgate/plp")
	b.ReportMetric(std.cpuPerRequest()/p.cpuPerRequest(), "cpu-ratio-tollgate-nethttp/plp")
}

// promLabelProxyBinary is prom-label-proxy as `make promlabelproxy` builds it.
func promLabelProxyBinary(b *testing.B) string {
	p := os.Getenv("TOLLGATE_PROM_LABEL_PROXY")
	if p == "" {
		p, _ = filepath.Abs(filepath.Join("..", ".cache", "bin", "prom-label-proxy"))
	}
	if _, err := os.Stat(p); err != nil {
		b.Fatalf("prom-label-proxy is not built: run `make promlabelproxy` (or set TOLLGATE_PROM_LABEL_PROXY): %v", err)
	}
	return p
}

// startTollgate builds bin/tollgate as shipped and serves a tenant of two
// namespaces in front of promURL, without a cache, with the given
// proxy.http_server.
func startTollgate(b *testing.B, promURL, server string) (string, *exec.Cmd) {
	dir := b.TempDir()
	bin := filepath.Join(dir, "tollgate")
	if out, err := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "../cmd/tollgate").CombinedOutput(); err != nil {
		b.Fatalf("building tollgate: %v\n%s", err, out)
	}
	addr := testenv.FreeAddr(b)
	cfg := fmt.Sprintf(`listen: %q
upstreams: {prometheus: %q}
tenancy:
  label: namespace
  tenants: [{name: payments, groups: [payments], namespaces: [team-payments-prod, team-payments-staging]}]
auth: {trusted_headers: {user: U, groups: G, trusted_cidrs: [127.0.0.1/32]}}
proxy: {http_server: %q}
`, addr, promURL, server)
	path := filepath.Join(dir, "tollgate.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
	return addr, startProc(b, "tollgate", bin, "serve", "--config", path, "--log-level", "warn")
}

// startProc starts a proxy whose CPU time is read from /proc; it dies
// with the test binary.
func startProc(b *testing.B, name, bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		b.Fatalf("starting %s: %v", name, err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

func waitHTTP(b *testing.B, u string) {
	for range 100 {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Fatalf("%s never answered 200", u)
}

// loadTarget is one side of the comparison and what it measured.
type loadTarget struct {
	name, url string
	headers   []string
	proc      *exec.Cmd
	lat       []time.Duration
	wall      time.Duration
	cpuTicks  int64
	requests  int
}

func (t *loadTarget) reset() { t.lat, t.wall, t.cpuTicks, t.requests = nil, 0, 0, 0 }

// load sends n requests from 8 clients at once.
func (t *loadTarget) load(b *testing.B, n int) {
	const clients = 8
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	next := make(chan struct{}, n)
	for range n {
		next <- struct{}{}
	}
	close(next)
	var mu sync.Mutex
	var wg sync.WaitGroup
	cpu0 := t.cpu(b)
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for range next {
				d := t.get(b, client)
				mu.Lock()
				t.lat = append(t.lat, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	t.wall += time.Since(start)
	t.cpuTicks += t.cpu(b) - cpu0
	t.requests += n
}

func (t *loadTarget) get(b *testing.B, client *http.Client) time.Duration {
	req, _ := http.NewRequest(http.MethodGet, t.url, nil)
	for i := 0; i+1 < len(t.headers); i += 2 {
		req.Header.Set(t.headers[i], t.headers[i+1])
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		b.Error(err)
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Errorf("%s: %d", t.name, resp.StatusCode)
	}
	return time.Since(start)
}

// cpu is the process's user and system time in clock ticks.
func (t *loadTarget) cpu(b *testing.B) int64 {
	if t.proc == nil {
		return 0
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", t.proc.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return utime + stime
}

// cpuPerRequest is in microseconds (clock ticks are 10 ms on Linux).
func (t *loadTarget) cpuPerRequest() float64 {
	return float64(t.cpuTicks) * 10000 / float64(t.requests)
}

func (t *loadTarget) rps() float64 { return float64(t.requests) / t.wall.Seconds() }

func (t *loadTarget) pct(p float64) float64 {
	s := slices.Clone(t.lat)
	slices.Sort(s)
	return float64(s[int(p*float64(len(s)-1))].Microseconds()) / 1000
}
