// Package config loads Tollgate's single YAML configuration file. It reports
// every problem at once, each with file, line and a fix, and rejects unknown
// keys: a typo in a security configuration must never be silently ignored.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tollgate-dev/tollgate/audit"
	"github.com/tollgate-dev/tollgate/cost/pricing"
	"github.com/tollgate-dev/tollgate/identity"
	"github.com/tollgate-dev/tollgate/internal/problem"
	"github.com/tollgate-dev/tollgate/internal/yamlduration"
	"github.com/tollgate-dev/tollgate/limits"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// File is the whole configuration file.
type File struct {
	Listen string `yaml:"listen"`
	// MetricsListen, if set, serves /metrics, /-/healthy and /-/ready
	// without authentication on a second address, for Prometheus and the
	// kubelet; on Listen, /metrics is for admins only.
	MetricsListen string `yaml:"metrics_listen"`
	// MaxConnections caps the connections open at once on listen (default
	// 1024); further clients wait in the kernel's accept queue.
	MaxConnections int             `yaml:"max_connections"`
	Upstreams      Upstreams       `yaml:"upstreams"`
	Tenancy        tenancy.Config  `yaml:"tenancy"`
	Auth           identity.Config `yaml:"auth"`
	Proxy          Proxy           `yaml:"proxy"`
	// Cost enables the cost engine (the allocation API, the chargeback
	// page and the tollgate_cost_* metrics) when present.
	Cost *Cost `yaml:"cost"`
	// Dashboards configures the generated Grafana dashboards.
	Dashboards Dashboards `yaml:"dashboards"`
	// Cache enables the results cache when present.
	Cache *Cache `yaml:"cache"`
	// Audit enables the audit trail when present.
	Audit *audit.Config `yaml:"audit"`
	// Limits are every tenant's limits, unless its
	// tenancy.tenants[].limits override them; admins are held to
	// tenancy.admin_limits only.
	Limits limits.Config `yaml:"limits"`
}

// Cost configures the cost engine. Every key is optional; an empty
// `cost: {}` enables it with OpenCost's default prices for unknown nodes
// and no sharing.
type Cost struct {
	// Cluster names the cluster in allocations (default "cluster-one",
	// OpenCost's default).
	Cluster string `yaml:"cluster"`
	// PricingFile adds to and overrides the embedded price catalogue, in
	// its CSV format.
	PricingFile string `yaml:"pricing_file"`
	// DefaultPrices price node types found in no catalogue; zero fields
	// keep OpenCost's defaults.
	DefaultPrices DefaultPrices `yaml:"default_prices"`
	// Discounts are percentages off on-demand prices per provider (aws,
	// gcp, azure): reserved instances, savings plans, negotiated rates.
	Discounts map[string]float64 `yaml:"discounts"`
	// SharedNamespaces are the platform namespaces (kube-system,
	// monitoring, ...) that shareNamespaces=true spreads over the others.
	SharedNamespaces []string `yaml:"shared_namespaces"`
	// SharedOverheadMonthly is a fixed monthly cost (licences, the
	// platform team's share) spread with the shared namespaces.
	SharedOverheadMonthly float64 `yaml:"shared_overhead_monthly"`
	// Currency of every price (default USD).
	Currency string `yaml:"currency"`
	// MetricsInterval is how stale the tollgate_cost_* gauges may get
	// before a scrape recomputes them (default 5m).
	MetricsInterval Duration `yaml:"metrics_interval"`
	// MaxQuerySteps bounds window ÷ resolution of one allocation (default
	// DefaultCostMaxQuerySteps): 400 days at the default 1h resolution
	// fit, 400 days at 1m do not.
	MaxQuerySteps int `yaml:"max_query_steps"`
	// MaxConcurrentPerTenant bounds the allocations computed at once for
	// one tenant, admins together counting as one (default
	// DefaultCostMaxConcurrentPerTenant); beyond it the API answers 429.
	MaxConcurrentPerTenant int `yaml:"max_concurrent_per_tenant"`
	// CostClusters: several clusters in one backend (cost.go).
	CostClusters `yaml:",inline"`
}

// Defaults of the cost section's bounds.
const (
	// DefaultCostMaxQuerySteps is above the 9,600 steps of the longest
	// default query (400 days at 1h) and Prometheus's 11,000 points per
	// series and query.
	DefaultCostMaxQuerySteps          = 10_000
	DefaultCostMaxConcurrentPerTenant = 2
	// minCostQuerySteps is what the chargeback page's month view needs
	// (31 days at 1h); below it the page fails for a month.
	minCostQuerySteps = 31 * 24
)

