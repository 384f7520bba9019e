package logql

import (
	"testing"

	promql "github.com/prometheus/prometheus/promql/parser"
)

// prometheusLabels is how Loki v3.7 parses a pushed stream's labels:
// Prometheus's ParseMetric, then empty values dropped.
func prometheusLabels(s string) (string, error) {
	ls, err := promql.NewParser(promql.Options{}).ParseMetric(s)
	if err != nil {
		return "", err
	}
	return ls.WithoutEmpty().String(), nil
}

var labelSets = []string{
	`{}`, `{app="a"}`, `{namespace="team-a", app="a"}`, `{ app = "a" , b = "c" }`, `{app="a",}`,
	`{b="2", a="1"}`, `{a="1", a="2"}`, `{a=""}`, `{a="", b="x"}`, `{a="x", a=""}`,
	`{a='single'}`, "{a=`raw\\n`}", `{a="esc\"aped\\\n\t\u00e9\x41"}`, `{a="日本"}`,
	`{"k8s.namespace"="x"}`, `{"app"="a"}`, `{namespace="x", "k8s.pod"="y"}`, `{_a="1", A2="2"}`,
	`{__name__="x"}`, `{__aggregated_metric__="x"}`, "{`a`=\"x\"}", `{'a'="x"}`, `  `,
	// malformed
	``, `{`, `{a}`, `{a=}`, `{a="1"`, `{a="1" b="2"}`, `{a=1}`, `{a!="1"}`, `{a=~"1"}`, `{1a="x"}`,
	`{a="1"} x`, `{a="unterminated}`, `{a="bad \q escape"}`, `{,}`, `{a="1",,}`, `{"a"=1}`, `{a="1"}}`,
}

// Tollgate reads a stream's labels as Loki does, for every label set
// whose names checkNames can then judge; only forms no push client sends
// (a metric name, which would be __name__, a name checkNames refuses) are
// refused outright.
func TestParseLabelsAgreesWithLoki(t *testing.T) {
	for _, s := range labelSets {
		want, wantErr := prometheusLabels(s)
		got, err := ParseLabels(s)
		switch {
		case wantErr != nil && err == nil:
			t.Errorf("ParseLabels(%q) = %s; Loki refuses it: %v", s, got, wantErr)
		case wantErr == nil && err != nil:
			t.Errorf("ParseLabels(%q): %v; Loki reads %s", s, err, want)
		case err == nil && got.String() != want:
			t.Errorf("ParseLabels(%q) = %s; Loki reads %s", s, got, want)
		}
	}
	for _, s := range []string{`up{a="1"}`, `{"up"}`, `{"up", a="1"}`} {
		if _, err := ParseLabels(s); err == nil {
			t.Errorf("ParseLabels(%q) accepts a metric name", s)
		}
	}
}

func FuzzParseLabels(f *testing.F) {
	for _, s := range labelSets {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseLabels(s)
		if err != nil {
			return
		}
		want, wantErr := prometheusLabels(s)
		if wantErr != nil || got.String() != want {
			t.Fatalf("ParseLabels(%q) = %s; Loki reads %s (%v)", s, got, want, wantErr)
		}
	})
}
