package deploy

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/tollgate-dev/tollgate/internal/testkit/testenv"
)

var update = flag.Bool("update", false, "rewrite deploy/kubernetes from the chart (make manifests); review the diff")

const manifestHeader = "# Generated from the Helm chart deploy/helm/tollgate with examples/%s-values.yaml\n" +
	"# (release tollgate, namespace observability) by `make manifests`. Do not edit: change\n" +
	"# the chart or the example and run `make manifests`; a test fails when the two differ.\n"

// deploy/kubernetes is the chart rendered with each example's values, so
// the plain manifests and the chart cannot drift.
func TestKubernetesManifestsMatchChart(t *testing.T) {
	names := examples(t)
	want := map[string]bool{}
	for _, ex := range names {
		file := filepath.Join("kubernetes", ex+".yaml")
		want[file] = true
		rendered := []byte(fmt.Sprintf(manifestHeader, ex) + template(t, ex))
		if *update {
			if err := os.WriteFile(file, rendered, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v: run `make manifests`", err)
		}
		if !bytes.Equal(got, rendered) {
			t.Errorf("%s differs from the chart rendered with examples/%s-values.yaml: run `make manifests` and review the diff", file, ex)
		}
	}
	files, _ := filepath.Glob(filepath.Join("kubernetes", "*"))
	for _, f := range files {
		if !want[f] {
			t.Errorf("%s is not rendered from the chart; remove it or add an example", f)
		}
	}
}

// The chart's copy of Tollgate's availability SLO rules is exactly what
// `tollgate slo generate` writes from the chart's catalogue configuration,
// the rules load in promtool, and the PrometheusRule carries them.
func TestChartSLORulesMatchGenerator(t *testing.T) {
	rulesFile := filepath.Join(chartDir, "files", "slo-rules.yaml")
	cmd := exec.Command(tollgateBinary(t), "slo", "generate", "--catalog-config", filepath.Join(chartDir, "files", "slo-catalog.yaml"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	generated, err := cmd.Output()
	if err != nil {
		t.Fatalf("tollgate slo generate: %v\n%s", err, stderr.String())
	}
	chartCopy, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(generated, chartCopy) {
		t.Fatalf("%s is stale: regenerate it with the command in files/slo-catalog.yaml", rulesFile)
	}
	if out, err := exec.Command(testenv.Binary(t, "TOLLGATE_PROMTOOL", "promtool"), "check", "rules", rulesFile).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	var file struct {
		Groups []any `yaml:"groups"`
	}
	if err := yaml.Unmarshal(chartCopy, &file); err != nil || len(file.Groups) == 0 {
		t.Fatalf("rule file: %v, %d groups", err, len(file.Groups))
	}
	for _, ex := range examples(t) {
		out := template(t, ex, "--set", "prometheusRule.enabled=true", "--show-only", "templates/prometheusrule.yaml")
		if _, err := decodeManifests(out); err != nil {
			t.Fatalf("example %s: %v", ex, err)
		}
		var pr struct {
			Spec struct {
				Groups []any `yaml:"groups"`
			} `yaml:"spec"`
		}
		if err := yaml.Unmarshal([]byte(out), &pr); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(pr.Spec.Groups, file.Groups) {
			t.Errorf("example %s: the PrometheusRule's groups are not the rule file's", ex)
		}
	}
}

// The golden dashboards (dashboards/testdata/golden, reviewed by hand), as
// `tollgate dashboards generate` writes them, become one ConfigMap per
// folder labelled for Grafana's dashboard sidecar, byte for byte.
func TestChartGoldenDashboards(t *testing.T) {
	golden := filepath.Join("..", "dashboards", "testdata", "golden")
	files, err := filepath.Glob(filepath.Join(golden, "teams", "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("golden team dashboards: %v, %d", err, len(files))
	}
	files = append(files, filepath.Join(golden, "platform", "overview.json"))
	args := []string{"--set", "grafanaDashboards.enabled=true"}
	want := map[string]map[string]string{} // folder -> key -> content
	for _, f := range files {
		folder := filepath.Base(filepath.Dir(f))
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if want[folder] == nil {
			want[folder] = map[string]string{}
		}
		want[folder][name+".json"] = string(b)
		args = append(args, "--set-file", fmt.Sprintf("grafanaDashboards.folders.%s.%s=%s", folder, name, f))
	}
	r := renderExample(t, "minimal", args...)
	got := 0
	for _, cm := range r.configMaps {
		folder, ok := strings.CutPrefix(cm.Name, releaseName+"-dashboards-")
		if !ok {
			continue
		}
		got++
		if cm.Labels["grafana_dashboard"] != "1" || cm.Annotations["grafana_folder"] != folder {
			t.Errorf("ConfigMap %s: labels %v, annotations %v", cm.Name, cm.Labels, cm.Annotations)
		}
		if !reflect.DeepEqual(cm.Data, want[folder]) {
			t.Errorf("ConfigMap %s does not hold the golden dashboards of %s byte for byte", cm.Name, folder)
		}
		size := 0
		for _, v := range cm.Data {
			size += len(v)
		}
		if size > 1<<20 {
			t.Errorf("ConfigMap %s holds %d bytes, over Kubernetes' 1 MiB", cm.Name, size)
		}
	}
	if got != len(want) {
		t.Errorf("%d dashboard ConfigMaps, want one per folder (%d)", got, len(want))
	}
	if _, err := helm(t, "template", releaseName, chartDir, "-f", exampleFile("minimal"), "--set", "grafanaDashboards.enabled=true", "--set", "grafanaDashboards.folders.Bad_Folder.x=1"); err == nil {
		t.Error("a folder that cannot name a ConfigMap was accepted")
	}
}
