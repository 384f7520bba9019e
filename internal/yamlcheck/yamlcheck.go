// Package yamlcheck checks a YAML document against the Go types it will be
// decoded into, before decoding: every unknown key (with the keys that would
// have been accepted and a "did you mean"), and every value of the wrong
// kind, each with its key path. Position turns such a path back into a line
// and column. The configuration loader and the SLO spec loader share it, so
// that both report every mistake at once, at its line.
package yamlcheck

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tollgate-dev/tollgate/internal/problem"
)

// Tag names the struct tag that spells the keys: "yaml" for types decoded
// with yaml.v3, "json" for Kubernetes API types, which are decoded from JSON.
type Tag string

const (
	YAML Tag = "yaml"
	JSON Tag = "json"
)

// Keys walks n against the Go types it will be decoded into and reports
// every key that none of them knows, under path. Several types describe one
// document when it is decoded more than once (Sloth's spec types and
// Tollgate's additions to them): a key is known if any of them has it.
//
// With the JSON tag it also reports scalars that encoding/json would refuse
// (a YAML number where a string is expected, say): yaml.v3 reports those
// itself, with their line, but JSON decoding has no lines to give.
func Keys(n *yaml.Node, tag Tag, path string, ps *problem.List, types ...reflect.Type) {
	if n == nil {
		return
	}
	if n.Kind == yaml.DocumentNode {
		for _, c := range n.Content {
			Keys(c, tag, path, ps, types...)
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		return // anchors are checked where they are defined
	}
	ts := make([]reflect.Type, 0, len(types))
	for _, t := range types {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if opaque(t, tag) {
			return // the type decodes (and validates) itself
		}
		ts = append(ts, t)
	}
	if len(ts) == 0 {
		return
	}
	switch ts[0].Kind() {
	case reflect.Struct, reflect.Map:
		if n.Kind != yaml.MappingNode {
			kindMismatch(n, tag, path, "a mapping of keys to values", ps)
			return
		}
		mapping(n, tag, path, ps, ts)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			kindMismatch(n, tag, path, "a list", ps)
			return
		}
		elems := make([]reflect.Type, len(ts))
		for i, t := range ts {
			elems[i] = t.Elem()
		}
		for i, c := range n.Content {
			Keys(c, tag, path+"["+strconv.Itoa(i)+"]", ps, elems...)
		}
	default:
		scalar(n, tag, path, ts[0], ps)
	}
}

// mapping checks the keys of a mapping node against struct and map types.
func mapping(n *yaml.Node, tag Tag, path string, ps *problem.List, ts []reflect.Type) {
	fields := map[string][]reflect.Type{}
	var elems []reflect.Type // map types accept every key
	for _, t := range ts {
		switch t.Kind() {
		case reflect.Struct:
			for k, ft := range structFields(t, tag) {
				fields[k] = append(fields[k], ft)
			}
		case reflect.Map:
			elems = append(elems, t.Elem())
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "<<" {
			continue // merge keys
		}
		if len(elems) > 0 {
			Keys(v, tag, Join(path, k.Value), ps, elems...)
			continue
		}
		fts, ok := fields[k.Value]
		if !ok {
			names := slices.Sorted(func(yield func(string) bool) {
				for name := range fields {
					if !yield(name) {
						return
					}
				}
			})
			ps.Add(Join(path, k.Value), "unknown key", "valid keys here are: "+strings.Join(names, ", ")+suggest(k.Value, names))
			continue
		}
		Keys(v, tag, Join(path, k.Value), ps, fts...)
	}
}

// scalar checks what JSON decoding would refuse; yaml.v3 reports the same
// mistakes itself when it decodes.
func scalar(n *yaml.Node, tag Tag, path string, t reflect.Type, ps *problem.List) {
	if tag != JSON {
		return
	}
	if n.Kind != yaml.ScalarNode {
		kindMismatch(n, tag, path, "a single value", ps)
		return
	}
	if n.Tag == "!!null" {
		return
	}
	switch t.Kind() {
	case reflect.String:
		if n.Tag != "!!str" {
			ps.Add(path, fmt.Sprintf("%s is not a string", n.Value), fmt.Sprintf("quote it: %q", n.Value))
		}
	case reflect.Bool:
		if n.Tag != "!!bool" {
			ps.Add(path, fmt.Sprintf("%q is not true or false", n.Value), "write true or false, unquoted")
		}
	case reflect.Float32, reflect.Float64, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n.Tag != "!!int" && n.Tag != "!!float" {
			ps.Add(path, fmt.Sprintf("%q is not a number", n.Value), "write a number, unquoted")
		}
	}
}

func kindMismatch(n *yaml.Node, tag Tag, path, want string, ps *problem.List) {
	// yaml.v3 reports mismatches itself, with their line, when it decodes;
	// only JSON-decoded documents need them reported here. A null is an
	// absent value for both decoders.
	if tag != JSON || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return
	}
	ps.Add(path, "is not "+want, "see the documentation of this key")
}

