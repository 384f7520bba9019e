package slotest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"go.yaml.in/yaml/v3"

	"github.com/tollgate-dev/tollgate/internal/demo/synth"
	"github.com/tollgate-dev/tollgate/internal/testkit/testenv"
)

// Promtool returns the promtool binary; a missing one fails the test.
func Promtool(t testing.TB) string {
	t.Helper()
	return testenv.Binary(t, "TOLLGATE_PROMTOOL", "promtool")
}

// CheckRules runs `promtool check rules` on rule files and fails the test
// with promtool's output when it finds a problem.
func CheckRules(t testing.TB, files ...string) {
	t.Helper()
	out, err := exec.Command(Promtool(t), append([]string{"check", "rules"}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules %s: %v\n%s", strings.Join(files, " "), err, out)
	}
}

// UnitTests is a promtool unit test file (`promtool test rules`).
type UnitTests struct {
	RuleFiles          []string   `yaml:"rule_files"`
	EvaluationInterval string     `yaml:"evaluation_interval"`
	Tests              []UnitTest `yaml:"tests"`
}

// UnitTest is one test group: input series and what to expect of them.
type UnitTest struct {
	Name        string          `yaml:"name"`
	Interval    string          `yaml:"interval"`
	InputSeries []InputSeries   `yaml:"input_series"`
	Alerts      []AlertRuleTest `yaml:"alert_rule_test,omitempty"`
	Exprs       []ExprTest      `yaml:"promql_expr_test,omitempty"`
}

// InputSeries is a series and its values, one per interval.
type InputSeries struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

// AlertRuleTest lists every alert named Alertname firing at EvalTime; an
// empty list means none fires.
type AlertRuleTest struct {
	EvalTime  string     `yaml:"eval_time"`
	Alertname string     `yaml:"alertname"`
	ExpAlerts []ExpAlert `yaml:"exp_alerts"`
}

// ExpAlert is an expected alert's labels (without alertname) and
// annotations, templates expanded.
type ExpAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels"`
	ExpAnnotations map[string]string `yaml:"exp_annotations"`
}

// ExprTest evaluates an expression.
type ExprTest struct {
	Expr       string      `yaml:"expr"`
	EvalTime   string      `yaml:"eval_time"`
	ExpSamples []ExpSample `yaml:"exp_samples"`
}

// ExpSample is an expected sample; Labels in series notation.
type ExpSample struct {
	Labels string  `yaml:"labels"`
	Value  float64 `yaml:"value"`
}

// TestRules writes the unit tests next to the rule files they name (paths
// relative to dir) and runs `promtool test rules`, failing the test with
// promtool's report when an expectation is not met.
func TestRules(t testing.TB, dir string, tests UnitTests) {
	t.Helper()
	data, err := yaml.Marshal(tests)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "tests.yml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(Promtool(t), "test", "rules", "tests.yml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}

// Input samples series every step from start over n steps, in promtool's
// notation, one value per step.
func Input(series []synth.Series, start time.Time, step time.Duration, n int) []InputSeries {
	out := make([]InputSeries, 0, len(series))
	for _, s := range series {
		var b strings.Builder
		for i := 0; i <= n; i++ {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(strconv.FormatFloat(s.Value(start.Add(time.Duration(i)*step)), 'g', -1, 64))
		}
		out = append(out, InputSeries{Series: SeriesNotation(s.Labels), Values: b.String()})
	}
	return out
}

// SeriesNotation writes labels as `name{a="b"}`.
func SeriesNotation(ls labels.Labels) string {
	name := ls.Get(labels.MetricName)
	return name + labels.NewBuilder(ls).Del(labels.MetricName).Labels().String()
}

// Duration prints a duration as promtool reads it.
func Duration(d time.Duration) string { return model.Duration(d).String() }
