package logql

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/prometheus/util/strutil"
)

// The rules in this file are those by which Loki v3.7 refuses a query that
// its grammar accepts. Each is checked where the parser builds the node,
// so that what Tollgate forwards, Loki accepts.

func unquote(text string) (string, error) { return strutil.Unquote(text) }

// checkMatcherRegexp checks the value of =~ and !~ as Prometheus's
// labels.NewMatcher, which Loki uses, parses it.
func checkMatcherRegexp(v string) error {
	if literalAlternatives(v) {
		return nil // as in Prometheus, which does not parse these
	}
	_, err := syntax.Parse(v, syntax.Perl|syntax.DotNL)
	return err
}

// literalAlternatives reports whether v is literal text, or literal texts
// joined by |: valid whatever they are.
func literalAlternatives(v string) bool {
	for _, part := range strings.Split(v, "|") {
		if regexp.QuoteMeta(part) != part {
			return false
		}
	}
	return true
}

// checkRegexp checks a regular expression as Go's regexp.Compile parses
// it.
func checkRegexp(v string) error {
	_, err := syntax.Parse(v, syntax.Perl)
	return err
}

// checkRegexpParser checks the expression of | regexp: it compiles, and
// has at least one named capture group, each name once.
func checkRegexpParser(v string) error {
	re, err := regexp.Compile(v)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, name := range re.SubexpNames() {
		if name == "" {
			continue
		}
		if seen[name] {
			return fmt.Errorf("duplicate extracted label name '%s'", name)
		}
		seen[name] = true
	}
	if len(seen) == 0 {
		return errors.New("at least one named capture must be supplied")
	}
	return nil
}

// checkPattern checks the expression of | pattern: captures are <name>
// (an ASCII letter or _, then letters, digits or _), everything else is
// literal text; there is at least one named capture (<_> is not one),
// never two captures in a row, and each name once.
func checkPattern(v string) error {
	if v == "" || !utf8.ValidString(v) {
		return errors.New("invalid expression")
	}
	seen := map[string]bool{}
	lastWasCapture := false
	for i := 0; i < len(v); {
		name, n := patternCapture(v[i:])
		if n == 0 {
			lastWasCapture = false
			i++
			continue
		}
		if lastWasCapture {
			return errors.New("found consecutive captures: invalid expression")
		}
		lastWasCapture = true
		if name != "_" {
			if seen[name] {
				return fmt.Errorf("duplicate capture name (%s): invalid expression", name)
			}
			seen[name] = true
		}
		i += n
	}
	if len(seen) == 0 {
		return errors.New("at least one capture is required")
	}
	return nil
}

// patternCapture returns the capture <name> at the start of s and its
// length, or 0.
func patternCapture(s string) (string, int) {
	if len(s) < 3 || s[0] != '<' {
		return "", 0
	}
	isLetter := func(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' || c == '_' }
	if !isLetter(s[1]) {
		return "", 0
	}
	for i := 2; i < len(s); i++ {
		switch c := s[i]; {
		case c == '>':
			return s[1:i], i + 1
		case !isLetter(c) && !isDecimal(c):
			return "", 0
		}
	}
	return "", 0
}

// checkRangeAggregation applies Loki's rules on parameters, grouping and
// unwrap; it returns the reason a range aggregation is refused, or "".
func checkRangeAggregation(a *RangeAggregation) string {
	switch {
	case a.Param != nil && a.Op != "quantile_over_time":
		return fmt.Sprintf("parameter %s not supported for operation %s", a.Param.Text, a.Op)
	case a.Param == nil && a.Op == "quantile_over_time":
		return "parameter required for operation " + a.Op
	case a.Param != nil:
		if _, err := strconv.ParseFloat(a.Param.Text, 64); err != nil {
			return fmt.Sprintf("invalid parameter for operation %s: %v", a.Op, err)
		}
	}
	if a.Grouping != nil {
		switch a.Op {
		case "avg_over_time", "stddev_over_time", "stdvar_over_time", "quantile_over_time",
			"max_over_time", "min_over_time", "first_over_time", "last_over_time":
		default:
			return fmt.Sprintf("grouping not allowed for %s aggregation", a.Op)
		}
	}
	if a.Range.Unwrap != nil {
		switch a.Op {
		case "avg_over_time", "sum_over_time", "max_over_time", "min_over_time", "stddev_over_time",
			"stdvar_over_time", "quantile_over_time", "rate", "rate_counter", "absent_over_time",
			"first_over_time", "last_over_time":
			return ""
		}
		return fmt.Sprintf("invalid aggregation %s with unwrap", a.Op)
	}
	switch a.Op {
	case "bytes_over_time", "bytes_rate", "count_over_time", "rate", "absent_over_time":
		return ""
	}
	return fmt.Sprintf("invalid aggregation %s without unwrap; add | unwrap <label> before the range", a.Op)
}

// checkVectorAggregation applies Loki's rules on parameters and grouping.
func checkVectorAggregation(a *VectorAggregation) string {
	switch a.Op {
	case "topk", "bottomk", "approx_topk":
		if a.Param == nil {
			return "parameter required for operation " + a.Op
		}
		k, err := strconv.Atoi(a.Param.Text)
		switch {
		case err != nil:
			return fmt.Sprintf("invalid parameter %s(%s,: an integer is needed", a.Op, a.Param.Text)
		case k <= 0:
			return fmt.Sprintf("invalid parameter (must be greater than 0) %s(%s", a.Op, a.Param.Text)
		case a.Op == "approx_topk" && a.Grouping != nil:
			return "grouping not allowed for approx_topk aggregation"
		}
	default:
		if a.Param != nil {
			return fmt.Sprintf("unsupported parameter for operation %s(%s,", a.Op, a.Param.Text)
		}
	}
	if (a.Op == "sort" || a.Op == "sort_desc") && a.Grouping != nil && len(a.Grouping.Labels) > 0 {
		return a.Op + " does not allow grouping by labels"
	}
	return ""
}

// parseBytes reads a byte size as Loki does (go-humanize's ParseBytes on
// the runes Loki's lexer collects): a decimal number and a unit among B,
// kB, KB, KiB, k, Ki and their M, G, T, P kin, in any case.
func parseBytes(s string) (uint64, bool) {
	i := 0
	for i < len(s) && (isDecimal(s[i]) || s[i] == '.') {
		i++
	}
	f, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0, false
	}
	var mult float64
	switch strings.ToLower(s[i:]) {
	case "b":
		mult = 1
	case "k", "kb":
		mult = 1e3
	case "ki", "kib":
		mult = 1 << 10
	case "m", "mb":
		mult = 1e6
	case "mi", "mib":
		mult = 1 << 20
	case "g", "gb":
		mult = 1e9
	case "gi", "gib":
		mult = 1 << 30
	case "t", "tb":
		mult = 1e12
	case "ti", "tib":
		mult = 1 << 40
	case "p", "pb":
		mult = 1e15
	case "pi", "pib":
		mult = 1 << 50
	default:
		return 0, false
	}
	f *= mult
	if f >= math.MaxUint64 {
		return 0, false
	}
	return uint64(f), true
}
