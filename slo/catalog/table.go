package catalog

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/tollgate-dev/tollgate/slo/spec"
)

// WriteTable lists the catalogue's SLOs, as loaded (Load), in a table for
// people: ID, objective, the seed table's row and target, the SLI, the
// metrics it reads and the exporter of those metrics.
func WriteTable(w io.Writer, docs []*spec.Document) error {
	rows := map[string]Entry{}
	for _, e := range Entries() {
		rows[e.ID()] = e
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SLO ID\tOBJECTIVE\tTARGET (SEED TABLE)\tSLI\tMETRICS\tEXPORTER")
	for _, d := range docs {
		for _, s := range d.SLOs {
			e := rows[s.ID]
			fmt.Fprintf(tw, "%s\t%s%%\t%s: %s\t%s\t%s\t%s\n", s.ID, spec.FormatFloat(s.Objective), e.Row, e.Target, sliSummary(s), sliMetrics(s), firstClause(e.Exporter))
		}
	}
	return tw.Flush()
}

func sliSummary(s *spec.SLO) string {
	switch {
	case s.SLI.Latency != nil:
		return "latency <= " + spec.FormatFloat(s.SLI.Latency.Threshold) + "s"
	case s.SLI.Ratio != nil:
		return "ratio"
	}
	return s.SLI.Kind()
}

func sliMetrics(s *spec.SLO) string {
	switch {
	case s.SLI.Latency != nil:
		return s.SLI.Latency.Metric + s.SLI.Latency.Selector
	case s.SLI.Ratio != nil:
		return s.SLI.Ratio.Errors + " / " + s.SLI.Ratio.Total
	}
	return ""
}

// firstClause shortens an exporter's description to its name.
func firstClause(s string) string {
	if i := strings.IndexAny(s, "(;:"); i > 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}
