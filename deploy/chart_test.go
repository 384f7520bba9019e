package deploy

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/tollgate-dev/tollgate/internal/httpserver"
)

func TestChartLintStrict(t *testing.T) {
	if out, err := helm(t, "lint", "--strict", chartDir); err != nil {
		t.Fatal(err)
	} else if !strings.Contains(out, "0 chart(s) failed") {
		t.Fatalf("helm lint: %s", out)
	}
	for _, ex := range examples(t) {
		if _, err := helm(t, "lint", "--strict", chartDir, "-f", exampleFile(ex)); err != nil {
			t.Errorf("example %s: %v", ex, err)
		}
	}
}

// Every example renders into objects that decode strictly into the
// Kubernetes API types, with the objects the golden path requires.
func TestChartExamplesDecodeStrictly(t *testing.T) {
	for _, ex := range examples(t) {
		t.Run(ex, func(t *testing.T) {
			r := renderExample(t, ex)
			if len(r.deployments) != 1 || len(r.configMaps) == 0 || len(r.services) != 1 || len(r.pdbs) != 1 ||
				len(r.hpas) != 1 || len(r.netpols) != 1 || len(r.monitors) != 1 || len(r.accounts) != 1 {
				t.Fatalf("objects: %d Deployment, %d ConfigMap, %d Service, %d PDB, %d HPA, %d NetworkPolicy, %d ServiceMonitor, %d ServiceAccount",
					len(r.deployments), len(r.configMaps), len(r.services), len(r.pdbs), len(r.hpas), len(r.netpols), len(r.monitors), len(r.accounts))
			}
		})
	}
}

// The strict decoding is what catches a misspelt field: a chart that wrote
// one would fail here.
func TestStrictDecodeRefusesUnknownFields(t *testing.T) {
	for _, doc := range []string{
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n      containers: [{name: a, image: b, securityContex: {}}]\n",
		"apiVersion: v1\nkind: Service\nmetadata: {name: x, lables: {}}\n",
		"apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: x}\nspec: {selector: {}, endpoints: [{port: m, intervall: 30s}]}\n",
		"apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nmetadata: {name: y}\n",
	} {
		if _, err := decodeManifests(doc); err == nil {
			t.Errorf("accepted:\n%s", doc)
		}
	}
}

// The golden path's hardening, checked on every container of every pod
// template of every example.
func TestChartHardening(t *testing.T) {
	for _, ex := range examples(t) {
		t.Run(ex, func(t *testing.T) {
			r := renderExample(t, ex)
			if len(r.podTemplates) == 0 {
				t.Fatal("no pod template")
			}
			for name, pt := range r.podTemplates {
				checkPodHardening(t, name, &pt.Spec)
			}
			checkRollout(t, r)
			checkAvailability(t, r)
			checkNetworkPolicy(t, r)
			checkMetrics(t, r)
		})
	}
}

func checkPodHardening(t *testing.T, name string, pod *corev1.PodSpec) {
	t.Helper()
	psc := pod.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Errorf("%s: the service-account token is mounted; Tollgate calls no Kubernetes API", name)
	}
	for _, c := range append(slices.Clone(pod.InitContainers), pod.Containers...) {
		where := name + " container " + c.Name
		sc := c.SecurityContext
		if sc == nil {
			t.Errorf("%s: no securityContext", where)
			continue
		}
		if !isTrue(sc.RunAsNonRoot) && !(sc.RunAsNonRoot == nil && isTrue(psc.RunAsNonRoot)) {
			t.Errorf("%s: runAsNonRoot is not true", where)
		}
		if (sc.RunAsUser != nil && *sc.RunAsUser == 0) || (sc.RunAsUser == nil && psc.RunAsUser != nil && *psc.RunAsUser == 0) {
			t.Errorf("%s: runs as UID 0", where)
		}
		if !isTrue(sc.ReadOnlyRootFilesystem) {
			t.Errorf("%s: readOnlyRootFilesystem is not true", where)
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("%s: allowPrivilegeEscalation is not false", where)
		}
		if isTrue(sc.Privileged) {
			t.Errorf("%s: privileged", where)
		}
		if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
			t.Errorf("%s: capabilities are not drop [ALL] with none added: %+v", where, sc.Capabilities)
		}
		seccomp := sc.SeccompProfile
		if seccomp == nil {
			seccomp = psc.SeccompProfile
		}
		if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: seccomp profile is not RuntimeDefault", where)
		}
		if _, ok := c.Resources.Limits[corev1.ResourceCPU]; ok {
			t.Errorf("%s: has a CPU limit", where)
		}
		if q, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok || q.IsZero() {
			t.Errorf("%s: no memory limit", where)
		}
		if _, ok := c.Resources.Requests[corev1.ResourceCPU]; !ok {
			t.Errorf("%s: no CPU request (the HPA scales on CPU utilisation of the request)", where)
		}
	}
}

