package spec

// Tollgate's additions to Sloth's spec, read from the same documents under
// keys Sloth does not use. The document is decoded once into Sloth's types
// and once into these; unknown-key checks accept a key either knows. Each
// type carries the prometheus/v1 spelling (yaml) and the Kubernetes one
// (json).

// extSpec mirrors prometheus/v1's top level.
type extSpec struct {
	SLOs []extSLO `yaml:"slos" json:"slos"`
}

// extManifest mirrors a PrometheusServiceLevel.
type extManifest struct {
	Spec extSpec `json:"spec"`
}

type extSLO struct {
	SLI      extSLI      `yaml:"sli" json:"sli"`
	Alerting extAlerting `yaml:"alerting" json:"alerting"`
}

type extSLI struct {
	Latency *extLatency `yaml:"latency" json:"latency"`
	Ratio   *extRatio   `yaml:"ratio" json:"ratio"`
}

type extLatency struct {
	Metric    string    `yaml:"metric" json:"metric"`
	Selector  string    `yaml:"selector" json:"selector"`
	Threshold float64   `yaml:"threshold" json:"threshold"`
	Buckets   []float64 `yaml:"buckets" json:"buckets"`
	MinEvents float64   `yaml:"min_events" json:"minEvents"`
}

type extRatio struct {
	Errors    string  `yaml:"errors" json:"errors"`
	Total     string  `yaml:"total" json:"total"`
	MinEvents float64 `yaml:"min_events" json:"minEvents"`
}

type extAlerting struct {
	PageAlert   extAlert   `yaml:"page_alert" json:"pageAlert"`
	TicketAlert extAlert   `yaml:"ticket_alert" json:"ticketAlert"`
	AbsentAlert *extAbsent `yaml:"absent_alert" json:"absentAlert"`
}

// Durations are read as strings and parsed during validation, where the
// key path (and so the line) of a bad value is known.
type extAlert struct {
	For string `yaml:"for" json:"for"`
}

type extAbsent struct {
	Name        string            `yaml:"name" json:"name"`
	For         string            `yaml:"for" json:"for"`
	Labels      map[string]string `yaml:"labels" json:"labels"`
	Annotations map[string]string `yaml:"annotations" json:"annotations"`
}
