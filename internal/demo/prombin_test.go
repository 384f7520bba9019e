package demo_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/demo"
)

func TestFindPrometheus(t *testing.T) {
	root := fakeRepo(t)
	inRepo := filepath.Join(root, "bin", demo.PrometheusBinaryName)
	writeFile(t, inRepo, "#!/bin/sh\n", 0o755)
	installed := t.TempDir()
	beside := filepath.Join(installed, demo.PrometheusBinaryName)
	writeFile(t, beside, "#!/bin/sh\n", 0o755)
	onPath := filepath.Join(t.TempDir(), demo.PrometheusBinaryName)
	writeFile(t, onPath, "#!/bin/sh\n", 0o755)
	mine := filepath.Join(t.TempDir(), "my-prometheus")
	writeFile(t, mine, "#!/bin/sh\n", 0o755)
	lookPath := func(name string) (string, error) {
		if name != demo.PrometheusBinaryName {
			t.Errorf("PATH searched for %q", name)
		}
		return onPath, nil
	}
	elsewhere := t.TempDir()

	for _, c := range []struct {
		name   string
		lookup demo.PrometheusLookup
		want   string
	}{
		{"bin/tollgate of the checkout", demo.PrometheusLookup{Executable: filepath.Join(root, "bin", "tollgate"), Workdir: elsewhere}, inRepo},
		{"an installed tollgate, beside it", demo.PrometheusLookup{Executable: filepath.Join(installed, "tollgate"), Workdir: root, LookPath: lookPath}, beside},
		{"go run from a subdirectory of the checkout", demo.PrometheusLookup{Executable: filepath.Join(t.TempDir(), "tollgate"), Workdir: filepath.Join(root, "internal", "demo")}, inRepo},
		{"on PATH", demo.PrometheusLookup{Executable: filepath.Join(elsewhere, "tollgate"), Workdir: elsewhere, LookPath: lookPath}, onPath},
		{"TOLLGATE_DEMO_PROMETHEUS first", demo.PrometheusLookup{Getenv: env(map[string]string{demo.PrometheusEnv: mine}), Executable: filepath.Join(root, "bin", "tollgate"), LookPath: lookPath}, mine},
		{"empty TOLLGATE_DEMO_PROMETHEUS is unset", demo.PrometheusLookup{Getenv: env(map[string]string{demo.PrometheusEnv: ""}), Workdir: root}, inRepo},
	} {
		got, err := demo.FindPrometheus(c.lookup)
		if err != nil || got != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.name, got, err, c.want)
		}
	}
}

func TestFindPrometheusNotFound(t *testing.T) {
	root := fakeRepo(t)
	notOnPath := func(string) (string, error) { return "", os.ErrNotExist }
	for name, l := range map[string]demo.PrometheusLookup{
		"nothing to look in": {},
		"not built":          {Workdir: root, Executable: filepath.Join(root, "bin", "tollgate"), LookPath: notOnPath},
		"outside a module":   {Workdir: t.TempDir(), LookPath: notOnPath},
	} {
		if got, err := demo.FindPrometheus(l); !errors.Is(err, demo.ErrPrometheusNotFound) {
			t.Errorf("%s: got %q, %v; want ErrPrometheusNotFound", name, got, err)
		}
	}
	// A file that cannot be run is not the demo's Prometheus.
	writeFile(t, filepath.Join(root, "bin", demo.PrometheusBinaryName), "", 0o644)
	if got, err := demo.FindPrometheus(demo.PrometheusLookup{Workdir: root}); !errors.Is(err, demo.ErrPrometheusNotFound) {
		t.Errorf("non-executable bin/%s: got %q, %v; want ErrPrometheusNotFound", demo.PrometheusBinaryName, got, err)
	}
	if !strings.Contains(demo.ErrPrometheusNotFound.Error(), "make demo") || !strings.Contains(demo.ErrPrometheusNotFound.Error(), demo.PrometheusEnv) {
		t.Errorf("ErrPrometheusNotFound does not say how to build the demo's Prometheus: %v", demo.ErrPrometheusNotFound)
	}
}

func TestFindPrometheusBadEnv(t *testing.T) {
	root := fakeRepo(t)
	writeFile(t, filepath.Join(root, "bin", demo.PrometheusBinaryName), "#!/bin/sh\n", 0o755)
	for _, p := range []string{filepath.Join(root, "missing"), root} {
		_, err := demo.FindPrometheus(demo.PrometheusLookup{Getenv: env(map[string]string{demo.PrometheusEnv: p}), Workdir: root})
		if err == nil || errors.Is(err, demo.ErrPrometheusNotFound) || !strings.Contains(err.Error(), demo.PrometheusEnv+"="+p) {
			t.Errorf("%s=%s: got %v, want an error naming it", demo.PrometheusEnv, p, err)
		}
	}
}