// DefaultPrices are hourly prices per resource.
type DefaultPrices struct {
	CPU     float64 `yaml:"cpu"`      // per core-hour
	SpotCPU float64 `yaml:"spot_cpu"` // per core-hour on spot nodes
	RAM     float64 `yaml:"ram"`      // per GiB-hour
	SpotRAM float64 `yaml:"spot_ram"`
	GPU     float64 `yaml:"gpu"` // per GPU-hour
}

// Upstreams are the backends Tollgate sits in front of.
type Upstreams struct {
	// Prometheus is the base URL of a Prometheus-compatible query API
	// (Prometheus, Thanos Query, Mimir/Cortex query frontend). A path prefix
	// such as http://mimir/prometheus is kept. Optional when Loki is set:
	// a gateway may serve Loki alone.
	Prometheus string `yaml:"prometheus"`
	// PrometheusOrgID, when set, is sent as X-Scope-OrgID on every request to
	// the Prometheus upstream, as Mimir and Cortex require. Client copies of
	// the header are never forwarded.
	PrometheusOrgID string `yaml:"prometheus_org_id"`
	// PrometheusDialect is the PromQL the Prometheus upstream speaks:
	// auto (default: read from its status/buildinfo at start and on
	// reload), prometheus2, prometheus3, thanos or mimir. It decides which
	// functions Tollgate accepts (holt_winters on Prometheus 2 only).
	PrometheusDialect string `yaml:"prometheus_dialect"`
	// Loki is the base URL of Loki (single binary, or the query frontend
	// and distributor behind one gateway). Optional: without it the Loki
	// API is not served.
	Loki string `yaml:"loki"`
	// Alertmanager is the base URL of Alertmanager (API v2). Optional:
	// with it, tenants reach their alerts and silences under
	// /alertmanager/api/v2.
	Alertmanager string `yaml:"alertmanager"`
	// RemoteWrite is the full URL Prometheus remote writes received on
	// /api/v1/write are forwarded to, once checked: Mimir's /api/v1/push,
	// Thanos Receive's /api/v1/receive. Default: upstreams.prometheus
	// followed by /api/v1/write (Prometheus with
	// --web.enable-remote-write-receiver).
	RemoteWrite string `yaml:"remote_write"`
}

// Proxy tunes the query proxy. Every key is optional.
type Proxy struct {
	// MaxBodyBytes caps form-encoded request bodies (default 4 MiB).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// UpstreamTimeout bounds a whole upstream request (default 5m).
	UpstreamTimeout Duration `yaml:"upstream_timeout"`
	// MaxPushBytes caps a Loki push body as sent (default 16 MiB).
	MaxPushBytes int64 `yaml:"max_push_bytes"`
	// MaxPushDecompressedBytes caps a push once decompressed, counted as
	// the decompressor produces it, and the request re-encoded for Loki
	// (default 64 MiB).
	MaxPushDecompressedBytes int64 `yaml:"max_push_decompressed_bytes"`
	// MaxPushStreams, MaxPushEntries, MaxPushStructuredMetadataPairs and
	// MaxPushLabelBytes cap what one push holds, counted while it is
	// decoded: decoding multiplies a push's size in memory, and these
	// bound the multiple.
	MaxPushStreams                 int64 `yaml:"max_push_streams"`
	MaxPushEntries                 int64 `yaml:"max_push_entries"`
	MaxPushStructuredMetadataPairs int64 `yaml:"max_push_structured_metadata_pairs"`
	MaxPushLabelBytes              int64 `yaml:"max_push_label_bytes"`
	// MaxConcurrentPushes bounds the pushes decoded at once; more are
	// answered 429.
	MaxConcurrentPushes int64 `yaml:"max_concurrent_pushes"`
	// MaxRemoteWriteSeries, MaxRemoteWriteSamples (samples, histograms
	// and exemplars) and MaxRemoteWriteLabelPairs cap what one Prometheus
	// remote write holds, counted on the wire before it is decoded. Its
	// bytes are bounded by max_push_bytes and max_push_decompressed_bytes,
	// and the writes decoded at once by max_concurrent_pushes, as pushes.
	MaxRemoteWriteSeries     int64 `yaml:"max_remote_write_series"`
	MaxRemoteWriteSamples    int64 `yaml:"max_remote_write_samples"`
	MaxRemoteWriteLabelPairs int64 `yaml:"max_remote_write_label_pairs"`
	// ExtraParams are additional query parameters forwarded to the upstream
	// on the query and metadata endpoints. Unknown parameters are refused by
	// default so that no backend-specific option can widen a query.
	ExtraParams []string `yaml:"extra_params"`
	// MaxQueryBytes bounds every PromQL and LogQL parameter (query,
	// match[]) before anything parses it (default 128 KiB, Loki's own).
	MaxQueryBytes int `yaml:"max_query_bytes"`
	// MaxQueryDepth bounds the depth of a query's syntax tree (default
	// 256), estimated before parsing and measured after.
	MaxQueryDepth int `yaml:"max_query_depth"`
	// MaxQueryNodes bounds the expressions in a query (default 5000).
	MaxQueryNodes int `yaml:"max_query_nodes"`
	// BodyReadTimeout bounds the time a client may take to send a request
	// body (default 30s); 408 after it. Live tail, which has none, is
	// unaffected.
	BodyReadTimeout Duration `yaml:"body_read_timeout"`
	// IdleTimeout closes keep-alive connections idle for longer (default 2m).
	IdleTimeout Duration `yaml:"idle_timeout"`
	// HTTPServer is what serves listen: "fast" (the default) answers plain
	// HTTP/1.1 GETs and POSTs itself and gives everything else to Go's
	// net/http; "net/http" gives it all requests.
	HTTPServer string `yaml:"http_server"`
	// AllowedOrigins are the browser origins (scheme://host[:port]) whose
	// pages may open Loki's live tail websocket. Requests without an Origin
	// (Grafana's server-side proxy, logcli) and same-host origins are
	// always allowed.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// MaxFilteredResponseBytes bounds the rules and alerts answers Tollgate
	// reads to filter (default 32 MiB); 502 above it.
	MaxFilteredResponseBytes int64 `yaml:"max_filtered_response_bytes"`
}