func isTrue(b *bool) bool { return b != nil && *b }

// checkRollout: probes, the drain and the checksum that rolls pods.
func checkRollout(t *testing.T, r *rendered) {
	t.Helper()
	d := r.deployments[0]
	pod := d.Spec.Template.Spec
	c := container(t, &pod, "tollgate")
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/-/ready" {
		t.Errorf("readiness probe is not GET /-/ready: %+v", c.ReadinessProbe)
	}
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/-/healthy" {
		t.Errorf("liveness probe is not GET /-/healthy: %+v", c.LivenessProbe)
	}
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil || c.Lifecycle.PreStop.Sleep.Seconds < 1 {
		t.Fatalf("no preStop sleep: %+v", c.Lifecycle)
	}
	preStop := time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	if pod.TerminationGracePeriodSeconds == nil || time.Duration(*pod.TerminationGracePeriodSeconds)*time.Second < preStop+httpserver.ShutdownGrace {
		t.Errorf("terminationGracePeriodSeconds %v does not cover the preStop sleep %v and the drain %v", pod.TerminationGracePeriodSeconds, preStop, httpserver.ShutdownGrace)
	}
	sum := sha256.Sum256([]byte(strings.TrimSuffix(r.configOf(t), "\n")))
	if got := d.Spec.Template.Annotations["checksum/config"]; got != hex.EncodeToString(sum[:]) {
		t.Errorf("checksum/config %q is not the SHA-256 of the ConfigMap's configuration", got)
	}
	// The configuration the pod reads is the release's ConfigMap.
	mounted := false
	for _, v := range pod.Volumes {
		if v.ConfigMap != nil && v.ConfigMap.Name == releaseName {
			mounted = true
		}
	}
	if !mounted || !slices.Contains(c.Args, "--config=/etc/tollgate/tollgate.yaml") {
		t.Errorf("the ConfigMap is not what the container reads: args %v", c.Args)
	}
}

func container(t *testing.T, pod *corev1.PodSpec, name string) *corev1.Container {
	t.Helper()
	for i := range pod.Containers {
		if pod.Containers[i].Name == name {
			return &pod.Containers[i]
		}
	}
	t.Fatalf("no container %s", name)
	return nil
}

func checkAvailability(t *testing.T, r *rendered) {
	t.Helper()
	d := r.deployments[0]
	pdb := r.pdbs[0]
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.String() != "1" || !selects(pdb.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
		t.Errorf("PDB is not minAvailable 1 over the pods: %+v", pdb.Spec)
	}
	hpa := r.hpas[0]
	if hpa.Spec.ScaleTargetRef.Kind != "Deployment" || hpa.Spec.ScaleTargetRef.Name != d.Name {
		t.Errorf("HPA scales %+v", hpa.Spec.ScaleTargetRef)
	}
	if len(hpa.Spec.Metrics) == 0 || hpa.Spec.Metrics[0].Resource == nil || hpa.Spec.Metrics[0].Resource.Name != corev1.ResourceCPU {
		t.Errorf("HPA is not on CPU: %+v", hpa.Spec.Metrics)
	}
	if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas < 2 {
		t.Errorf("HPA minReplicas %v: a PDB with minAvailable 1 over one pod blocks every node drain", hpa.Spec.MinReplicas)
	}
	if d.Spec.Replicas != nil {
		t.Errorf("Deployment sets replicas %d beside the HPA; each upgrade would undo the HPA's", *d.Spec.Replicas)
	}
}

func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// checkNetworkPolicy: default deny both ways over the pods, and every allow
// names its peers (an allow without peers admits everyone).
func checkNetworkPolicy(t *testing.T, r *rendered) {
	t.Helper()
	np := r.netpols[0]
	if !selects(np.Spec.PodSelector.MatchLabels, r.deployments[0].Spec.Template.Labels) {
		t.Errorf("NetworkPolicy does not select the pods: %+v", np.Spec.PodSelector)
	}
	if !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) || !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) {
		t.Errorf("policyTypes %v: not default deny both ways", np.Spec.PolicyTypes)
	}
	metricsPort := portOf(t, r, "metrics")
	for i, in := range np.Spec.Ingress {
		if len(in.From) == 0 || len(in.Ports) == 0 {
			t.Errorf("ingress[%d] allows any source or any port: %+v", i, in)
		}
		var ports []int
		for _, p := range in.Ports {
			ports = append(ports, p.Port.IntValue())
		}
		if slices.Contains(ports, metricsPort) && len(ports) > 1 {
			t.Errorf("ingress[%d] opens the unauthenticated metrics port together with %v: give Prometheus its own rule", i, ports)
		}
	}
	dns := false
	for i, out := range np.Spec.Egress {
		if len(out.To) == 0 || len(out.Ports) == 0 {
			t.Errorf("egress[%d] allows any destination or any port: %+v", i, out)
		}
		for _, peer := range out.To {
			if peer.IPBlock != nil && strings.HasSuffix(peer.IPBlock.CIDR, "/0") {
				t.Errorf("egress[%d] allows the whole internet: %s", i, peer.IPBlock.CIDR)
			}
		}
		for _, p := range out.Ports {
			if p.Port.IntValue() == 53 {
				dns = true
			}
		}
	}
	if !dns {
		t.Error("no egress to DNS")
	}
}

