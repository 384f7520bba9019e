package demo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// LokiEnv names the environment variable that points the demo at a Loki
// server binary of the user's choice.
const LokiEnv = "TOLLGATE_LOKI"

// lokiRepoPath is where `make loki` (and `make deps`, `make demo`) build
// Loki, relative to the repository root.
const lokiRepoPath = ".cache/bin/loki"

// ErrLokiNotFound means that no Loki binary was found where FindLoki looks.
// The demo then runs without logs.
var ErrLokiNotFound = errors.New("the Loki server is not built: run `make loki` (or `make deps`, `make demo`), which builds Loki into .cache/bin/loki, or set " + LokiEnv)

// LokiLookup is what FindLoki consults, given explicitly so that the lookup
// does not depend on the state of the process running it.
type LokiLookup struct {
	// Getenv reads LokiEnv; nil reads nothing.
	Getenv func(string) string
	// Workdir and Executable are the working directory and the path of
	// the running binary; either may be empty. From each, FindLoki walks up
	// to the enclosing Go module (the directory with go.mod) and looks for
	// .cache/bin/loki there: that finds the repository's copy whether the
	// demo is run from anywhere in the checkout or as bin/tollgate from
	// elsewhere.
	Workdir    string
	Executable string
}

// FindLoki returns the Loki server binary: $TOLLGATE_LOKI if set, else the
// repository's .cache/bin/loki. It deliberately does not search PATH:
// Debian's "loki" package is an unrelated genetics tool.
//
// It returns ErrLokiNotFound when there is none, and another error when
// TOLLGATE_LOKI names something that is not an executable file, since a
// path the user set by hand should not be ignored silently.
func FindLoki(l LokiLookup) (string, error) {
	if l.Getenv != nil {
		if p := l.Getenv(LokiEnv); p != "" {
			if err := checkExecutable(p); err != nil {
				return "", fmt.Errorf("%s=%s: %w", LokiEnv, p, err)
			}
			return p, nil
		}
	}
	var starts []string
	if l.Workdir != "" {
		starts = append(starts, l.Workdir)
	}
	if l.Executable != "" {
		starts = append(starts, filepath.Dir(l.Executable))
	}
	for _, start := range starts {
		root, ok := moduleRoot(start)
		if !ok {
			continue
		}
		p := filepath.Join(root, filepath.FromSlash(lokiRepoPath))
		if checkExecutable(p) == nil {
			return p, nil
		}
	}
	return "", ErrLokiNotFound
}

// moduleRoot returns the nearest directory at or above dir holding a go.mod.
func moduleRoot(dir string) (string, bool) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	for {
		if fi, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && fi.Mode().IsRegular() {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

func checkExecutable(p string) error {
	fi, err := os.Stat(p)
	switch {
	case err != nil:
		return err
	case !fi.Mode().IsRegular():
		return errors.New("not a regular file")
	case runtime.GOOS != "windows" && fi.Mode().Perm()&0o111 == 0:
		return errors.New("not executable")
	}
	return nil
}
