package lokiproxy

import (
	"net/http"
	"strings"

	"github.com/grafana/loki/pkg/push"
	"github.com/prometheus/prometheus/model/labels"
)

// checkNames refuses a stream whose label names or structured metadata
// names are not plain identifiers, [a-zA-Z_][a-zA-Z0-9_]*, or are reserved
// with a leading "__".
//
// Loki v3.7.8 parses pushed labels with Prometheus 3's parser, which
// accepts quoted UTF-8 names such as {"k8s.namespace"="x"}, and stores the
// stream; every later query that returns it then fails with 500, for the
// tenant and for admins' multi-org queries alike, so one such push hides a
// tenant's logs from an investigation. Loki has no setting that makes its
// queries accept these names, so neither does Tollgate. Loki renames
// dotted structured metadata names (trace.id becomes trace_id) silently;
// they are refused too, so that what is stored is what was sent.
//
// Names with a leading "__" are Loki's own (__aggregated_metric__,
// __pattern__, __stream_shard__): Loki treats a stream that carries one as
// internal and skips validating it. Promtail and Alloy drop such labels
// before they push.
func checkNames(s *push.Stream, lbs labels.Labels) error {
	var bad string
	lbs.Range(func(l labels.Label) {
		if bad == "" && !plainName(l.Name) {
			bad = l.Name
		}
	})
	if bad != "" {
		return pushErr(http.StatusBadRequest, "push refused, nothing was written: stream %s has the label name %q; %s", s.Labels, bad, nameRule(bad))
	}
	for _, e := range s.Entries {
		for _, m := range e.StructuredMetadata {
			if !plainName(m.Name) {
				return pushErr(http.StatusBadRequest, "push refused, nothing was written: stream %s has an entry with the structured metadata name %q; %s", s.Labels, m.Name, nameRule(m.Name))
			}
		}
	}
	return nil
}

func nameRule(name string) string {
	if strings.HasPrefix(name, "__") {
		return `names beginning with "__" are reserved for Loki`
	}
	return "names must match [a-zA-Z_][a-zA-Z0-9_]* (Loki stores other names, but then cannot answer queries that return them); rename it, e.g. with '.' and '-' replaced by '_'"
}

// plainName reports whether name matches [a-zA-Z_][a-zA-Z0-9_]* and does
// not begin with "__".
func plainName(name string) bool {
	if name == "" || strings.HasPrefix(name, "__") {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
