package spec

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	slothv1 "github.com/slok/sloth/pkg/prometheus/api/v1"
)

// The YAML mirror of Sloth's prometheus/v1 types has exactly Sloth's keys,
// at every level: a key Sloth reads that the mirror lacked would be refused
// as unknown, and one Sloth does not read would be accepted and ignored.
func TestV1MirrorHasSlothsKeys(t *testing.T) {
	compareKeys(t, "", reflect.TypeFor[v1Spec](), reflect.TypeFor[slothv1.Spec]())
}

func compareKeys(t *testing.T, path string, mirror, sloth reflect.Type) {
	t.Helper()
	mirror, sloth = elem(mirror), elem(sloth)
	if mirror.Kind() != reflect.Struct || sloth.Kind() != reflect.Struct {
		if mirror.Kind() == reflect.Interface && sloth.String() == "json.RawMessage" {
			return // a plugin's configuration, handed on as JSON
		}
		if mirror.Kind() != sloth.Kind() {
			t.Errorf("%s: the mirror has a %s, Sloth a %s", path, mirror, sloth)
		}
		return
	}
	m, s := keys(mirror, "yaml"), keys(sloth, "json")
	if !slices.Equal(slices.Sorted(maps.Keys(m)), slices.Sorted(maps.Keys(s))) {
		t.Errorf("%s: the mirror has keys %v, Sloth %v", path, slices.Sorted(maps.Keys(m)), slices.Sorted(maps.Keys(s)))
		return
	}
	for k, mt := range m {
		compareKeys(t, path+"."+k, mt, s[k])
	}
}

func elem(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8 {
		t = t.Elem()
	}
	return t
}

func keys(t reflect.Type, tag string) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get(tag), ",")
		out[name] = f.Type
	}
	return out
}
