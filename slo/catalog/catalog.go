// Package catalog holds the platform's own SLOs, one per row of the Seed
// design's "Platform SLOs That Matter" table plus Tollgate's availability
// and latency, each over the real metrics of the exporter that measures it.
// A small configuration file overrides metric names, selectors, thresholds
// and targets where a platform's exporters differ from the defaults
// (docs/slo-catalog.md).
//
// The catalogue is rendered as an ordinary prometheus/v1 spec and loaded by
// package spec, so it is validated exactly like a team's specs.
package catalog

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tollgate-dev/tollgate/internal/problem"
	"github.com/tollgate-dev/tollgate/promenforce"
	"github.com/tollgate-dev/tollgate/slo/spec"
)

// Kind is an entry's SLI kind.
type Kind string

const (
	KindRatio   Kind = "ratio"
	KindLatency Kind = "latency"
)

// DefaultTeam owns the catalogue's alerts unless the configuration says
// otherwise.
const DefaultTeam = "platform-sre"

// Source names the catalogue in positions and in the generated rules.
const Source = "built-in catalogue"

// Entry is one built-in SLO.
type Entry struct {
	Service     string
	Name        string
	Description string
	// Row is the row of the Seed table the SLO implements, and Target its
	// target as the table states it.
	Row    string
	Target string
	// Exporter says which software exports the metrics, and how it must be
	// configured for them to exist.
	Exporter  string
	Objective float64
	Kind      Kind
	// Ratio SLIs: counters of bad and of all events.
	Errors, Total string
	// Latency SLIs: the histogram, its boundaries and the threshold.
	Metric    string
	Threshold float64
	Buckets   []float64
	// Selector holds matchers added to every series the SLI reads.
	Selector  string
	MinEvents float64
	AlertName string
	// DisablePage leaves the page alert out (ticket only).
	DisablePage bool
}

// ID is the SLO's sloth_id.
func (e Entry) ID() string { return e.Service + "-" + e.Name }

// Tekton's pipeline-run duration histogram boundaries (pkg/pipelinerunmetrics).
var tektonBuckets = []float64{10, 30, 60, 300, 900, 1800, 3600, 5400, 10800, 21600, 43200, 86400}

// Kyverno's default histogram boundaries (metricsConfig.bucketBoundaries).
var kyvernoBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 20, 25, 30}

// Tollgate's request duration boundaries (proxy.New).
var tollgateBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}

