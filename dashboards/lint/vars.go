package lint

import (
	"maps"
	"regexp"
	"strings"
)

// variableRE is Grafana's own variable syntax (templateSrv's variableRegex):
// $name, [[name]] or [[name:format]], ${name}, ${name.field} or
// ${name:format}.
var variableRE = regexp.MustCompile(`\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^\}]+))?(?::([^\}]+))?\}`)

// varName returns the name of a variable reference matched by variableRE.
func varName(m []string) string {
	for _, i := range []int{1, 2, 4} {
		if m[i] != "" {
			return m[i]
		}
	}
	return ""
}

// Expand substitutes Grafana variables in s with vars' values, as Grafana
// does before sending a query. A reference to a variable vars lacks is
// left as written, as Grafana leaves it: "${1}" in label_replace stays.
// Format specifiers (${x:regex}) are ignored: the values are used as given.
func Expand(s string, vars map[string]string) string {
	return variableRE.ReplaceAllStringFunc(s, func(ref string) string {
		if v, ok := vars[varName(variableRE.FindStringSubmatch(ref))]; ok {
			return v
		}
		return ref
	})
}

// References returns the names of the variables s refers to, in order,
// without Grafana's built-ins (names starting with "__") and numbered
// capture groups ("$1" in label_replace).
func References(s string) []string {
	var out []string
	for _, m := range variableRE.FindAllStringSubmatch(s, -1) {
		n := varName(m)
		if n == "" || strings.HasPrefix(n, "__") || n[0] >= '0' && n[0] <= '9' {
			continue
		}
		out = append(out, n)
	}
	return out
}

// Builtins returns values for Grafana's built-in variables that stand for
// an hour-long range at a one-minute interval. Callers may override them.
func Builtins() map[string]string {
	return maps.Clone(builtins)
}

var builtins = map[string]string{
	"__interval":         "1m",
	"__interval_ms":      "60000",
	"__rate_interval":    "4m",
	"__rate_interval_ms": "240000",
	"__range":            "1h",
	"__range_s":          "3600",
	"__range_ms":         "3600000",
	"__auto":             "1m",
	"__from":             "1700000000000",
	"__to":               "1700003600000",
}
