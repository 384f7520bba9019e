package rules_test

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/tollgate-dev/tollgate/promenforce"
	"github.com/tollgate-dev/tollgate/slo/internal/slothsrc"
	"github.com/tollgate-dev/tollgate/slo/rules"
	"github.com/tollgate-dev/tollgate/slo/spec"
	"github.com/tollgate-dev/tollgate/slo/windows"
)

const day = 24 * time.Hour

// goldenCase is one of Sloth's own expected outputs: the spec, the options
// of `sloth generate` that produced it, and the file holding the output.
type goldenCase struct {
	in, out  string
	opts     rules.Options
	period   time.Duration
	windows  string // --slo-period-windows-path
	format   rules.Format
	version  string // sloth_version in the expected output
	template bool   // the expected output is a Go template of {{.version}}
}

// goldenCases lists Sloth v0.16.0's generate tests
// (test/integration/prometheus/generate_test.go) and its examples with
// their committed outputs (examples/_gen), SLO plugin examples included.
// Left out, because Tollgate refuses their inputs by design (see
// docs/slo.md): the SLI plugin cases and the SLO plugin cases of the
// integration tests (plugin code is Go that Sloth interprets), the
// VictoriaMetrics example, the contrib example whose info labels are not
// valid in every Prometheus, and the OpenSLO cases.
// TestUnsupportedSlothInputs checks that those are refused with an
// explanation.
func goldenCases() []goldenCase {
	const td = "test/integration/prometheus/testdata/"
	tc := func(in, out string) goldenCase {
		return goldenCase{in: td + in, out: td + out, period: 30 * day, version: "v0.12.0-test", template: true}
	}
	var cs []goldenCase
	cs = append(cs, tc("in-base.yaml", "out-base.yaml.tpl"))
	k8s := tc("in-base-k8s.yaml", "out-base-k8s.yaml.tpl")
	k8s.format = rules.FormatOperator
	cs = append(cs, k8s)
	noAlerts := tc("in-base.yaml", "out-base-no-alerts.yaml.tpl")
	noAlerts.opts.DisableAlerts = true
	noRec := tc("in-base.yaml", "out-base-no-recordings.yaml.tpl")
	noRec.opts.DisableRecordings = true
	extra := tc("in-base.yaml", "out-base-extra-labels.yaml.tpl")
	extra.opts.ExtraLabels = map[string]string{"exk1": "exv1", "exk2": "exv2"}
	d28 := tc("in-base.yaml", "out-base-28d.yaml.tpl")
	d28.period = 28 * day
	d7 := tc("in-base.yaml", "out-base-custom-windows-7d.yaml.tpl")
	d7.period, d7.windows = 7*day, "test/integration/prometheus/windows"
	multi := tc("in-multifile.yaml", "out-multifile.yaml.tpl")
	multiK8s := tc("in-multifile-k8s.yaml", "out-multifile-k8s.yaml.tpl")
	multiK8s.format = rules.FormatOperator
	cs = append(cs, noAlerts, noRec, extra, d28, d7, multi, multiK8s)
	// scripts/examplesgen.sh generates the examples with
	// --extra-labels cmd=examplesgen.sh.
	example := func(name string, format rules.Format) goldenCase {
		return goldenCase{
			in: "examples/" + name + ".yml", out: "examples/_gen/" + name + ".yml", period: 30 * day, version: "dev", format: format,
			opts: rules.Options{ExtraLabels: map[string]string{"cmd": "examplesgen.sh"}},
		}
	}
	for _, ex := range []string{"getting-started", "home-wifi", "kubernetes-apiserver", "multifile", "no-alerts", "raw-home-wifi"} {
		cs = append(cs, example(ex, rules.FormatPrometheus))
	}
	for _, ex := range []string{"k8s-getting-started", "k8s-home-wifi", "k8s-multifile"} {
		cs = append(cs, example(ex, rules.FormatOperator))
	}
	// The SLO plugin examples of v0.16.
	// (contrib-slo-plugins.yml is refused: its label names have dashes.)
	cs = append(cs, example("slo-plugin-getting-started", rules.FormatPrometheus), example("slo-plugin-k8s-getting-started", rules.FormatOperator))
	denominator := example("contrib-denominator-corrected", rules.FormatOperator)
	denominator.in, denominator.out = "examples/contrib-denominator-corrected.yaml", "examples/_gen/contrib-denominator-corrected.yaml"
	return append(cs, denominator)
}

// With --sloth-compat, every recording and alerting rule equals Sloth's:
// same groups in the same order, same names, labels, annotations and `for`,
// and the same PromQL, compared as parsed by Prometheus. The expression
// text is compared too, and must be identical.
func TestSlothGolden(t *testing.T) {
	dir := slothsrc.Dir(t)
	p := promenforce.New().Parser()
	for _, c := range goldenCases() {
		t.Run(strings.TrimSuffix(filepath.Base(c.out), ".tpl"), func(t *testing.T) {
			set, ps, err := spec.Load(filepath.Join(dir, c.in))
			if err != nil {
				t.Fatalf("loading %s: %v", c.in, ps)
			}
			cat := windows.Default()
			if c.windows != "" {
				cat, ps, err = windows.Load(filepath.Join(dir, c.windows))
				if err != nil {
					t.Fatalf("windows: %v %v", err, ps)
				}
			}
			ws, err := cat.Get(c.period)
			if err != nil {
				t.Fatal(err)
			}
			opts := c.opts
			opts.Windows, opts.SlothCompat, opts.Version = ws, true, c.version
			g, err := rules.New(opts)
			if err != nil {
				t.Fatal(err)
			}
			files, ps := g.Generate(set)
			if err := ps.Err(); err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := rules.Write(&got, files, rules.WriteOptions{Format: c.format, ManagedBy: "sloth"}); err != nil {
				t.Fatal(err)
			}
			want := readGolden(t, filepath.Join(dir, c.out), c.version, c.template)
			compareRuleDocs(t, p, parseRuleDocs(t, got.Bytes()), parseRuleDocs(t, want))
		})
	}
}

