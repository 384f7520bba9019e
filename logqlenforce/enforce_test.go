package logqlenforce

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

var (
	one  = labels.MustNewMatcher(labels.MatchEqual, "namespace", "team-a")
	many = labels.MustNewMatcher(labels.MatchRegexp, "namespace", "team-a|team-b-.*")
)

type queryCase struct{ name, in, want string }

func runQueryCases(t *testing.T, cases []queryCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Query(tc.in, one)
			if err != nil {
				t.Fatalf("Query(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("Query(%q)\n got %s\nwant %s", tc.in, got, tc.want)
			}
		})
	}
}

// Expected outputs are the input as written, with the tenant matcher last
// in every selector: Tollgate's printer keeps every token, and spaces
// tokens its own way. They were checked by hand against the input.
func TestQueryCoversEveryNodeType(t *testing.T) {
	runQueryCases(t, []queryCase{
		// LogExpr: a selector, and a pipeline with every stage kind, left
		// exactly as written
		{"selector", `{app="api"}`, `{app="api", namespace="team-a"}`},
		{"line filters", `{app="api"} |= "err" != "debug" |~ "5.." or "timeout"`, `{app="api", namespace="team-a"} |= "err" != "debug" |~ "5.." or "timeout"`},
		{"pattern filter", `{app="api"} |> "<_> error <_>"`, `{app="api", namespace="team-a"} |> "<_> error <_>"`},
		{"parsers", `{app="api"} | json | logfmt | unpack`, `{app="api", namespace="team-a"} | json | logfmt | unpack`},
		{"parser with expressions", `{app="api"} | json status="response.code" | logfmt --strict level`, `{app="api", namespace="team-a"} | json status="response.code" | logfmt --strict level`},
		{"regexp and pattern parsers", `{app="api"} | regexp "(?P<method>\\w+)" | pattern "<_> <path>"`, `{app="api", namespace="team-a"} | regexp "(?P<method>\\w+)" | pattern "<_> <path>"`},
		{"label filter", `{app="api"} | logfmt | level="error" or status >= 500`, `{app="api", namespace="team-a"} | logfmt | level="error" or status >= 500`},
		{"formats", `{app="api"} | line_format "{{.msg}}" | label_format svc="{{.app}}"`, `{app="api", namespace="team-a"} | line_format "{{.msg}}" | label_format svc="{{.app}}"`},
		{"drop keep decolorize", `{app="api"} | decolorize | drop pod | keep app, level`, `{app="api", namespace="team-a"} | decolorize | drop pod | keep app, level`},
		// RangeAggregation and LogRange
		{"rate", `rate({app="api"}[5m])`, `rate({app="api", namespace="team-a"}[5m])`},
		{"offset", `count_over_time({app="api"}[5m] offset 1h)`, `count_over_time({app="api", namespace="team-a"}[5m] offset 1h)`},
		{"unwrap", `quantile_over_time(0.99, {app="api"} | json | unwrap latency [5m]) by (pod)`, `quantile_over_time(0.99, {app="api", namespace="team-a"} | json | unwrap latency [5m]) by (pod)`},
		{"range written first", `sum_over_time({app="api"}[5m] | json | unwrap x)`, `sum_over_time({app="api", namespace="team-a"} | json | unwrap x [5m])`},
		// VectorAggregation
		{"sum by", `sum by (level) (count_over_time({app="api"} | logfmt [5m]))`, `sum by (level) (count_over_time({app="api", namespace="team-a"} | logfmt [5m]))`},
		{"topk", `topk(2, sum by (a) (rate({app="api"}[1m])))`, `topk(2, sum by (a) (rate({app="api", namespace="team-a"}[1m])))`},
		// BinaryExpr and ParenExpr
		{"ratio", `sum(rate({app="api"} |= "error" [1m])) / sum(rate({app="web"}[1m]))`, `sum(rate({app="api", namespace="team-a"} |= "error" [1m])) / sum(rate({app="web", namespace="team-a"}[1m]))`},
		{"bool comparison", `sum(rate({app="api"}[1m])) > bool 1`, `sum(rate({app="api", namespace="team-a"}[1m])) > bool 1`},
		{"parentheses", `(sum(rate({app="api"}[1m])) + 1) * 2`, `(sum(rate({app="api", namespace="team-a"}[1m])) + 1) * 2`},
		// LabelReplace
		{"label_replace onto the enforced label", `label_replace(rate({app="api"}[1m]), "namespace", "victim", "", "")`, `label_replace(rate({app="api", namespace="team-a"}[1m]), "namespace", "victim", "", "")`},
		// Literal, VectorExpr: nothing to confine
		{"vector", `vector(1)`, `vector(1)`},
		{"literal", `1 + 1`, `1 + 1`},
		// Variants: the range and every variant
		{"variants", `variants(count_over_time({app="api"}[1m]), bytes_over_time({app="api"}[1m])) of ({app="api"}[1m])`,
			`variants(count_over_time({app="api", namespace="team-a"}[1m]), bytes_over_time({app="api", namespace="team-a"}[1m])) of ({app="api", namespace="team-a"}[1m])`},
	})
}

