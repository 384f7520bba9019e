package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	slothk8s "github.com/slok/sloth/pkg/kubernetes/api/sloth/v1"
	slothv1 "github.com/slok/sloth/pkg/prometheus/api/v1"
	"go.yaml.in/yaml/v3"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/tollgate-dev/tollgate/internal/problem"
	"github.com/tollgate-dev/tollgate/internal/yamlcheck"
	"github.com/tollgate-dev/tollgate/promenforce"
)

// Load reads SLO specs from files and directory trees. A directory is read
// recursively in lexical order, *.yaml and *.yml files only, skipping
// entries whose names start with a dot. It returns what loaded, every
// problem found (warnings included), in input order and by line within a
// file, and a non-nil error when there is at least one error.
func Load(paths ...string) (*Set, problem.List, error) {
	if len(paths) == 0 {
		return nil, nil, errors.New("no spec files given")
	}
	var files []string
	for _, p := range paths {
		found, err := specFiles(p)
		if err != nil {
			return nil, nil, err
		}
		files = append(files, found...)
	}
	set := &Set{}
	var ps problem.List
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, fmt.Errorf("reading SLO spec: %w", err)
		}
		docs, fps := Parse(f, data)
		set.Documents = append(set.Documents, docs...)
		ps = append(ps, fps...)
	}
	ps = append(ps, set.CheckIDs()...)
	sortProblems(ps, files)
	return set, ps, ps.Err()
}

// sortProblems orders problems by file, in input order, then by line.
func sortProblems(ps problem.List, files []string) {
	order := map[string]int{}
	for i, f := range files {
		order[f] = i
	}
	key := func(p problem.Problem) (int, int, int) {
		file, line, col := splitPos(p.Pos)
		return order[file], line, col
	}
	sort.SliceStable(ps, func(i, j int) bool {
		fi, li, ci := key(ps[i])
		fj, lj, cj := key(ps[j])
		if fi != fj {
			return fi < fj
		}
		if li != lj {
			return li < lj
		}
		return ci < cj
	})
}

// splitPos splits "file:line:col" (or "file:line").
func splitPos(pos string) (file string, line, col int) {
	rest := pos
	var nums []int
	for range 2 {
		i := strings.LastIndexByte(rest, ':')
		if i < 0 {
			break
		}
		n, err := strconv.Atoi(rest[i+1:])
		if err != nil {
			break
		}
		nums = append([]int{n}, nums...)
		rest = rest[:i]
	}
	switch len(nums) {
	case 2:
		return rest, nums[0], nums[1]
	case 1:
		return rest, nums[0], 0
	}
	return pos, 0, 0
}

// specFiles lists the spec files under a path.
func specFiles(path string) ([]string, error) {
	out, err := yamlcheck.Files(path, "SLO specs")
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("SLO spec directory %s has no .yaml or .yml files", path)
	}
	return out, err
}

// CheckIDs reports SLO IDs defined more than once across the set: their
// rules would share series and break each other's ratios.
func (s *Set) CheckIDs() problem.List {
	var ps problem.List
	first := map[string]*SLO{}
	for _, slo := range s.SLOs() {
		if prev, ok := first[slo.ID]; ok {
			ps = append(ps, problem.Problem{
				Pos:  slo.Pos,
				Path: slo.Path + ".name (SLO " + slo.ID + ")",
				Msg:  "SLO ID " + slo.ID + " is already defined at " + prev.Pos,
				Fix:  "rename one of the SLOs or services; an ID is <service>-<slo name> and must be unique across every spec generated together",
			})
			continue
		}
		first[slo.ID] = slo
	}
	return ps
}

// Parse reads the documents of one file; name is used in positions. Empty
// documents are skipped.
func Parse(name string, data []byte) ([]*Document, problem.List) {
	var docs []*Document
	var ps problem.List
	p := promenforce.New().Parser()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var root yaml.Node
		err := dec.Decode(&root)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			ps = append(ps, yamlProblem(name, 0, err, "fix the YAML syntax"))
			break // the decoder cannot resynchronise after a syntax error
		}
		if len(root.Content) == 0 || root.Content[0].Tag == "!!null" {
			continue
		}
		c := &docCtx{file: name, root: &root, parser: p}
		// A document with errors is kept, so that its SLO IDs take part
		// in the duplicate check; the set is not generated from anyway.
		if doc := c.document(); doc != nil {
			docs = append(docs, doc)
		}
		ps = append(ps, c.finish()...)
	}
	return docs, ps
}

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// yamlProblem turns a yaml.v3 error into problems at their lines.
func yamlProblem(file string, fallbackLine int, err error, fix string) problem.Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := fallbackLine
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	}
	return problem.Problem{Pos: fmt.Sprintf("%s:%d", file, line), Line: line, Path: "(document)", Msg: msg, Fix: fix}
}

