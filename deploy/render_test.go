package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tollgate-dev/tollgate/internal/testkit/testenv"
)

const (
	chartDir = "helm/tollgate"
	// releaseName and releaseNamespace are those deploy/kubernetes is rendered with.
	releaseName      = "tollgate"
	releaseNamespace = "observability"
)

// examples lists the example values files beside the chart; the tests run
// on every one, and fail if there are fewer than the three the chart ships.
func examples(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(chartDir, "examples", "*-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), "-values.yaml"))
	}
	for _, want := range []string{"minimal", "oidc-redis", "pci"} {
		if !slices.Contains(names, want) {
			t.Fatalf("example %s-values.yaml is missing from %s/examples (have %v)", want, chartDir, names)
		}
	}
	return names
}

func exampleFile(name string) string {
	return filepath.Join(chartDir, "examples", name+"-values.yaml")
}

// helm runs the real Helm and returns its standard output; a failure
// carries its standard error.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(testenv.HelmBinary(t), args...)
	// Helm's own state (repositories, plugins) must not leak in or out.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home, "HELM_CONFIG_HOME="+home, "HELM_DATA_HOME="+home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %w\n%s%s", strings.Join(args, " "), err, stderr.String(), stdout.String())
	}
	return stdout.String(), nil
}

// template renders the chart with an example's values (and extra flags).
func template(t *testing.T, example string, extra ...string) string {
	t.Helper()
	args := append([]string{"template", releaseName, chartDir, "--namespace", releaseNamespace, "-f", exampleFile(example)}, extra...)
	out, err := helm(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rendered is a chart's output decoded into the API types.
type rendered struct {
	deployments  []*appsv1.Deployment
	configMaps   []*corev1.ConfigMap
	secrets      []*corev1.Secret
	services     []*corev1.Service
	pdbs         []*policyv1.PodDisruptionBudget
	hpas         []*autoscalingv2.HorizontalPodAutoscaler
	netpols      []*networkingv1.NetworkPolicy
	monitors     []*serviceMonitor
	rules        []*prometheusRule
	accounts     []*corev1.ServiceAccount
	podTemplates map[string]*corev1.PodTemplateSpec // by workload kind/name
}

// decodeManifests decodes every document strictly: unknown or misspelt
// fields, duplicate keys and kinds the tests do not know are errors.
func decodeManifests(manifests string) (*rendered, error) {
	r := &rendered{podTemplates: map[string]*corev1.PodTemplateSpec{}}
	dec := yaml.NewDecoder(strings.NewReader(manifests))
	for i := 0; ; i++ {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return r, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if doc == nil {
			continue
		}
		if err := r.add(doc); err != nil {
			return nil, fmt.Errorf("document %d (%v %v): %w", i, doc["kind"], nameOf(doc), err)
		}
	}
}

func nameOf(doc map[string]any) any {
	if m, ok := doc["metadata"].(map[string]any); ok {
		return m["name"]
	}
	return nil
}

func (r *rendered) add(doc map[string]any) error {
	kind := fmt.Sprintf("%v/%v", doc["apiVersion"], doc["kind"])
	switch kind {
	case "apps/v1/Deployment":
		d, err := strict[appsv1.Deployment](doc)
		if err == nil {
			r.deployments = append(r.deployments, d)
			r.podTemplates["Deployment/"+d.Name] = &d.Spec.Template
		}
		return err
	case "v1/ConfigMap":
		return into(doc, &r.configMaps)
	case "v1/Secret":
		return into(doc, &r.secrets)
	case "v1/Service":
		return into(doc, &r.services)
	case "v1/ServiceAccount":
		return into(doc, &r.accounts)
	case "policy/v1/PodDisruptionBudget":
		return into(doc, &r.pdbs)
	case "autoscaling/v2/HorizontalPodAutoscaler":
		return into(doc, &r.hpas)
	case "networking.k8s.io/v1/NetworkPolicy":
		return into(doc, &r.netpols)
	case "monitoring.coreos.com/v1/ServiceMonitor":
		return into(doc, &r.monitors)
	case "monitoring.coreos.com/v1/PrometheusRule":
		return into(doc, &r.rules)
	}
	return fmt.Errorf("kind %s is not one the tests decode; add it to rendered.add (and its checks)", kind)
}

func into[T any](doc map[string]any, list *[]*T) error {
	v, err := strict[T](doc)
	if err == nil {
		*list = append(*list, v)
	}
	return err
}

// strict decodes a YAML document into T through JSON, as the API server
// reads it, refusing fields T does not have.
func strict[T any](doc map[string]any) (*T, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	v := new(T)
	if err := dec.Decode(v); err != nil {
		return nil, err
	}
	return v, nil
}

// serviceMonitor and prometheusRule mirror the fields of the Prometheus
// Operator's monitoring.coreos.com/v1 types that the chart may write
// (github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring).
// The operator's Go module is not imported: it would raise versions of
// Kubernetes modules that bin/tollgate links. A field missing here fails the
// decode, so a misspelling cannot pass.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		JobLabel          string               `json:"jobLabel,omitempty"`
		Selector          metav1.LabelSelector `json:"selector"`
		NamespaceSelector *struct {
			Any        bool     `json:"any,omitempty"`
			MatchNames []string `json:"matchNames,omitempty"`
		} `json:"namespaceSelector,omitempty"`
		Endpoints []struct {
			Port          string       `json:"port,omitempty"`
			Path          string       `json:"path,omitempty"`
			Scheme        string       `json:"scheme,omitempty"`
			Interval      string       `json:"interval,omitempty"`
			ScrapeTimeout string       `json:"scrapeTimeout,omitempty"`
			HonorLabels   bool         `json:"honorLabels,omitempty"`
			Relabelings   []relabeling `json:"relabelings,omitempty"`
		} `json:"endpoints"`
	} `json:"spec"`
}

type relabeling struct {
	SourceLabels []string `json:"sourceLabels,omitempty"`
	Separator    string   `json:"separator,omitempty"`
	TargetLabel  string   `json:"targetLabel,omitempty"`
	Regex        string   `json:"regex,omitempty"`
	Replacement  string   `json:"replacement,omitempty"`
	Action       string   `json:"action,omitempty"`
}

type prometheusRule struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Groups []struct {
			Name     string `json:"name"`
			Interval string `json:"interval,omitempty"`
			Rules    []struct {
				Record      string            `json:"record,omitempty"`
				Alert       string            `json:"alert,omitempty"`
				Expr        string            `json:"expr"`
				For         string            `json:"for,omitempty"`
				Labels      map[string]string `json:"labels,omitempty"`
				Annotations map[string]string `json:"annotations,omitempty"`
			} `json:"rules"`
		} `json:"groups"`
	} `json:"spec"`
}

// renderExample renders and decodes an example.
func renderExample(t *testing.T, example string, extra ...string) *rendered {
	t.Helper()
	r, err := decodeManifests(template(t, example, extra...))
	if err != nil {
		t.Fatalf("example %s: %v", example, err)
	}
	return r
}

// configOf returns the rendered tollgate.yaml of the release.
func (r *rendered) configOf(t *testing.T) string {
	t.Helper()
	for _, cm := range r.configMaps {
		if cm.Name == releaseName {
			if c, ok := cm.Data["tollgate.yaml"]; ok {
				return c
			}
		}
	}
	t.Fatal("no ConfigMap with tollgate.yaml")
	return ""
}
