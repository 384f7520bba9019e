package rules

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
)

// The rule writer emits YAML itself. Rule files have a fixed shape (groups
// of rules with a handful of keys), and yaml.v3's encoder allocates a
// quarter of a megabyte per document it encodes: as one document, 1,000
// SLOs took seconds, and most of the time of `tollgate slo generate` was
// spent there. Every scalar is written plain when YAML would read it back
// as the same string, as a literal block when it spans lines, and
// double-quoted otherwise; tests read every output back with yaml.v3.

// yamlOut builds YAML text.
type yamlOut struct {
	strings.Builder
}

// groups writes a list of rule groups, each line indented by indent.
// operator says that they go into a PrometheusRule.
func (y *yamlOut) groups(gs []Group, indent string, operator bool) {
	for _, g := range gs {
		y.WriteString(indent + "- name: " + scalar(g.Name, indent+"    ") + "\n")
		if g.Interval > 0 {
			y.WriteString(indent + "  interval: " + model.Duration(g.Interval).String() + "\n")
		}
		y.WriteString(indent + "  rules:\n")
		for _, r := range g.Rules {
			in := indent + "    "
			first := in + "- "
			if r.Record != "" {
				y.WriteString(first + "record: " + scalar(r.Record, in+"    ") + "\n")
			} else {
				y.WriteString(first + "alert: " + scalar(r.Alert, in+"    ") + "\n")
			}
			y.WriteString(in + "  expr: " + scalar(r.Expr, in+"    ") + "\n")
			if r.For > 0 && !(operator && r.operatorDropsFor) {
				y.WriteString(in + "  for: " + model.Duration(r.For).String() + "\n")
			}
			y.mapping("labels", r.Labels, in+"  ")
			y.mapping("annotations", r.Annotations, in+"  ")
		}
	}
}

// mapping writes a string map with sorted keys, or nothing when empty.
func (y *yamlOut) mapping(key string, m map[string]string, indent string) {
	if len(m) == 0 {
		return
	}
	y.WriteString(indent + key + ":\n")
	for _, k := range slices.Sorted(maps.Keys(m)) {
		y.WriteString(indent + "  " + scalar(k, indent+"    ") + ": " + scalar(m[k], indent+"    ") + "\n")
	}
}

var (
	// plainUnsafeStart are characters a plain scalar may not start with.
	plainUnsafeStart = "-?:,[]{}#&*!|>'\"%@` \t"
	// numberLike catches what a YAML 1.1 or 1.2 reader might take for a
	// number (decimal, hex, octal, binary, sexagesimal, with underscores).
	numberLike = regexp.MustCompile(`^[-+]?(\.[0-9]|[0-9])[0-9a-fA-FxXoObB_.eE:+-]*$`)
	// specialWords read as booleans or null in YAML 1.1 or 1.2.
	specialWords = map[string]bool{
		"": true, "~": true, "null": true, "true": true, "false": true, "yes": true, "no": true,
		"y": true, "n": true, "on": true, "off": true, ".inf": true, "-.inf": true, "+.inf": true, ".nan": true,
	}
)

// scalar writes a string value; indent is the indentation of a literal
// block's lines.
func scalar(s, indent string) string {
	if strings.Contains(s, "\n") && literalOK(s) {
		chomp := "-"
		switch {
		case strings.HasSuffix(s, "\n\n"):
			chomp = "+"
		case strings.HasSuffix(s, "\n"):
			chomp = ""
		}
		var b strings.Builder
		b.WriteString("|" + chomp)
		for _, line := range strings.SplitAfter(strings.TrimSuffix(s, "\n"), "\n") {
			line = strings.TrimSuffix(line, "\n")
			b.WriteByte('\n')
			if line != "" {
				b.WriteString(indent + line)
			}
		}
		return b.String()
	}
	if plainOK(s) {
		return s
	}
	return strconv.Quote(s)
}

// literalOK reports whether a multi-line string can be a literal block:
// printable, and not starting with a space (which would need an
// indentation indicator).
func literalOK(s string) bool {
	if strings.HasPrefix(s, " ") || strings.HasPrefix(s, "\n") {
		return false
	}
	for _, r := range s {
		if r == '\r' || (r < ' ' && r != '\n' && r != '\t') || r == 0x7f || r == 0xfeff || !strconv.IsPrint(r) && r != '\n' && r != '\t' {
			return false
		}
	}
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimRight(line, " \t") != line {
			return false // trailing blanks are invisible and easily lost
		}
	}
	return true
}

// plainOK reports whether YAML reads s back, unquoted, as the same string.
func plainOK(s string) bool {
	if specialWords[strings.ToLower(s)] || numberLike.MatchString(s) || strings.ContainsAny(s[:1], plainUnsafeStart) {
		return false
	}
	if strings.HasSuffix(s, " ") || strings.HasSuffix(s, ":") || strings.Contains(s, ": ") || strings.Contains(s, " #") {
		return false
	}
	for _, r := range s {
		if !strconv.IsPrint(r) || r == '\t' {
			return false
		}
	}
	return true
}
