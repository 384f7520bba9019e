package rules_test

import (
	"bytes"
	"maps"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/tollgate-dev/tollgate/slo/rules"
	"github.com/tollgate-dev/tollgate/slo/spec"
)

// The rule writer emits YAML by hand; whatever the strings, yaml.v3 must
// read back exactly what was written.
func TestWrittenYAMLReadsBack(t *testing.T) {
	tricky := []string{
		"", " ", "plain", "99.9", "1e3", "0x1F", "1_000", "12:30", ".5", "-1", "+1", "true", "Yes", "no", "off", "null", "~",
		"- dash", "? q", ": colon", "a: b", "a #b", "a# b", "ends:", "ends ", " starts", "#hash", "&anchor", "*alias", "!tag", "|pipe", ">fold",
		"'single'", `"double"`, "%pct", "@at", "`tick", "{{$labels.sloth_service}} burns", "[list]", "{map}", "tab\there",
		"multi\nline", "multi\nline\n", "multi\nline\n\n", "trailing \nspace", " leading\nspace", "\nleading newline", "cr\r\nlf",
		"unicode ✓ é", "ctrl \x1b esc", "sep \u2028 line", "vector(0.999)", `sum(rate(x{a="b", c=~"d|e"}[5m])) > 0`,
	}
	var rs []rules.Rule
	for i, s := range tricky {
		rs = append(rs, rules.Rule{Record: "r", Expr: s, Labels: map[string]string{"l": s}, Annotations: map[string]string{"a": s, "b": "x"}})
		if i%2 == 0 {
			rs[i] = rules.Rule{Alert: s, Expr: s + " x", Labels: map[string]string{"k": s}}
		}
	}
	slo := &spec.SLO{ID: "svc-slo"}
	files := []rules.File{{Document: &spec.Document{Service: "svc"}, SLOs: []rules.SLORules{{SLO: slo, SLI: rs}}}}
	for _, format := range []rules.Format{rules.FormatPrometheus, rules.FormatOperator} {
		var b bytes.Buffer
		if err := rules.Write(&b, files, rules.WriteOptions{Format: format, ManagedBy: "tollgate"}); err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Groups []group `yaml:"groups"`
			Spec   struct {
				Groups []group `yaml:"groups"`
			} `yaml:"spec"`
		}
		if err := yaml.Unmarshal(b.Bytes(), &doc); err != nil {
			t.Fatalf("%s: %v\n%s", format, err, b.String())
		}
		gs := append(doc.Groups, doc.Spec.Groups...)
		if len(gs) != 1 || len(gs[0].Rules) != len(rs) {
			t.Fatalf("%s: read back %d groups\n%s", format, len(gs), b.String())
		}
		for i, got := range gs[0].Rules {
			want := rs[i]
			if got.Record != want.Record || got.Alert != want.Alert || got.Expr != want.Expr || !maps.Equal(got.Labels, want.Labels) || !maps.Equal(got.Annotations, want.Annotations) {
				t.Errorf("%s: rule %d read back as %+v, wrote %+v", format, i, got, want)
			}
		}
	}
}

type group struct {
	Name  string `yaml:"name"`
	Rules []struct {
		Record      string            `yaml:"record"`
		Alert       string            `yaml:"alert"`
		Expr        string            `yaml:"expr"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"rules"`
}