// checkMetrics: the ServiceMonitor scrapes metrics_listen, through the
// Service port of that name, and the container ports are the config's.
func checkMetrics(t *testing.T, r *rendered) {
	t.Helper()
	var cfg struct {
		Listen        string `yaml:"listen"`
		MetricsListen string `yaml:"metrics_listen"`
	}
	if err := yaml.Unmarshal([]byte(r.configOf(t)), &cfg); err != nil {
		t.Fatal(err)
	}
	for name, addr := range map[string]string{"http": cfg.Listen, "metrics": cfg.MetricsListen} {
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatalf("config address of %s: %v", name, err)
		}
		if strconv.Itoa(portOf(t, r, name)) != port {
			t.Errorf("container port %s is %d, the configuration listens on %s", name, portOf(t, r, name), addr)
		}
	}
	sm := r.monitors[0]
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "metrics" || sm.Spec.Endpoints[0].Path != "/metrics" {
		t.Errorf("ServiceMonitor does not scrape the metrics port: %+v", sm.Spec.Endpoints)
	}
	if len(sm.Spec.Endpoints) > 0 && !sm.Spec.Endpoints[0].HonorLabels {
		t.Error("ServiceMonitor without honorLabels: Prometheus would move the cost gauges' namespace to exported_namespace and confine every namespace's cost to Tollgate's own (docs/cost.md#metrics)")
	}
	svc := r.services[0]
	if !selects(sm.Spec.Selector.MatchLabels, svc.Labels) || !selects(svc.Spec.Selector, r.deployments[0].Spec.Template.Labels) {
		t.Error("ServiceMonitor -> Service -> pods selection is broken")
	}
	found := false
	for _, p := range svc.Spec.Ports {
		if p.Name == "metrics" && p.TargetPort.String() == "metrics" {
			found = true
		}
	}
	if !found {
		t.Errorf("Service has no port metrics targeting the container's: %+v", svc.Spec.Ports)
	}
}

// portOf returns the tollgate container's port of that name.
func portOf(t *testing.T, r *rendered, name string) int {
	t.Helper()
	pod := r.deployments[0].Spec.Template.Spec
	for _, p := range container(t, &pod, "tollgate").Ports {
		if p.Name == name {
			return int(p.ContainerPort)
		}
	}
	t.Fatalf("tollgate container has no port %s", name)
	return 0
}

// Each example's configuration, as the chart renders it into the ConfigMap,
// passes `tollgate config check`, with the files it references where the
// pod would have them: the Secret's keys under secrets.mountPath.
func TestChartConfigCheck(t *testing.T) {
	bin := tollgateBinary(t)
	for _, ex := range examples(t) {
		t.Run(ex, func(t *testing.T) {
			secretDir := t.TempDir()
			r := renderExample(t, ex, "--set", "secrets.mountPath="+secretDir)
			cfg := r.configOf(t)
			writeSecretFiles(t, r, cfg, secretDir)
			file := filepath.Join(t.TempDir(), "tollgate.yaml")
			if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(bin, "config", "check", file).CombinedOutput()
			if err != nil {
				t.Fatalf("tollgate config check on example %s's ConfigMap: %v\n%s\n--- config:\n%s", ex, err, out, cfg)
			}
		})
	}
}