// Defaults applied by Load.
const (
	DefaultListen       = "127.0.0.1:9091"
	DefaultMaxBodyBytes = 4 << 20
	DefaultMaxPushBytes = 16 << 20
	// DefaultMaxPushDecompressed is 64 times the 1 MiB batches Promtail
	// and Alloy send by default.
	DefaultMaxPushDecompressed = 64 << 20
	// DefaultMaxPushStreams: an agent's batch holds the streams of one
	// node, a few hundred; a gateway in front of many agents a few
	// thousand.
	DefaultMaxPushStreams = 10_000
	// DefaultMaxPushEntries admits a 1 MiB batch of lines averaging 10
	// bytes; decoded, each entry costs about 100 bytes besides its line.
	DefaultMaxPushEntries = 100_000
	// DefaultMaxPushStructuredMetadataPairs admits a few pairs (trace and
	// span IDs, level) on every entry of a full batch.
	DefaultMaxPushStructuredMetadataPairs = 250_000
	// DefaultMaxPushLabelBytes admits 10,000 streams of 400 bytes of
	// labels; Loki's label parser allocates about 17 times what it parses.
	DefaultMaxPushLabelBytes = 4 << 20
	// DefaultMaxConcurrentPushes: a push within the other defaults peaks
	// at about four times max_push_decompressed_bytes (260 MiB measured),
	// so four hostile pushes hold about 1 GiB. A typical 1 MiB agent batch
	// takes about 20 ms and 6 MiB, so four slots pass some 200 batches a
	// second besides Loki's own latency.
	DefaultMaxConcurrentPushes = 4
	DefaultTimeout             = 5 * time.Minute
	DefaultMaxConnections      = 1024
	DefaultBodyReadTimeout     = 30 * time.Second
	DefaultIdleTimeout         = 2 * time.Minute
	DefaultMaxFilteredResponse = 32 << 20
	// DefaultCluster is OpenCost's default cluster name.
	DefaultCluster             = "cluster-one"
	DefaultCostMetricsInterval = 5 * time.Minute
)

// Duration is the configuration's duration ("30s", "5m", "1h30m", "7d").
type Duration = yamlduration.Duration

var paramNameRE = regexp.MustCompile(`^[A-Za-z0-9_.\-]+(\[\])?$`)

