package deploy

import (
	"bufio"
	"debug/buildinfo"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// testVersion is stamped into the binary the tests build the Dockerfile's way.
const testVersion = "v0.0.0-dockerfile-test"

var buildOnce struct {
	sync.Once
	path string
	out  string
	err  error
}

// TestMain removes the binary built for the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildOnce.path != "" {
		_ = os.RemoveAll(filepath.Dir(buildOnce.path))
	}
	os.Exit(code)
}

// dockerfileBuild returns the Dockerfile's build step: the RUN line that
// runs go build.
func dockerfileBuild(t *testing.T) string {
	t.Helper()
	var build []string
	for _, l := range dockerfileLines(t) {
		if strings.HasPrefix(l, "RUN ") && strings.Contains(l, "go build") {
			build = append(build, strings.TrimPrefix(l, "RUN "))
		}
	}
	if len(build) != 1 {
		t.Fatalf("the Dockerfile has %d go build steps, want 1: %q", len(build), build)
	}
	return build[0]
}

// dockerfileLines returns the Dockerfile's instructions, continuation
// lines joined, comments dropped.
func dockerfileLines(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	cur := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "#") || (l == "" && cur == "") {
			continue
		}
		if strings.HasSuffix(l, "\\") {
			cur += strings.TrimSuffix(l, "\\") + " "
			continue
		}
		lines = append(lines, cur+l)
		cur = ""
	}
	return lines
}

// tollgateBinary builds bin/tollgate once per test run by running the
// Dockerfile's own build step in a shell, as `docker build` does, with
// VERSION and OUT (its build arguments) set.
func tollgateBinary(t *testing.T) string {
	t.Helper()
	step := dockerfileBuild(t)
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tollgate-dockerfile-build-")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "tollgate")
		cmd := exec.Command("sh", "-c", step)
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "VERSION="+testVersion, "OUT="+dir)
		out, err := cmd.CombinedOutput()
		buildOnce.out, buildOnce.err = string(out), err
	})
	if buildOnce.err != nil {
		t.Fatalf("the Dockerfile's build step %q: %v\n%s", step, buildOnce.err, buildOnce.out)
	}
	return buildOnce.path
}

// The binary the Dockerfile's build step produces runs on distroless
// static: no program interpreter, no dynamic section, no shared
// libraries; cgo off, paths trimmed, and the version stamped.
func TestDockerfileBuildIsStaticAndStamped(t *testing.T) {
	bin := tollgateBinary(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("program header %v: the binary is dynamically linked", p.Type)
		}
	}
	if f.Section(".dynamic") != nil || f.Section(".interp") != nil {
		t.Error("the binary has a .dynamic or .interp section")
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("the binary imports shared libraries %v (%v)", libs, err)
	}
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if settings["CGO_ENABLED"] != "0" || settings["-trimpath"] != "true" {
		t.Errorf("build settings CGO_ENABLED=%q -trimpath=%q, want 0 and true", settings["CGO_ENABLED"], settings["-trimpath"])
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), testVersion) {
		t.Errorf("tollgate version printed %q (%v), want the stamped %s", out, err, testVersion)
	}
}

// The image: a distroless static non-root runtime holding only the gateway,
// the OCI labels, and the Go of go.mod.
func TestDockerfileImage(t *testing.T) {
	lines := dockerfileLines(t)
	var froms, copies []string
	labels := map[string]bool{}
	user, goVersion := "", ""
	labelRe := regexp.MustCompile(`(org\.opencontainers\.image\.[a-z]+)=`)
	for _, l := range lines {
		switch fields := strings.Fields(l); fields[0] {
		case "FROM":
			froms = append(froms, fields[1])
		case "COPY":
			if strings.HasPrefix(fields[1], "--from=") {
				copies = append(copies, l)
			}
		case "LABEL":
			for _, m := range labelRe.FindAllStringSubmatch(l, -1) {
				labels[m[1]] = true
			}
		case "USER":
			user = fields[1]
		case "ARG":
			if v, ok := strings.CutPrefix(fields[1], "GO_VERSION="); ok {
				goVersion = v
			}
		}
	}
	if len(froms) < 2 || !strings.HasPrefix(froms[len(froms)-1], "gcr.io/distroless/static") || !strings.HasSuffix(froms[len(froms)-1], ":nonroot") {
		t.Errorf("stages %v: the runtime must be a distroless static nonroot image after a build stage", froms)
	}
	if len(copies) != 1 || !strings.Contains(copies[0], "/tollgate ") {
		t.Errorf("the runtime image copies %q; want the gateway binary alone", copies)
	}
	for _, l := range []string{"source", "version", "licenses"} {
		if !labels["org.opencontainers.image."+l] {
			t.Errorf("no OCI label org.opencontainers.image.%s", l)
		}
	}
	if user == "" || strings.HasPrefix(user, "0") || strings.HasPrefix(user, "root") {
		t.Errorf("USER %q: the image must run as non-root", user)
	}
	mod, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	if m == nil || string(m[1]) != goVersion {
		t.Errorf("Dockerfile GO_VERSION %q, go.mod says go %s", goVersion, m)
	}
}