// Entries returns the built-in catalogue, in the Seed table's order.
func Entries() []Entry {
	return []Entry{
		{
			Service: "platform", Name: "deployment-lead-time",
			Description: "Production deployments whose pipeline, from the git push that triggers it to the application running healthy, takes at most 30 minutes.",
			Row:         "Deployment lead time", Target: "p95 < 30 min",
			Exporter:  "Tekton Pipelines controller (metrics.pipelinerun.level: pipeline, duration-type: histogram, the defaults); the deploy pipeline ends with `argocd app wait --health`",
			Objective: 95, Kind: KindLatency,
			Metric: "tekton_pipelines_controller_pipelinerun_duration_seconds", Threshold: 1800, Buckets: tektonBuckets,
			Selector: `{pipeline="deploy-to-production",status="success"}`, MinEvents: 10,
			AlertName: "PlatformDeploymentLeadTime",
		},
		{
			Service: "platform", Name: "deployment-success",
			Description: "Production syncs that succeed.",
			Row:         "Deployment success rate", Target: "> 99%",
			Exporter:  "Argo CD application controller (argocd-metrics:8082)",
			Objective: 99, Kind: KindRatio,
			Errors: `argocd_app_sync_total{phase=~"Error|Failed"}`, Total: `argocd_app_sync_total{phase=~"Succeeded|Error|Failed"}`,
			MinEvents: 10, AlertName: "PlatformDeploymentSuccess",
		},
		{
			Service: "platform", Name: "api-gateway-availability",
			Description: "Requests through the platform's API gateway answered without a 5xx.",
			Row:         "API gateway availability", Target: "99.95%",
			Exporter:  "Envoy (/stats/prometheus), the HTTP connection managers of the gateway's listeners",
			Objective: 99.95, Kind: KindRatio,
			Errors: `envoy_http_downstream_rq_xx{envoy_response_code_class="5"}`, Total: `envoy_http_downstream_rq_xx`,
			// Envoy's own admin listener counts its scrapes too.
			Selector:  `{envoy_http_conn_manager_prefix!="admin"}`,
			AlertName: "PlatformAPIGatewayAvailability",
		},
		{
			Service: "platform", Name: "tenant-onboarding",
			Description: "Tenant onboardings provisioned within 3 hours of the request (the 4-hour target is not a bucket boundary of Tekton's histogram; 3 hours is the nearest below it).",
			Row:         "Tenant onboarding time", Target: "< 4 hours",
			Exporter:  "Tekton Pipelines controller: the onboarding pipeline, started by the request and ending when the tenant is provisioned",
			Objective: 95, Kind: KindLatency,
			Metric: "tekton_pipelines_controller_pipelinerun_duration_seconds", Threshold: 10800, Buckets: tektonBuckets,
			Selector: `{pipeline="tenant-onboarding",status="success"}`, MinEvents: 3,
			AlertName: "PlatformTenantOnboarding",
		},
		{
			Service: "platform", Name: "time-to-detect",
			Description: "Rule-group evaluations that run on schedule: a missed evaluation delays every alert of its group by at least one interval, which is what pushes detection past 5 minutes once scrape interval, evaluation interval, `for:` and Alertmanager's group_wait are budgeted within it.",
			Row:         "Mean time to detect platform incident", Target: "< 5 min",
			Exporter:  "Prometheus (its own /metrics, job prometheus)",
			Objective: 99.9, Kind: KindRatio,
			Errors: `prometheus_rule_group_iterations_missed_total`, Total: `prometheus_rule_group_iterations_total`,
			Selector: `{job="prometheus"}`, AlertName: "PlatformTimeToDetect",
		},
		{
			Service: "platform", Name: "admission-policy-latency",
			Description: "Admission reviews answered by the policy engine within 250 ms (the 200-ms target is not a bucket boundary of Kyverno's default histogram; add 0.2 to its metricsConfig.bucketBoundaries and set threshold: 0.2 to measure it exactly).",
			Row:         "Policy decision latency", Target: "p99 < 200 ms",
			Exporter:  "Kyverno admission controller (port 8000, /metrics)",
			Objective: 99, Kind: KindLatency,
			Metric: "kyverno_admission_review_duration_seconds", Threshold: 0.25, Buckets: kyvernoBuckets,
			AlertName: "PlatformAdmissionPolicyLatency",
		},
		{
			Service: "tollgate", Name: "availability",
			Description: "Requests Tollgate answers without a 5xx (refusals, 4xx, are correct answers).",
			Row:         "Tollgate availability", Target: "99.9%",
			Exporter:  "Tollgate (/metrics)",
			Objective: 99.9, Kind: KindRatio,
			Errors: `tollgate_http_requests_total{code=~"5.."}`, Total: `tollgate_http_requests_total`,
			Selector: `{job="tollgate"}`, AlertName: "TollgateAvailability",
		},
		{
			Service: "tollgate", Name: "latency",
			Description: "Requests Tollgate answers within 1 second, upstream time included; live tails are long-lived by design and left out.",
			Row:         "Tollgate latency", Target: "p99 < 1 s",
			Exporter:  "Tollgate (/metrics)",
			Objective: 99, Kind: KindLatency,
			Metric: "tollgate_http_request_duration_seconds", Threshold: 1, Buckets: tollgateBuckets,
			Selector: `{job="tollgate",route!="/loki/api/v1/tail"}`, AlertName: "TollgateLatency",
		},
	}
}

// Spec renders the catalogue, with the configuration applied, as a Sloth
// prometheus/v1 spec with Tollgate's extensions: one document per service.
func Spec(cfg Config) ([]byte, error) {
	entries, err := cfg.apply(Entries())
	if err != nil {
		return nil, err
	}
	var services []string
	byService := map[string][]Entry{}
	for _, e := range entries {
		if !slices.Contains(services, e.Service) {
			services = append(services, e.Service)
		}
		byService[e.Service] = append(byService[e.Service], e)
	}
	var b bytes.Buffer
	b.WriteString("# Tollgate's built-in platform SLO catalogue (tollgate slo catalog --spec).\n")
	b.WriteString("# Metric names and targets: docs/slo-catalog.md.\n")
	for _, svc := range services {
		doc := specDoc{Version: "prometheus/v1", Service: svc, Labels: merge(cfg.Labels, map[string]string{"team": cfg.team()})}
		for _, e := range byService[svc] {
			s, err := sloYAML(e)
			if err != nil {
				return nil, err
			}
			doc.SLOs = append(doc.SLOs, s)
		}
		b.WriteString("---\n")
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		if err := enc.Encode(doc); err != nil {
			return nil, fmt.Errorf("rendering the SLO catalogue: %w", err)
		}
		if err := enc.Close(); err != nil {
			return nil, fmt.Errorf("rendering the SLO catalogue: %w", err)
		}
	}
	return b.Bytes(), nil
}