var (
	yamlUnmarshaler         = reflect.TypeFor[yaml.Unmarshaler]()
	obsoleteYAMLUnmarshaler = reflect.TypeFor[interface {
		UnmarshalYAML(func(any) error) error
	}]()
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
)

// opaque reports whether t decodes itself (or accepts anything), so that
// its keys and kinds are not this package's business.
func opaque(t reflect.Type, tag Tag) bool {
	if t.Kind() == reflect.Interface {
		return true
	}
	p := reflect.PointerTo(t)
	if tag == JSON {
		return p.Implements(jsonUnmarshaler)
	}
	return p.Implements(yamlUnmarshaler) || p.Implements(obsoleteYAMLUnmarshaler)
}

// structFields maps the keys of a struct type to their field types, with
// inline (and, for JSON, embedded) structs flattened as the decoders do.
func structFields(t reflect.Type, tag Tag) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get(string(tag)), ",")
		if name == "-" {
			continue
		}
		inline := strings.Contains(opts, "inline") || (tag == JSON && f.Anonymous && name == "")
		if inline {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			for k, v := range structFields(ft, tag) {
				out[k] = v
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
			if tag == YAML {
				name = strings.ToLower(name)
			}
		}
		out[name] = f.Type
	}
	return out
}

// suggest names the closest valid key when the unknown one looks like a typo.
func suggest(key string, names []string) string {
	best, bestD := "", 3
	for _, k := range names {
		if d := editDistance(strings.ToLower(key), strings.ToLower(k)); d < bestD || (d == bestD && k < best) {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Join appends a key to a key path.
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Position finds the line and column of a key path such as
// "tenancy.tenants[1].namespaces[0]". When the exact key is absent (a missing
// required key) it returns the position of the nearest existing parent, which
// is where the user has to add it.
func Position(root *yaml.Node, path string) (line, col int) {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line, col = n.Line, n.Column
	for _, seg := range splitPath(path) {
		next, keyNode := child(n, seg)
		if next == nil {
			return line, col
		}
		if keyNode != nil {
			line, col = keyNode.Line, keyNode.Column
		} else {
			line, col = next.Line, next.Column
		}
		n = next
	}
	return line, col
}

// splitPath turns "a.b[2].c" into ["a", "b", "[2]", "c"].
func splitPath(path string) []string {
	var segs []string
	for _, part := range strings.Split(path, ".") {
		for part != "" {
			i := strings.IndexByte(part, '[')
			switch {
			case i < 0:
				segs = append(segs, part)
				part = ""
			case i > 0:
				segs = append(segs, part[:i])
				part = part[i:]
			default:
				j := strings.IndexByte(part, ']')
				if j < 0 {
					segs = append(segs, part)
					part = ""
					continue
				}
				segs = append(segs, part[:j+1])
				part = part[j+1:]
			}
		}
	}
	return segs
}

func child(n *yaml.Node, seg string) (value, key *yaml.Node) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if strings.HasPrefix(seg, "[") {
		idx, err := strconv.Atoi(strings.Trim(seg, "[]"))
		if err != nil || n.Kind != yaml.SequenceNode || idx < 0 || idx >= len(n.Content) {
			return nil, nil
		}
		return n.Content[idx], nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == seg {
			return n.Content[i+1], n.Content[i]
		}
	}
	return nil, nil
}