func readGolden(t *testing.T, path, version string, isTemplate bool) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !isTemplate {
		return data
	}
	tpl, err := template.New("").Parse(string(data))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := tpl.Execute(&b, map[string]string{"version": version}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// ruleDoc is a rule file or a PrometheusRule.
type ruleDoc struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name      string            `yaml:"name"`
		Namespace string            `yaml:"namespace"`
		Labels    map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Groups []ruleGroup `yaml:"groups"`
	Spec   struct {
		Groups []ruleGroup `yaml:"groups"`
	} `yaml:"spec"`
}

type ruleGroup struct {
	Name     string `yaml:"name"`
	Interval string `yaml:"interval"`
	Rules    []struct {
		Record      string            `yaml:"record"`
		Alert       string            `yaml:"alert"`
		Expr        string            `yaml:"expr"`
		For         string            `yaml:"for"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"rules"`
}

// parseRuleDocs reads every document. Rule files' groups are joined into
// one document: Sloth writes a rule file per input document, Tollgate one
// file for all, which is what Prometheus can load.
func parseRuleDocs(t *testing.T, data []byte) []ruleDoc {
	t.Helper()
	var out []ruleDoc
	var file *ruleDoc
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var d ruleDoc
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("parsing rules: %v", err)
		}
		if d.Kind == "" {
			if file == nil {
				out = append(out, ruleDoc{})
				file = &out[len(out)-1]
			}
			file.Groups = append(file.Groups, d.Groups...)
			continue
		}
		d.Groups = d.Spec.Groups
		out = append(out, d)
	}
	return out
}

func compareRuleDocs(t *testing.T, p parser.Parser, got, want []ruleDoc) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d documents, Sloth wrote %d", len(got), len(want))
	}
	rulesCompared := 0
	for i := range want {
		g, w := got[i], want[i]
		if g.Kind != w.Kind || g.Metadata.Name != w.Metadata.Name || g.Metadata.Namespace != w.Metadata.Namespace || !maps.Equal(g.Metadata.Labels, w.Metadata.Labels) {
			t.Errorf("document %d: %s %s/%s %v, Sloth: %s %s/%s %v", i, g.Kind, g.Metadata.Namespace, g.Metadata.Name, g.Metadata.Labels, w.Kind, w.Metadata.Namespace, w.Metadata.Name, w.Metadata.Labels)
		}
		if len(g.Groups) != len(w.Groups) {
			t.Fatalf("document %d: %d groups, Sloth wrote %d", i, len(g.Groups), len(w.Groups))
		}
		for j := range w.Groups {
			gg, wg := g.Groups[j], w.Groups[j]
			if gg.Name != wg.Name || len(gg.Rules) != len(wg.Rules) {
				t.Fatalf("group %d: %s with %d rules, Sloth: %s with %d rules", j, gg.Name, len(gg.Rules), wg.Name, len(wg.Rules))
			}
			if gg.Interval != wg.Interval {
				t.Errorf("group %s: interval %q, Sloth %q", gg.Name, gg.Interval, wg.Interval)
			}
			for k := range wg.Rules {
				gr, wr := gg.Rules[k], wg.Rules[k]
				where := wg.Name + "/" + wr.Record + wr.Alert
				if gr.Record != wr.Record || gr.Alert != wr.Alert || gr.For != wr.For {
					t.Errorf("%s rule %d: record %q alert %q for %q, Sloth: %q %q %q", wg.Name, k, gr.Record, gr.Alert, gr.For, wr.Record, wr.Alert, wr.For)
				}
				if !maps.Equal(gr.Labels, wr.Labels) {
					t.Errorf("%s: labels\n  got   %v\n  Sloth %v", where, gr.Labels, wr.Labels)
				}
				if !maps.Equal(gr.Annotations, wr.Annotations) {
					t.Errorf("%s: annotations\n  got   %v\n  Sloth %v", where, gr.Annotations, wr.Annotations)
				}
				ge, err := p.ParseExpr(gr.Expr)
				if err != nil {
					t.Fatalf("%s: generated expression does not parse: %v\n%s", where, err, gr.Expr)
				}
				we, err := p.ParseExpr(wr.Expr)
				if err != nil {
					t.Fatalf("%s: Sloth's expression does not parse: %v", where, err)
				}
				if ge.String() != we.String() {
					t.Errorf("%s: expression\n  got   %s\n  Sloth %s", where, ge, we)
				}
				if gr.Expr != wr.Expr {
					t.Errorf("%s: same PromQL, different text\n  got   %q\n  Sloth %q", where, gr.Expr, wr.Expr)
				}
				rulesCompared++
			}
		}
	}
	if rulesCompared == 0 {
		t.Fatal("no rules compared")
	}
	t.Logf("%d rules equal to Sloth's", rulesCompared)
}