// Loki's printer, which Tollgate used to print every query with, rounded
// byte sizes and numbers and rewrote durations: what was sent to Loki was
// not what the user wrote. Tollgate's printer keeps each token.
func TestQueryKeepsTokensAsWritten(t *testing.T) {
	runQueryCases(t, []queryCase{
		{"byte size", `{app="api"} | logfmt | size >= 2.5KiB`, `{app="api", namespace="team-a"} | logfmt | size >= 2.5KiB`},
		{"small number", `vector(0.0000001)`, `vector(0.0000001)`},
		{"number in a filter", `{app="api"} | logfmt | ratio > 0.0000001`, `{app="api", namespace="team-a"} | logfmt | ratio > 0.0000001`},
		{"durations", `count_over_time({app="api"} | logfmt | took > 1.5s [90s] offset 1d)`, `count_over_time({app="api", namespace="team-a"} | logfmt | took > 1.5s [90s] offset 1d)`},
		{"strings", "{app=`raw\\d`} |= \"tab\\t\" | line_format `{{.msg}}`", "{app=`raw\\d`, namespace=\"team-a\"} |= \"tab\\t\" | line_format `{{.msg}}`"},
		{"constant arithmetic", `sum(rate({app="api"}[1m])) * (1 / 3)`, `sum(rate({app="api", namespace="team-a"}[1m])) * (1 / 3)`},
	})
}

// Bypass classes of docs/security.md that apply to LogQL.
func TestQueryBypassClasses(t *testing.T) {
	runQueryCases(t, []queryCase{
		// (c)1: the user's matcher on the enforced label stays, ours is ANDed
		{"equal victim", `{namespace="victim"}`, `{namespace="victim", namespace="team-a"}`},
		{"regex everything", `{namespace=~".+"}`, `{namespace=~".+", namespace="team-a"}`},
		{"not own", `{namespace!="team-a"}`, `{namespace!="team-a", namespace="team-a"}`},
		{"negative regex", `{namespace!~"team-a"}`, `{namespace!~"team-a", namespace="team-a"}`},
		// (c)3: a selector Loki would refuse as too broad becomes valid,
		// confined to the tenant
		{"empty-compatible selector", `{app=""}`, `{app="", namespace="team-a"}`},
		{"empty selector", `{}`, `{namespace="team-a"}`},
		// (c)12: pipeline stages that rewrite labels run after stream
		// selection; they are kept, and cannot widen the streams read
		{"label_format onto the enforced label", `{app="api"} | label_format namespace="victim"`, `{app="api", namespace="team-a"} | label_format namespace="victim"`},
		{"json extracting the enforced label", `{app="api"} | json namespace="ns" | namespace="victim"`, `{app="api", namespace="team-a"} | json namespace="ns" | namespace="victim"`},
		{"drop the enforced label", `sum by (namespace) (count_over_time({app="api"} | drop namespace [1m]))`, `sum by (namespace) (count_over_time({app="api", namespace="team-a"} | drop namespace [1m]))`},
		// strings and comments that look like selectors are not selectors
		{"selector in a line filter", `{app="api"} |= "{namespace=\"victim\"}"`, `{app="api", namespace="team-a"} |= "{namespace=\"victim\"}"`},
		{"selector in a comment", "{app=\"api\"} # {namespace=\"victim\"}\n|= \"x\"", `{app="api", namespace="team-a"} |= "x"`},
		// (c)14: another case is another label
		{"other case", `{Namespace="victim"}`, `{Namespace="victim", namespace="team-a"}`},
		// (c)4: deep nesting
		{"nested", `sum by (a) (rate({a="1"}[1m])) / on (a) group_left (b) sum by (a, b) (count_over_time({b="2"} | json [1m])) + vector(1)`,
			`sum by (a) (rate({a="1", namespace="team-a"}[1m])) / on (a) group_left (b) sum by (a, b) (count_over_time({b="2", namespace="team-a"} | json [1m])) + vector(1)`},
	})
}

