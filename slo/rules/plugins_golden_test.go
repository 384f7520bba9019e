package rules_test

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tollgate-dev/tollgate/promenforce"
	"github.com/tollgate-dev/tollgate/slo/internal/slothsrc"
	"github.com/tollgate-dev/tollgate/slo/rules"
	"github.com/tollgate-dev/tollgate/slo/spec"
	"github.com/tollgate-dev/tollgate/slo/windows"
)

// binaryCase is a spec of testdata/plugins and the `sloth generate` flags
// to generate it with.
type binaryCase struct {
	spec    string
	period  time.Duration
	windows bool // --slo-period-windows-path testdata/plugins/windows
	extra   map[string]string
	// plugins are given for every SLO (--slo-plugins); noDefaults is
	// --disable-default-slo-plugins.
	plugins    []string
	noDefaults bool
}

func (c binaryCase) name() string {
	n := strings.TrimSuffix(c.spec, ".yaml") + "-" + days(c.period)
	if c.windows {
		n += "-custom-windows"
	}
	if c.extra != nil {
		n += "-extra-labels"
	}
	if c.plugins != nil {
		n += "-slo-plugins"
	}
	if c.noDefaults {
		n += "-no-defaults"
	}
	return n
}

// days prints a period as Sloth's --default-slo-period takes it.
func days(d time.Duration) string { return strconv.Itoa(int(d.Hours()/24)) + "d" }

// binaryCases use each plugin alone (core.yaml: the core plugins in
// chains; one contrib plugin per file) and together (combined*.yaml), in
// both spec formats, over 30 and 28 days, with custom alert windows and
// with extra labels.
func binaryCases() []binaryCase {
	var cs []binaryCase
	for _, f := range []string{"core.yaml", "exhausted.yaml", "info-labels.yaml", "intervals.yaml", "denominator.yaml", "remove-labels.yaml", "combined.yaml", "combined-k8s.yaml"} {
		cs = append(cs, binaryCase{spec: f, period: 30 * day})
	}
	for _, f := range []string{"exhausted.yaml", "denominator.yaml", "combined.yaml", "combined-k8s.yaml"} {
		cs = append(cs, binaryCase{spec: f, period: 28 * day})
	}
	for _, f := range []string{"combined.yaml", "combined-k8s.yaml", "denominator.yaml"} {
		cs = append(cs, binaryCase{spec: f, period: 30 * day, windows: true})
	}
	cs = append(cs, binaryCase{spec: "remove-labels.yaml", period: 30 * day, extra: map[string]string{"env": "prod", "cluster": "eu-1"}})
	// Plugins for every SLO, between the spec's by priority, and without
	// the default plugins.
	intervals := `{"id": "sloth.dev/contrib/rule_intervals/v1", "priority": 50, "config": {"interval": {"default": "3m"}}}`
	remove := `{"id": "sloth.dev/contrib/remove_labels/v1", "priority": 200}`
	cs = append(cs, binaryCase{spec: "intervals.yaml", period: 30 * day, plugins: []string{intervals, remove}},
		binaryCase{spec: "core.yaml", period: 28 * day, plugins: []string{remove}, noDefaults: true})
	return cs
}

// The real Sloth v0.16.0 and --sloth-compat write the same rules for specs
// with SLO plugins: the same documents, groups, intervals, rules, labels,
// annotations and `for`, the PromQL equal once parsed and equal as text.
// Sloth's output is deterministic (TestSlothIsDeterministic), so both are
// also compared byte for byte once put in one canonical YAML form (key
// order and quoting are the only freedom left to a YAML writer); the files
// themselves differ in their header comment and layout.
func TestPluginsMatchRealSloth(t *testing.T) {
	bin := slothsrc.Binary(t)
	p := promenforce.New().Parser()
	for _, c := range binaryCases() {
		t.Run(c.name(), func(t *testing.T) {
			t.Parallel()
			want := runSloth(t, bin, c)
			got := generateCompat(t, c)
			compareRuleDocs(t, p, parseRuleDocs(t, got), parseRuleDocs(t, want))
			if g, w := canonical(t, got), canonical(t, want); !bytes.Equal(g, w) {
				t.Errorf("canonical forms differ:\n--- Tollgate\n%s\n--- Sloth\n%s", g, w)
			}
		})
	}
}

// Sloth writes the same bytes for the same spec every time, which is what
// makes comparing bytes meaningful.
func TestSlothIsDeterministic(t *testing.T) {
	bin := slothsrc.Binary(t)
	for _, c := range []binaryCase{{spec: "combined.yaml", period: 30 * day}, {spec: "combined-k8s.yaml", period: 28 * day}} {
		first := runSloth(t, bin, c)
		for range 3 {
			if again := runSloth(t, bin, c); !bytes.Equal(first, again) {
				t.Fatalf("%s: two runs of Sloth differ", c.name())
			}
		}
	}
}

func runSloth(t *testing.T, bin string, c binaryCase) []byte {
	t.Helper()
	args := []string{"generate", "-i", filepath.Join("testdata", "plugins", c.spec), "--default-slo-period", days(c.period)}
	if c.windows {
		args = append(args, "--slo-period-windows-path", filepath.Join("testdata", "plugins", "windows"))
	}
	for k, v := range c.extra {
		args = append(args, "-l", k+"="+v)
	}
	for _, p := range c.plugins {
		args = append(args, "--slo-plugins", p)
	}
	if c.noDefaults {
		args = append(args, "--disable-default-slo-plugins")
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sloth %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return stdout.Bytes()
}

// generateCompat is `tollgate slo generate --sloth-compat` with the flags
// of the case, in the format Sloth writes for the spec's kind.
func generateCompat(t *testing.T, c binaryCase) []byte {
	t.Helper()
	set, ps, err := spec.Load(filepath.Join("testdata", "plugins", c.spec))
	if err != nil {
		t.Fatalf("loading: %v", ps)
	}
	cat := windows.Default()
	if c.windows {
		if cat, ps, err = windows.Load(filepath.Join("testdata", "plugins", "windows")); err != nil {
			t.Fatalf("windows: %v %v", err, ps)
		}
	}
	ws, err := cat.Get(c.period)
	if err != nil {
		t.Fatal(err)
	}
	opts := rules.Options{Windows: ws, SlothCompat: true, Version: slothsrc.Version, ExtraLabels: c.extra, DisableDefaultPlugins: c.noDefaults}
	for i, v := range c.plugins {
		p, ps := spec.CommandLinePlugin(fmt.Sprintf("--slo-plugins[%d]", i), v)
		if len(ps) > 0 {
			t.Fatal(ps)
		}
		opts.Plugins = append(opts.Plugins, p)
	}
	g, err := rules.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	files, ps := g.Generate(set)
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	format := rules.FormatPrometheus
	if set.Documents[0].Format == spec.FormatKubernetes {
		format = rules.FormatOperator
	}
	var out bytes.Buffer
	if err := rules.Write(&out, files, rules.WriteOptions{Format: format, ManagedBy: "sloth"}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// canonical writes parsed rule documents in one YAML form.
func canonical(t *testing.T, data []byte) []byte {
	t.Helper()
	docs := parseRuleDocs(t, data)
	for i := range docs {
		docs[i].Spec.Groups = nil
	}
	out, err := yaml.Marshal(docs)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
