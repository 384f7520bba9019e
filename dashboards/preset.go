package dashboards

import (
	"fmt"
	"slices"
	"strings"
)

// Preset is a metric convention for HTTP RED metrics: which counter gives
// the request rate, which histogram the latency, and which labels carry the
// service and the status code.
type Preset struct {
	Name string
	// Summary is one line for --help and the docs.
	Summary string
	// Requests is a counter of requests (or a histogram's _count).
	Requests string
	// Bucket is the latency histogram's _bucket series.
	Bucket string
	// LatencyUnit is Grafana's unit of the histogram's le values.
	LatencyUnit string
	// ServiceLabel and StatusLabel name the service and the HTTP status.
	ServiceLabel, StatusLabel string
	// Matchers are added to every selector, e.g. Istio's reporter, so
	// that a request reported by both sidecars counts once.
	Matchers []string
	// LogServiceLabel is the Loki stream label naming the service.
	LogServiceLabel string
}

// DefaultPreset is the preset of tenants that name none.
const DefaultPreset = "prometheus-http"

var presets = []Preset{
	{
		Name:            "istio",
		Summary:         "Istio standard metrics: istio_requests_total, istio_request_duration_milliseconds_bucket, reported by the destination sidecar",
		Requests:        "istio_requests_total",
		Bucket:          "istio_request_duration_milliseconds_bucket",
		LatencyUnit:     "ms",
		ServiceLabel:    "destination_service_name",
		StatusLabel:     "response_code",
		Matchers:        []string{`reporter="destination"`},
		LogServiceLabel: "service",
	},
	{
		Name:            "otel",
		Summary:         "OpenTelemetry HTTP semantic conventions: http_server_request_duration_seconds (count and buckets) by service_name and http_response_status_code",
		Requests:        "http_server_request_duration_seconds_count",
		Bucket:          "http_server_request_duration_seconds_bucket",
		LatencyUnit:     "s",
		ServiceLabel:    "service_name",
		StatusLabel:     "http_response_status_code",
		LogServiceLabel: "service_name",
	},
	{
		Name:            "prometheus-http",
		Summary:         "Prometheus client conventions: http_requests_total{code} and http_request_duration_seconds_bucket by service",
		Requests:        "http_requests_total",
		Bucket:          "http_request_duration_seconds_bucket",
		LatencyUnit:     "s",
		ServiceLabel:    "service",
		StatusLabel:     "code",
		LogServiceLabel: "service",
	},
}

// Presets returns every preset, sorted by name.
func Presets() []Preset { return slices.Clone(presets) }

// PresetNames returns the presets' names, sorted.
func PresetNames() []string {
	names := make([]string, len(presets))
	for i, p := range presets {
		names[i] = p.Name
	}
	return names
}

// LookupPreset returns the preset with the given name.
func LookupPreset(name string) (Preset, error) {
	for _, p := range presets {
		if p.Name == name {
			return p, nil
		}
	}
	return Preset{}, fmt.Errorf("unknown preset %q: use one of %s", name, strings.Join(PresetNames(), ", "))
}

// selector prints metric{matchers} with the preset's own matchers last.
func (p Preset) selector(metric string, matchers ...string) string {
	all := append(slices.Clone(matchers), p.Matchers...)
	return metric + "{" + strings.Join(all, ", ") + "}"
}