// docCtx collects one document's problems; positions are resolved from key
// paths when the document is done.
type docCtx struct {
	file   string
	root   *yaml.Node
	parser parser.Parser
	keys   Keys
	prefix string // "" or "spec."
	ps     problem.List
	// ids holds the SLO ID of each problem, by index, for messages.
	ids map[int]string
}

func (c *docCtx) add(path, id, msg, fix string) {
	c.addProblem(problem.Problem{Path: path, Msg: msg, Fix: fix, Severity: problem.SeverityError}, id)
}

func (c *docCtx) warn(path, id, msg, fix string) {
	c.addProblem(problem.Problem{Path: path, Msg: msg, Fix: fix, Severity: problem.SeverityWarning}, id)
}

func (c *docCtx) addProblem(p problem.Problem, id string) {
	if id != "" {
		if c.ids == nil {
			c.ids = map[int]string{}
		}
		c.ids[len(c.ps)] = id
	}
	c.ps = append(c.ps, p)
}

// finish resolves positions, names the SLO of each problem and sorts them
// by line.
func (c *docCtx) finish() problem.List {
	for i := range c.ps {
		p := &c.ps[i]
		if p.Pos == "" {
			p.Line, p.Col = yamlcheck.Position(c.root, p.Path)
			p.Pos = fmt.Sprintf("%s:%d:%d", c.file, p.Line, p.Col)
		}
		if id, ok := c.ids[i]; ok {
			p.Path += " (SLO " + id + ")"
		}
	}
	sort.SliceStable(c.ps, func(i, j int) bool {
		if c.ps[i].Line != c.ps[j].Line {
			return c.ps[i].Line < c.ps[j].Line
		}
		return c.ps[i].Col < c.ps[j].Col
	})
	return c.ps
}

// topScalar returns the value of a top-level scalar key.
func topScalar(root *yaml.Node, key string) string {
	n := root.Content[0]
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key && n.Content[i+1].Kind == yaml.ScalarNode {
			return n.Content[i+1].Value
		}
	}
	return ""
}

// document identifies, checks and decodes one document.
func (c *docCtx) document() *Document {
	top := c.root.Content[0]
	if top.Kind != yaml.MappingNode {
		c.add("", "", "is not a mapping", "an SLO spec starts with `version: prometheus/v1` or `apiVersion: sloth.slok.dev/v1`")
		return nil
	}
	version, apiVersion, kind := topScalar(c.root, "version"), topScalar(c.root, "apiVersion"), topScalar(c.root, "kind")
	switch {
	case version == slothv1.Version:
		return c.prometheusV1()
	case apiVersion == "sloth.slok.dev/v1" && kind == "PrometheusServiceLevel":
		c.keys, c.prefix = Keys{Kubernetes: true}, "spec."
		return c.kubernetes()
	case kind == "AlertWindows":
		c.add("kind", "", "is an AlertWindows document, not an SLO spec", "pass alert windows with --windows, and SLO specs as arguments")
	case strings.HasPrefix(apiVersion, "openslo/"):
		c.add("apiVersion", "", "OpenSLO documents are not supported", "write the SLO as a Sloth prometheus/v1 spec; an OpenSLO ratioMetric is an events SLI")
	case version != "":
		c.add("version", "", fmt.Sprintf("unsupported spec version %q", version), `use version: "prometheus/v1"`)
	case apiVersion != "" || kind != "":
		c.add("kind", "", fmt.Sprintf("%s %s is not an SLO spec", apiVersion, kind), "SLO manifests are apiVersion: sloth.slok.dev/v1, kind: PrometheusServiceLevel")
	case topScalar(c.root, "groups") != "" || hasKey(top, "groups"):
		c.add("groups", "", "is a Prometheus rule file, not an SLO spec", "keep generated rules out of the spec directories")
	default:
		c.add("", "", "is not an SLO spec", `start it with version: "prometheus/v1" (Sloth spec) or apiVersion: sloth.slok.dev/v1 and kind: PrometheusServiceLevel`)
	}
	return nil
}

func hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

// prometheusV1 decodes a `version: prometheus/v1` document.
func (c *docCtx) prometheusV1() *Document {
	yamlcheck.Keys(c.root, yamlcheck.YAML, "", &c.ps, reflect.TypeFor[v1Spec](), reflect.TypeFor[extSpec]())
	var v v1Spec
	var x extSpec
	for _, into := range []any{&v, &x} {
		if err := c.root.Decode(into); err != nil {
			c.decodeError(err)
			return nil
		}
	}
	s := v.sloth()
	doc := &Document{File: c.file, Line: c.root.Content[0].Line, Format: FormatPrometheus, Service: s.Service}
	c.service(doc, s.Labels, s.SLOPlugins, s.SLOs, x.SLOs)
	return doc
}