func TestQuerySeveralNamespaces(t *testing.T) {
	got, err := Query(`{app="api"} | json`, many)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{app="api", namespace=~"team-a|team-b-.*"} | json`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestQueryInvalid(t *testing.T) {
	for _, q := range []string{``, `{`, `{app="api"`, `rate({app="api"})`, `sum(`, `{app=~"("}`, `up`, `{app="api"} | unknown_stage`} {
		if _, err := Query(q, one); !errors.Is(err, ErrInvalid) {
			t.Errorf("Query(%q) = %v, want ErrInvalid", q, err)
		}
	}
}

func TestSelector(t *testing.T) {
	for in, want := range map[string]string{
		`{app="api"}`:         `{app="api", namespace="team-a"}`,
		`{namespace="other"}`: `{namespace="other", namespace="team-a"}`,
		`{app=~".*"}`:         `{app=~".*", namespace="team-a"}`,
	} {
		got, err := Selector(in, one)
		if err != nil || got != want {
			t.Errorf("Selector(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`{app="api"} |= "x"`, `rate({a="b"}[1m])`, `app`, ``} {
		if _, err := Selector(bad, one); !errors.Is(err, ErrInvalid) {
			t.Errorf("Selector(%q): %v, want ErrInvalid", bad, err)
		}
	}
	if got := MatchAll(many); got != `{namespace=~"team-a|team-b-.*"}` {
		t.Errorf("MatchAll = %s", got)
	}
}

func TestRefusedErrorsMentionWhy(t *testing.T) {
	_, err := Query(`{app="api"`, one)
	if err == nil || !strings.Contains(err.Error(), "parse error") {
		t.Errorf("error %v does not carry Loki's parse error", err)
	}
}

// absent_over_time's answer takes its labels from the selector's equality
// matchers and drops every label that also has another matcher; through
// Tollgate they must be those of the tenant's own data.
func TestAbsentOverTimeKeepsItsLabels(t *testing.T) {
	single := labels.MustNewMatcher(labels.MatchEqual, "namespace", "team-a")
	for _, tc := range []struct{ in, want string }{
		{`absent_over_time({namespace="team-a", app="gone"}[5m])`, `absent_over_time({namespace="team-a", app="gone"}[5m])`},
		{`absent_over_time({app="gone"}[5m])`, `absent_over_time({app="gone", namespace=~"team-a"}[5m])`},
		{`absent_over_time({namespace="victim"}[5m])`, `absent_over_time({namespace="victim", namespace=~"team-a"}[5m])`},
		{`sum(absent_over_time({app="gone"} |= "x" [5m]))`, `sum(absent_over_time({app="gone", namespace=~"team-a"} |= "x" [5m]))`},
		{`count_over_time({app="a"}[5m])`, `count_over_time({app="a", namespace="team-a"}[5m])`},
	} {
		got, err := Query(tc.in, single)
		if err != nil || got != tc.want {
			t.Errorf("%s:\n got %s (%v)\nwant %s", tc.in, got, err, tc.want)
		}
	}
}