// Load returns the catalogue, with the configuration applied, as loaded
// specs.
func Load(cfg Config) ([]*spec.Document, problem.List, error) {
	data, err := Spec(cfg)
	if err != nil {
		return nil, nil, err
	}
	docs, ps := spec.Parse(Source, data)
	return docs, ps, ps.Err()
}

// The catalogue's spec, in prometheus/v1's spelling.
type specDoc struct {
	Version string            `yaml:"version"`
	Service string            `yaml:"service"`
	Labels  map[string]string `yaml:"labels,omitempty"`
	SLOs    []sloDoc          `yaml:"slos"`
}

type sloDoc struct {
	Name        string      `yaml:"name"`
	Description string      `yaml:"description"`
	Objective   float64     `yaml:"objective"`
	SLI         sliDoc      `yaml:"sli"`
	Alerting    alertingDoc `yaml:"alerting"`
}

type sliDoc struct {
	Ratio   *ratioDoc   `yaml:"ratio,omitempty"`
	Latency *latencyDoc `yaml:"latency,omitempty"`
}

type ratioDoc struct {
	Errors    string  `yaml:"errors"`
	Total     string  `yaml:"total"`
	MinEvents float64 `yaml:"min_events,omitempty"`
}

type latencyDoc struct {
	Metric    string      `yaml:"metric"`
	Selector  string      `yaml:"selector,omitempty"`
	Threshold float64     `yaml:"threshold"`
	Buckets   flowNumbers `yaml:"buckets,omitempty"`
	MinEvents float64     `yaml:"min_events,omitempty"`
}

// flowNumbers is written on one line: [0.1, 0.25, 0.5].
type flowNumbers []float64

// MarshalYAML implements yaml.Marshaler.
func (f flowNumbers) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, v := range f {
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: spec.FormatFloat(v)})
	}
	return n, nil
}

type alertingDoc struct {
	Name        string            `yaml:"name"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
	PageAlert   *disableDoc       `yaml:"page_alert,omitempty"`
	AbsentAlert struct{}          `yaml:"absent_alert"`
}

type disableDoc struct {
	Disable bool `yaml:"disable"`
}

func sloYAML(e Entry) (sloDoc, error) {
	s := sloDoc{Name: e.Name, Description: e.Description, Objective: e.Objective}
	s.Alerting.Name = e.AlertName
	s.Alerting.Annotations = map[string]string{
		"description": e.Description,
		"runbook_url": "https://github.com/tollgate-dev/tollgate/blob/main/docs/slo-catalog.md#" + e.ID(),
	}
	if e.DisablePage {
		s.Alerting.PageAlert = &disableDoc{Disable: true}
	}
	switch e.Kind {
	case KindRatio:
		errs, err := withSelector(e.Errors, e.Selector)
		if err != nil {
			return s, fmt.Errorf("catalogue SLO %s: errors: %w", e.ID(), err)
		}
		total, err := withSelector(e.Total, e.Selector)
		if err != nil {
			return s, fmt.Errorf("catalogue SLO %s: total: %w", e.ID(), err)
		}
		s.SLI.Ratio = &ratioDoc{Errors: errs, Total: total, MinEvents: e.MinEvents}
	case KindLatency:
		s.SLI.Latency = &latencyDoc{Metric: e.Metric, Selector: e.Selector, Threshold: e.Threshold, Buckets: e.Buckets, MinEvents: e.MinEvents}
	default:
		return s, fmt.Errorf("catalogue SLO %s: unknown kind %q", e.ID(), e.Kind)
	}
	return s, nil
}

// withSelector adds a selector's matchers to a series selector.
func withSelector(sel, extra string) (string, error) {
	p := promenforce.New().Parser()
	ms, err := spec.ParseSelector(p, sel)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(extra) != "" {
		xs, err := spec.ParseSelector(p, extra)
		if err != nil {
			return "", err
		}
		ms = append(ms, xs...)
	}
	return spec.PrintSelector(ms), nil
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
