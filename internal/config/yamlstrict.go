package config

import (
	"reflect"

	"go.yaml.in/yaml/v3"

	"github.com/tollgate-dev/tollgate/internal/problem"
	"github.com/tollgate-dev/tollgate/internal/yamlcheck"
)

// checkKeys walks a YAML node against the Go type it will be decoded into and
// reports every key that the type does not know. yaml.v3's KnownFields stops
// at the first unknown key and names Go types; users need every mistake at
// once, with the key path and the keys that would have been accepted.
func checkKeys(n *yaml.Node, t reflect.Type, path string, ps *problem.List) {
	yamlcheck.Keys(n, yamlcheck.YAML, path, ps, t)
}

// position finds the line and column of a key path such as
// "tenancy.tenants[1].namespaces[0]", or of its nearest existing parent.
func position(root *yaml.Node, path string) (line, col int) {
	return yamlcheck.Position(root, path)
}
