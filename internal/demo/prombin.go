package demo

import (
	"errors"
	"fmt"
	"path/filepath"
)

// PrometheusEnv names the environment variable that points the demo at a
// demo Prometheus binary of the user's choice.
const PrometheusEnv = "TOLLGATE_DEMO_PROMETHEUS"

// PrometheusBinaryName is the demo Prometheus' executable, built from
// cmd/tollgate-demo-prometheus.
const PrometheusBinaryName = "tollgate-demo-prometheus"

// ErrPrometheusNotFound means that FindPrometheus found no demo Prometheus.
// Unlike Loki, the demo cannot run without it.
var ErrPrometheusNotFound = errors.New("the demo's Prometheus is not built: run `make demo`, which builds bin/" + PrometheusBinaryName +
	" next to bin/tollgate, or `go build -o bin/ ./cmd/" + PrometheusBinaryName + "`, or set " + PrometheusEnv)

// PrometheusLookup is what FindPrometheus consults, given explicitly so that
// the lookup does not depend on the state of the process running it.
type PrometheusLookup struct {
	// Getenv reads PrometheusEnv; nil reads nothing.
	Getenv func(string) string
	// Executable is the path of the running binary: the demo Prometheus is
	// looked for next to it, as `make demo` puts them both in bin/.
	Executable string
	// Workdir is the working directory: from it, FindPrometheus walks up to
	// the enclosing Go module and looks in its bin/, which finds the
	// repository's copy under `go run ./cmd/tollgate demo` too.
	Workdir string
	// LookPath searches PATH (exec.LookPath); nil searches nothing.
	LookPath func(string) (string, error)
}

// FindPrometheus returns the demo Prometheus binary: $TOLLGATE_DEMO_PROMETHEUS
// if set, else tollgate-demo-prometheus next to the running binary, in the
// enclosing checkout's bin/, or on PATH, in that order.
//
// It returns ErrPrometheusNotFound when there is none, and another error
// when TOLLGATE_DEMO_PROMETHEUS names something that is not an executable
// file.
func FindPrometheus(l PrometheusLookup) (string, error) {
	if l.Getenv != nil {
		if p := l.Getenv(PrometheusEnv); p != "" {
			if err := checkExecutable(p); err != nil {
				return "", fmt.Errorf("%s=%s: %w", PrometheusEnv, p, err)
			}
			return p, nil
		}
	}
	var candidates []string
	if l.Executable != "" {
		candidates = append(candidates, filepath.Join(filepath.Dir(l.Executable), PrometheusBinaryName))
	}
	if l.Workdir != "" {
		if root, ok := moduleRoot(l.Workdir); ok {
			candidates = append(candidates, filepath.Join(root, "bin", PrometheusBinaryName))
		}
	}
	for _, p := range candidates {
		if checkExecutable(p) == nil {
			return p, nil
		}
	}
	if l.LookPath != nil {
		if p, err := l.LookPath(PrometheusBinaryName); err == nil {
			return p, nil
		}
	}
	return "", ErrPrometheusNotFound
}