// kubernetes decodes a PrometheusServiceLevel. Kubernetes types carry JSON
// tags, so the document goes through JSON as the API server would read it;
// yamlcheck has already reported, with lines, what JSON would refuse.
func (c *docCtx) kubernetes() *Document {
	yamlcheck.Keys(c.root, yamlcheck.JSON, "", &c.ps, reflect.TypeFor[slothk8s.PrometheusServiceLevel](), reflect.TypeFor[extManifest]())
	if len(c.ps.Errors()) > 0 {
		return nil
	}
	var generic any
	if err := c.root.Decode(&generic); err != nil {
		c.decodeError(err)
		return nil
	}
	data, err := json.Marshal(generic)
	if err != nil {
		c.add("", "", "cannot be read as JSON: "+err.Error(), "use string keys only")
		return nil
	}
	var m slothk8s.PrometheusServiceLevel
	var x extManifest
	for _, into := range []any{&m, &x} {
		if err := json.Unmarshal(data, into); err != nil {
			c.add("", "", "cannot be decoded: "+err.Error(), "check the types of the values")
			return nil
		}
	}
	doc := &Document{
		File: c.file, Line: c.root.Content[0].Line, Format: FormatKubernetes, Service: m.Spec.Service,
		Name: m.Name, Namespace: m.Namespace, Labels: m.Labels, Annotations: m.Annotations,
	}
	slos := make([]slothv1.SLO, len(m.Spec.SLOs))
	for i, k := range m.Spec.SLOs {
		slos[i] = fromKubernetes(k)
	}
	c.service(doc, m.Spec.Labels, pluginsFromKubernetes(m.Spec.SLOPlugins), slos, x.Spec.SLOs)
	return doc
}

// pluginsFromKubernetes converts the CRD's plugin chain, which has the
// prometheus/v1 shape.
func pluginsFromKubernetes(k *slothk8s.SLOPlugins) slothv1.SLOPlugins {
	if k == nil {
		return slothv1.SLOPlugins{}
	}
	out := slothv1.SLOPlugins{OverridePrevious: k.OverridePrevious}
	for _, p := range k.Chain {
		out.Chain = append(out.Chain, slothv1.SLOPlugin(p))
	}
	return out
}

// fromKubernetes converts the CRD's SLO, field for field, into the
// prometheus/v1 type, which has the same shape.
func fromKubernetes(k slothk8s.SLO) slothv1.SLO {
	s := slothv1.SLO{
		Name: k.Name, Description: k.Description, Objective: k.Objective, Labels: k.Labels, Plugins: pluginsFromKubernetes(k.Plugins),
		Alerting: slothv1.Alerting{
			Name: k.Alerting.Name, Labels: k.Alerting.Labels, Annotations: k.Alerting.Annotations,
			PageAlert:   slothv1.Alert{Disable: k.Alerting.PageAlert.Disable, Labels: k.Alerting.PageAlert.Labels, Annotations: k.Alerting.PageAlert.Annotations},
			TicketAlert: slothv1.Alert{Disable: k.Alerting.TicketAlert.Disable, Labels: k.Alerting.TicketAlert.Labels, Annotations: k.Alerting.TicketAlert.Annotations},
		},
	}
	if k.SLI.Events != nil {
		s.SLI.Events = &slothv1.SLIEvents{ErrorQuery: k.SLI.Events.ErrorQuery, TotalQuery: k.SLI.Events.TotalQuery}
	}
	if k.SLI.Raw != nil {
		s.SLI.Raw = &slothv1.SLIRaw{ErrorRatioQuery: k.SLI.Raw.ErrorRatioQuery}
	}
	if k.SLI.Plugin != nil {
		s.SLI.Plugin = &slothv1.SLIPlugin{ID: k.SLI.Plugin.ID, Options: k.SLI.Plugin.Options}
	}
	return s
}

// decodeError reports a yaml.v3 decoding error, one problem per line it
// names.
func (c *docCtx) decodeError(err error) {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		for _, e := range te.Errors {
			c.ps = append(c.ps, yamlProblem(c.file, c.root.Content[0].Line, errors.New(e), typeFix))
		}
		return
	}
	c.ps = append(c.ps, yamlProblem(c.file, c.root.Content[0].Line, err, typeFix))
}

const typeFix = "write numbers unquoted (objective: 99.9) and text as text"