// writeSecretFiles puts the rendered Secret's keys into dir, as the pod
// mounts them. With secrets.existingSecret nothing is rendered, so each
// file the configuration names under dir gets a stand-in of the right form
// (the tests cannot know the operator's secrets).
func writeSecretFiles(t *testing.T, r *rendered, cfg, dir string) {
	t.Helper()
	for _, s := range r.secrets {
		if s.Name != releaseName {
			continue
		}
		for k, v := range s.StringData {
			if err := os.WriteFile(filepath.Join(dir, k), []byte(v), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, f := range filesUnder(cfg, dir) {
		if _, err := os.Stat(f); err == nil {
			continue
		}
		if !hasExistingSecret(r) {
			t.Errorf("the configuration reads %s, which no Secret the chart renders holds", f)
			continue
		}
		content := "stand-in-redis-password"
		if strings.HasSuffix(f, ".sha256") {
			sum := sha256.Sum256([]byte(f))
			content = hex.EncodeToString(sum[:])
		}
		if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// hasExistingSecret reports whether the pod mounts a Secret the chart did
// not render.
func hasExistingSecret(r *rendered) bool {
	for _, v := range r.deployments[0].Spec.Template.Spec.Volumes {
		if v.Secret == nil {
			continue
		}
		if !slices.ContainsFunc(r.secrets, func(s *corev1.Secret) bool { return s.Name == v.Secret.SecretName }) {
			return true
		}
	}
	return false
}

// filesUnder returns every string value of the configuration that is a
// path under dir.
func filesUnder(cfg, dir string) []string {
	var doc any
	if err := yaml.Unmarshal([]byte(cfg), &doc); err != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		case string:
			if strings.HasPrefix(v, dir+"/") {
				out = append(out, v)
			}
		}
	}
	walk(doc)
	return out
}

// Token hashes and the Redis password reach the pod through the Secret;
// the ConfigMap only names the files.
func TestChartKeepsSecretsOutOfConfigMap(t *testing.T) {
	const hash = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
	const password = "s3cret-redis-password"
	out := template(t, "minimal", "--set", "tokens[0].sha256="+hash, "--set", "redisAuth.enabled=true", "--set", "redisAuth.password="+password)
	r, err := decodeManifests(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, cm := range r.configMaps {
		for k, v := range cm.Data {
			if strings.Contains(v, hash) || strings.Contains(v, password) {
				t.Errorf("ConfigMap %s key %s holds a secret", cm.Name, k)
			}
		}
	}
	cfg := r.configOf(t)
	for _, want := range []string{"sha256_file: /etc/tollgate/secrets/token-ci.sha256", "password_file: /etc/tollgate/secrets/redis-password"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("configuration lacks %q:\n%s", want, cfg)
		}
	}
	if len(r.secrets) != 1 || r.secrets[0].StringData["token-ci.sha256"] != hash || r.secrets[0].StringData["redis-password"] != password {
		t.Fatalf("the Secret does not hold the hash and the password: %+v", r.secrets)
	}
	mounted := false
	for _, v := range r.deployments[0].Spec.Template.Spec.Volumes {
		if v.Secret != nil && v.Secret.SecretName == r.secrets[0].Name {
			mounted = true
		}
	}
	if !mounted {
		t.Error("the Secret is not mounted")
	}
	// The pods roll when a secret value changes, not only the configuration.
	other, err := decodeManifests(template(t, "minimal", "--set", "tokens[0].sha256="+strings.Repeat("ab", 32)))
	if err != nil {
		t.Fatal(err)
	}
	base := renderExample(t, "minimal")
	if other.deployments[0].Spec.Template.Annotations["checksum/secret"] == base.deployments[0].Spec.Template.Annotations["checksum/secret"] {
		t.Error("a new token hash does not change the pod template")
	}
}

// Values that would inline a secret, contradict the pod or weaken the
// hardening are refused at render time, saying what to do.
func TestChartRefusesUnsafeValues(t *testing.T) {
	cases := []struct {
		name string
		set  []string
		want string
	}{
		{"inline token hash", []string{"config.auth.tokens[0].name=x", "config.auth.tokens[0].sha256=" + strings.Repeat("a", 64)}, "config.auth.tokens would put token hashes in the ConfigMap"},
		{"inline redis password", []string{"config.cache.redis.password=p"}, "config.cache.redis.password would put the password in the ConfigMap"},
		{"listen in config", []string{"config.listen=0.0.0.0:1"}, "config.listen is set by the chart"},
		{"cpu limit", []string{"resources.limits.cpu=1"}, "no CPU limit"},
		{"no memory limit", []string{"resources.limits.memory=null"}, "resources.limits.memory is required"},
		{"grace shorter than the drain", []string{"terminationGracePeriodSeconds=10"}, "terminationGracePeriodSeconds must cover"},
		{"hash beside an existing secret", []string{"secrets.existingSecret=mine"}, "secrets.existingSecret holds the hashes"},
		{"token without hash", []string{"tokens[0].sha256="}, "needs sha256"},
		{"token name not a key", []string{"tokens[0].name=../x"}, "must be lowercase letters"},
		{"sidecar without loopback trust", []string{"oauth2Proxy.enabled=true", "oauth2Proxy.issuerURL=https://idp", "oauth2Proxy.existingSecret=o"}, "must trust the sidecar on loopback"},
		{"redis password missing", []string{"redisAuth.enabled=true"}, "redisAuth.password is required"},
	}
	for _, c := range cases {
		args := []string{"template", releaseName, chartDir, "-f", exampleFile("minimal")}
		for _, s := range c.set {
			args = append(args, "--set", s)
		}
		_, err := helm(t, args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: want a refusal saying %q, got %v", c.name, c.want, err)
		}
	}
}