// Load reads, decodes and validates a configuration file.
func Load(path string) (*File, problem.List, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading configuration: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and validates configuration bytes; name is used in messages.
// It returns the decoded file with defaults applied, every problem found
// (warnings included), and a non-nil error when there is at least one error.
func Parse(name string, data []byte) (*File, problem.List, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		return nil, nil, fmt.Errorf("%s: %s", name, yamlMessage(err))
	}
	var ps problem.List
	checkKeys(&root, reflect.TypeFor[File](), "", &ps)
	var f File
	if err := root.Decode(&f); err != nil {
		return nil, nil, fmt.Errorf("%s: %s", name, yamlMessage(err))
	}
	f.ApplyDefaults()
	ps = append(ps, f.Validate()...)
	for i := range ps {
		ps[i].Line, ps[i].Col = position(&root, ps[i].Path)
		ps[i].Pos = fmt.Sprintf("%s:%d:%d", name, ps[i].Line, ps[i].Col)
	}
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Line != ps[j].Line {
			return ps[i].Line < ps[j].Line
		}
		return ps[i].Col < ps[j].Col
	})
	if err := ps.Err(); err != nil {
		return nil, ps, err
	}
	return &f, ps, nil
}

// yamlMessage strips the library's "yaml: " prefix and Go type names, which
// mean nothing to the people writing the file.
func yamlMessage(err error) string {
	if errors.Is(err, io.EOF) {
		return "the file is empty"
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	return msg
}

// checkAddress checks a host:port listen address.
func checkAddress(ps *problem.List, key, addr, example string) {
	if _, port, err := net.SplitHostPort(addr); err != nil {
		ps.Add(key, fmt.Sprintf("%q is not a host:port address", addr), fmt.Sprintf("write it like %s or :%s", example, example[strings.LastIndex(example, ":")+1:]))
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		ps.Add(key, fmt.Sprintf("port %q is not a number between 0 and 65535", port), "write it like "+example)
	}
}

// ApplyDefaults fills in every optional setting left zero. Parse calls it;
// code that builds a File directly (the demo) calls it too.
func (f *File) ApplyDefaults() {
	if f.Listen == "" {
		f.Listen = DefaultListen
	}
	if f.Proxy.MaxBodyBytes == 0 {
		f.Proxy.MaxBodyBytes = DefaultMaxBodyBytes
	}
	f.Proxy.applyPushDefaults()
	if f.Proxy.UpstreamTimeout == 0 {
		f.Proxy.UpstreamTimeout = Duration(DefaultTimeout)
	}
	if f.Upstreams.PrometheusDialect == "" {
		f.Upstreams.PrometheusDialect = DialectAuto
	}
	f.Proxy.applyBoundDefaults()
	if f.MaxConnections == 0 {
		f.MaxConnections = DefaultMaxConnections
	}
	f.Auth.ApplyDefaults()
	f.Dashboards.applyDefaults(f)
	if f.Cost != nil {
		f.Cost.ApplyDefaults()
	}
	if f.Cache != nil {
		f.Cache.ApplyDefaults()
	}
	if f.Audit != nil {
		f.Audit.ApplyDefaults()
	}
}

// Validate checks the whole file and returns every problem found, with key
// paths but without positions (only Parse knows the YAML).
func (f *File) Validate() problem.List {
	var ps problem.List
	checkAddress(&ps, "listen", f.Listen, "127.0.0.1:9091")
	if f.MetricsListen != "" {
		checkAddress(&ps, "metrics_listen", f.MetricsListen, "0.0.0.0:9092")
		if f.MetricsListen == f.Listen {
			ps.Add("metrics_listen", fmt.Sprintf("%q is the gateway's own listen address", f.MetricsListen), "use another port, reachable only by Prometheus and the kubelet, e.g. 0.0.0.0:9092; or remove metrics_listen and scrape /metrics with an admin token")
		}
	}
	switch {
	case f.Upstreams.Prometheus == "" && f.Upstreams.Loki == "" && f.Upstreams.Alertmanager == "":
		ps.Add("upstreams", "names no backend", "set upstreams.prometheus to the base URL of Prometheus, Thanos Query or the Mimir query frontend (e.g. http://prometheus:9090), upstreams.loki to Loki's, upstreams.alertmanager to Alertmanager's, or several")
	case f.Upstreams.Prometheus != "":
		checkURL(&ps, "upstreams.prometheus", f.Upstreams.Prometheus)
	}
	if f.Cost != nil && f.Upstreams.Prometheus == "" && f.Upstreams.Loki != "" {
		costNeedsPrometheus(&ps)
	}
	if f.Upstreams.Loki != "" {
		checkURL(&ps, "upstreams.loki", f.Upstreams.Loki)
	}
	checkOrgID(&ps, f.Upstreams.PrometheusOrgID)
	checkDialect(&ps, f.Upstreams.PrometheusDialect)
	f.Upstreams.validateMore(&ps)
	ps = append(ps, f.Tenancy.Validate()...)
	ps = append(ps, f.Auth.Validate("auth")...)
	ps = append(ps, f.Proxy.validatePush()...)
	if f.Proxy.MaxBodyBytes < 0 {
		ps.Add("proxy.max_body_bytes", "is negative", "leave it out for the default of 4 MiB, or give a size in bytes")
	}
	if f.MaxConnections < 0 {
		ps.Add("max_connections", "is negative", "leave it out for the default of 1024, or give a number of connections")
	}
	ps = append(ps, f.Proxy.validateBounds()...)
	for i, p := range f.Proxy.ExtraParams {
		if !paramNameRE.MatchString(p) {
			ps.Add(fmt.Sprintf("proxy.extra_params[%d]", i), fmt.Sprintf("%q is not a query parameter name", p), "use letters, digits, '_', '-', '.', optionally ending in [] for repeated parameters")
		}
	}
	if f.Cost != nil {
		ps = append(ps, f.Cost.validate()...)
	}
	ps = append(ps, f.Dashboards.validate(f)...)
	if f.Cache != nil {
		ps = append(ps, f.Cache.validate()...)
	}
	if f.Audit != nil {
		ps = append(ps, f.Audit.Validate(f.Upstreams.Loki != "")...)
	}
	ps = append(ps, f.Limits.Validate("limits")...)
	return ps
}

func (p *Proxy) applyPushDefaults() {
	for _, k := range p.pushKeys() {
		if *k.v == 0 {
			*k.v = k.def
		}
	}
}

type pushKey struct {
	key  string
	v    *int64
	def  int64
	unit string
}

func (p *Proxy) pushKeys() []pushKey {
	return []pushKey{
		{"proxy.max_push_bytes", &p.MaxPushBytes, DefaultMaxPushBytes, "a size in bytes"},
		{"proxy.max_push_decompressed_bytes", &p.MaxPushDecompressedBytes, DefaultMaxPushDecompressed, "a size in bytes"},
		{"proxy.max_push_streams", &p.MaxPushStreams, DefaultMaxPushStreams, "a number of streams"},
		{"proxy.max_push_entries", &p.MaxPushEntries, DefaultMaxPushEntries, "a number of entries"},
		{"proxy.max_push_structured_metadata_pairs", &p.MaxPushStructuredMetadataPairs, DefaultMaxPushStructuredMetadataPairs, "a number of name-value pairs"},
		{"proxy.max_push_label_bytes", &p.MaxPushLabelBytes, DefaultMaxPushLabelBytes, "a size in bytes"},
		{"proxy.max_concurrent_pushes", &p.MaxConcurrentPushes, DefaultMaxConcurrentPushes, "a number of pushes"},
		{"proxy.max_remote_write_series", &p.MaxRemoteWriteSeries, DefaultMaxRemoteWriteSeries, "a number of series"},
		{"proxy.max_remote_write_samples", &p.MaxRemoteWriteSamples, DefaultMaxRemoteWriteSamples, "a number of samples"},
		{"proxy.max_remote_write_label_pairs", &p.MaxRemoteWriteLabelPairs, DefaultMaxRemoteWriteLabelPairs, "a number of name-value pairs"},
	}
}

func (p *Proxy) validatePush() problem.List {
	var ps problem.List
	for _, k := range p.pushKeys() {
		if *k.v < 0 {
			def := fmt.Sprint(k.def)
			if k.unit == "a size in bytes" {
				def = fmt.Sprintf("%d MiB", k.def>>20)
			}
			ps.Add(k.key, "is negative", fmt.Sprintf("leave it out for the default of %s, or give %s", def, k.unit))
		}
	}
	if p.MaxPushDecompressedBytes > 0 && p.MaxPushBytes > p.MaxPushDecompressedBytes {
		ps.Warn("proxy.max_push_decompressed_bytes", fmt.Sprintf("is smaller than proxy.max_push_bytes (%d)", p.MaxPushBytes), "uncompressed pushes are cut at max_push_decompressed_bytes; lower max_push_bytes to match, or raise this")
	}
	return ps
}

var providers = []string{"aws", "azure", "gcp"}

func (c *Cost) validate() problem.List {
	var ps problem.List
	if c.PricingFile != "" {
		if _, err := pricing.LoadFile(c.PricingFile); err != nil {
			ps.Add("cost.pricing_file", err.Error(), "give a CSV file whose first line is "+pricing.Header)
		}
	}
	for _, p := range []struct {
		key string
		v   float64
	}{{"cpu", c.DefaultPrices.CPU}, {"spot_cpu", c.DefaultPrices.SpotCPU}, {"ram", c.DefaultPrices.RAM}, {"spot_ram", c.DefaultPrices.SpotRAM}, {"gpu", c.DefaultPrices.GPU}} {
		if p.v < 0 {
			ps.Add("cost.default_prices."+p.key, "is negative", "give an hourly price, or leave it out for OpenCost's default")
		}
	}
	names := make([]string, 0, len(c.Discounts))
	for p := range c.Discounts {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		switch pct := c.Discounts[p]; {
		case !slices.Contains(providers, p):
			ps.Add("cost.discounts."+p, fmt.Sprintf("unknown provider %q", p), "use aws, azure or gcp")
		case pct < 0 || pct >= 100:
			ps.Add("cost.discounts."+p, fmt.Sprintf("%v is not a percentage below 100", pct), "write the discount off on-demand prices in percent, e.g. 20")
		}
	}
	for i, ns := range c.SharedNamespaces {
		if !namespaceRE.MatchString(ns) {
			ps.Add(fmt.Sprintf("cost.shared_namespaces[%d]", i), fmt.Sprintf("%q is not a namespace name", ns), "list exact namespace names such as kube-system")
		}
	}
	switch {
	case c.MaxQuerySteps < 0:
		ps.Add("cost.max_query_steps", "is negative", fmt.Sprintf("leave it out for the default of %d steps (400 days at 1h)", DefaultCostMaxQuerySteps))
	case c.MaxQuerySteps > 0 && c.MaxQuerySteps < minCostQuerySteps:
		ps.Warn("cost.max_query_steps", fmt.Sprintf("%d steps is less than a month at the default 1h resolution (%d)", c.MaxQuerySteps, minCostQuerySteps), "the chargeback page's month views will be refused; give at least 744")
	}
	ps = append(ps, c.CostClusters.validate()...)
	if c.MaxConcurrentPerTenant < 0 {
		ps.Add("cost.max_concurrent_per_tenant", "is negative", fmt.Sprintf("leave it out for the default of %d, or give how many allocations one tenant may compute at once", DefaultCostMaxConcurrentPerTenant))
	}
	if c.SharedOverheadMonthly < 0 {
		ps.Add("cost.shared_overhead_monthly", "is negative", "give the fixed monthly cost to share, e.g. 1500")
	}
	if c.SharedOverheadMonthly > 0 && len(c.SharedNamespaces) == 0 {
		ps.Warn("cost.shared_overhead_monthly", "is shared only together with shared namespaces, and none are configured", "list the platform namespaces in cost.shared_namespaces")
	}
	if !currencyRE.MatchString(c.Currency) {
		ps.Add("cost.currency", fmt.Sprintf("%q is not an ISO 4217 currency code", c.Currency), "write it like USD or EUR")
	}
	return ps
}

var (
	namespaceRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	currencyRE  = regexp.MustCompile(`^[A-Z]{3}$`)
)

func checkURL(ps *problem.List, path, raw string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		ps.Add(path, fmt.Sprintf("%q is not a URL: %v", raw, err), "write it like http://prometheus:9090")
	case u.Scheme != "http" && u.Scheme != "https":
		ps.Add(path, fmt.Sprintf("%q has scheme %q", raw, u.Scheme), "use http:// or https://")
	case u.Host == "":
		ps.Add(path, fmt.Sprintf("%q has no host", raw), "write it like http://prometheus:9090")
	case u.RawQuery != "" || u.Fragment != "":
		ps.Add(path, fmt.Sprintf("%q has a query string or fragment", raw), "give only scheme, host, port and an optional path prefix")
	case u.User != nil:
		ps.Add(path, "credentials in the URL would be logged", "remove user:password from the URL")
	}
}

// DialectAuto is upstreams.prometheus_dialect's default: the dialect is read
// from the backend's status/buildinfo.
const DialectAuto = "auto"

// checkDialect checks upstreams.prometheus_dialect ("" is the default).
func checkDialect(ps *problem.List, d string) {
	switch d {
	case "", DialectAuto, "prometheus2", "prometheus3", "thanos", "mimir":
		return
	}
	ps.Add("upstreams.prometheus_dialect", fmt.Sprintf("%q is not a dialect", d), "use auto (read from the backend's status/buildinfo), prometheus2, prometheus3, thanos or mimir")
}
