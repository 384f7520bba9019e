package cost

import (
	"errors"
	"net/url"
	"reflect"
	"strconv"
	"testing"
)

// A Request filled in by a command or the page is the same Query as the
// API's parameters with the same values.
func TestRequestIsTheAPIsQuery(t *testing.T) {
	for _, r := range []Request{
		{Window: "7d"},
		{Window: "24h", Resolution: "15m", Step: "1h", Aggregate: "namespace,label:app", Accumulate: true, IncludeIdle: true},
		{Window: "lastmonth", Step: "1d", Aggregate: "cost_center", ShareIdle: true, ShareNamespaces: "true", ShareSplit: "even"},
		{Window: "2026-11-01T00:00:00Z,2026-11-08T00:00:00Z", IdleByNode: true, ShareNamespaces: "kube-system, monitoring", Filter: `namespace:"a"`},
	} {
		v := url.Values{"window": {r.Window}, "resolution": {r.Resolution}, "step": {r.Step}, "aggregate": {r.Aggregate},
			"accumulate": {strconv.FormatBool(r.Accumulate)}, "includeIdle": {strconv.FormatBool(r.IncludeIdle)},
			"shareIdle": {strconv.FormatBool(r.ShareIdle)}, "idleByNode": {strconv.FormatBool(r.IdleByNode)},
			"shareNamespaces": {r.ShareNamespaces}, "shareSplit": {r.ShareSplit}, "filter": {r.Filter}}
		want, err := ParseQuery(v, now)
		if err != nil {
			t.Fatalf("%+v: %v", r, err)
		}
		got, err := r.Query(now)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%+v:\n got %+v %v\nwant %+v", r, got, err, want)
		}
	}
}

// With several bad parameters, the one named is the first in the order
// window, resolution, step, aggregate, the booleans, shareNamespaces,
// shareSplit, filter: the same refusal whatever else is wrong.
func TestParseQueryNamesTheFirstBadParameter(t *testing.T) {
	for params, want := range map[string]string{
		"window=fortnight&accumulate=maybe&shareSplit=fair":       "window",
		"window=7d&step=90m&aggregate=colour&accumulate=maybe":    "step",
		"window=7d&aggregate=colour&accumulate=maybe":             "aggregate",
		"window=7d&shareIdle=maybe&accumulate=perhaps":            "accumulate",
		"window=7d&idleByNode=maybe&shareNamespaces=A_B":          "idleByNode",
		"window=7d&shareNamespaces=A_B&shareSplit=fair":           "shareNamespaces",
		"window=7d&shareSplit=fair&filter=namespace:a":            "shareSplit",
		"window=7d&shareNamespaces=true&filter=namespace:a":       "filter",
		"resolution=17m&accumulate=maybe&shareSplit=fair&step=1h": "window",
	} {
		v, _ := url.ParseQuery(params)
		_, err := ParseQuery(v, now)
		var pe *ParamError
		if !errors.As(err, &pe) || pe.Param != want {
			t.Errorf("%s: %v, want the refusal of %s", params, err, want)
		}
	}
}

// The exported defaults are copies: changing one changes nothing else.
func TestExportedListsAreCopies(t *testing.T) {
	Params()[0] = "x"
	ShareConfigured()[0] = "x"
	if Params()[0] != "window" || ShareConfigured()[0] != "*configured*" {
		t.Error("a caller changed a package-level list")
	}
}
