package promenforce

import (
	"fmt"
	"maps"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
)

// Dialect is the PromQL a backend speaks. The parser is always the newest
// (the Prometheus version Tollgate is built with); a dialect changes only
// which functions it accepts, so that a query the backend would evaluate is
// not refused by Tollgate, and one it would not is refused with a reason.
type Dialect string

// Dialects (upstreams.prometheus_dialect).
const (
	// DialectPrometheus2 is Prometheus 2.x, which still has holt_winters
	// (renamed double_exponential_smoothing in 3.0).
	DialectPrometheus2 Dialect = "prometheus2"
	// DialectPrometheus3 is Prometheus 3.x, the parser's own dialect.
	DialectPrometheus3 Dialect = "prometheus3"
	// DialectThanos is Thanos Query, which parses with Prometheus 3's parser.
	DialectThanos Dialect = "thanos"
	// DialectMimir is the Mimir (or Cortex) query frontend, on Prometheus
	// 3's parser too.
	DialectMimir Dialect = "mimir"
)

// ParseDialect checks a configured dialect name. "auto" is not a dialect:
// the caller detects one from the backend's build information.
func ParseDialect(s string) (Dialect, error) {
	switch d := Dialect(s); d {
	case DialectPrometheus2, DialectPrometheus3, DialectThanos, DialectMimir:
		return d, nil
	}
	return "", fmt.Errorf("unknown PromQL dialect %q (want prometheus2, prometheus3, thanos or mimir)", s)
}

// holtWinters is Prometheus 2's name and signature of
// double_exponential_smoothing: holt_winters(range-vector, sf, tf).
func holtWinters() *parser.Function {
	return &parser.Function{
		Name:       "holt_winters",
		ArgTypes:   []parser.ValueType{parser.ValueTypeMatrix, parser.ValueTypeScalar, parser.ValueTypeScalar},
		ReturnType: parser.ValueTypeVector,
	}
}

// functions returns the function table of a dialect: a fresh map, so that
// the parser package's own table is never changed (several gateways with
// different dialects live in one process during a reload).
func (d Dialect) functions() map[string]*parser.Function {
	fs := maps.Clone(parser.Functions)
	if d == DialectPrometheus2 {
		fs["holt_winters"] = holtWinters()
	}
	return fs
}

// explain adds the dialect's reason to a parse error about a function the
// dialect does not have but another one does, so that a dashboard written
// for the other backend gets an answer it can act on.
func (d Dialect) explain(err error) error {
	if d != DialectPrometheus2 && strings.Contains(err.Error(), `unknown function with name "holt_winters"`) {
		return fmt.Errorf("%w (the backend speaks %s, where holt_winters is named double_exponential_smoothing; Prometheus 2.x backends serve holt_winters: see upstreams.prometheus_dialect)", err, d.name())
	}
	return err
}

func (d Dialect) name() string {
	if d == "" {
		return string(DialectPrometheus3)
	}
	return string(d)
}
