package yamlcheck_test

import (
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/tollgate-dev/tollgate/internal/problem"
	"github.com/tollgate-dev/tollgate/internal/yamlcheck"
)

type base struct {
	Name  string            `yaml:"name" json:"name"`
	Items []item            `yaml:"items" json:"items"`
	Tags  map[string]string `yaml:"tags" json:"tags"`
}

type item struct {
	Count int `yaml:"count" json:"count"`
}

// ext adds keys to base's document, as Tollgate's additions do to Sloth's
// spec types.
type ext struct {
	Items []struct {
		Extra bool `yaml:"extra" json:"extraFlag"`
	} `yaml:"items" json:"items"`
}

func check(t *testing.T, tag yamlcheck.Tag, doc string) (problem.List, *yaml.Node) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
		t.Fatal(err)
	}
	var ps problem.List
	yamlcheck.Keys(&n, tag, "", &ps, reflect.TypeFor[base](), reflect.TypeFor[ext]())
	return ps, &n
}

func TestKeysAcceptsAnyTypesKeys(t *testing.T) {
	ps, _ := check(t, yamlcheck.YAML, "name: a\nitems:\n  - count: 1\n    extra: true\ntags: {anything: x}\n")
	if len(ps) != 0 {
		t.Errorf("valid document: %v", ps)
	}
}

func TestKeysReportsEveryUnknownKeyAtItsLine(t *testing.T) {
	ps, root := check(t, yamlcheck.YAML, "name: a\nitems:\n  - count: 1\n    cuont: 2\nnmae: b\n")
	if len(ps) != 2 {
		t.Fatalf("want 2 problems, got %v", ps)
	}
	for i, want := range []struct {
		path, suggestion string
		line             int
	}{{"items[0].cuont", `did you mean "count"?`, 4}, {"nmae", `did you mean "name"?`, 5}} {
		p := ps[i]
		if p.Path != want.path || !strings.Contains(p.Fix, want.suggestion) {
			t.Errorf("problem %d: %s %s, want %s with %s", i, p.Path, p.Fix, want.path, want.suggestion)
		}
		if line, _ := yamlcheck.Position(root, p.Path); line != want.line {
			t.Errorf("%s at line %d, want %d", p.Path, line, want.line)
		}
	}
}

// JSON-decoded documents have no lines in their decoding errors, so kinds
// are checked up front.
func TestKeysChecksScalarsForJSON(t *testing.T) {
	ps, _ := check(t, yamlcheck.JSON, "name: 2\nitems:\n  - count: many\n    extraFlag: yes please\ntags: {a: 1}\n")
	got := map[string]bool{}
	for _, p := range ps {
		got[p.Path] = true
	}
	for _, want := range []string{"name", "items[0].count", "items[0].extraFlag", "tags.a"} {
		if !got[want] {
			t.Errorf("no problem for %s: %v", want, ps)
		}
	}
	if ps, _ := check(t, yamlcheck.YAML, "name: 2\n"); len(ps) != 0 {
		t.Errorf("yaml.v3 decodes numbers into strings; got %v", ps)
	}
}

func TestPositionOfMissingKeyIsItsParent(t *testing.T) {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte("a:\n  b:\n    c: 1\n"), &n); err != nil {
		t.Fatal(err)
	}
	if line, col := yamlcheck.Position(&n, "a.b.missing"); line != 2 || col != 3 {
		t.Errorf("position %d:%d, want 2:3", line, col)
	}
}
