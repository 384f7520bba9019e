package cost

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/cost/allocation"
)

// Query is one allocation request, with OpenCost's parameter names.
type Query struct {
	Start, End time.Time
	// Resolution is the sampling step of the inputs (OpenCost's
	// `resolution`); Step the length of each returned set (0: the window).
	Resolution time.Duration
	Step       time.Duration
	Aggregate  []string
	Accumulate bool

	IncludeIdle, ShareIdle, IdleByNode bool
	// ShareNamespaces: nil for none; ShareConfigured() for the configured
	// cost.shared_namespaces; or an explicit list.
	ShareNamespaces []string
	ShareSplit      string
	Filter          Filter
}

// shareConfigured stands for "the configured shared namespaces".
var shareConfigured = []string{"*configured*"}

// ShareConfigured is the Query.ShareNamespaces that stands for the
// configured shared namespaces (shareNamespaces=true).
func ShareConfigured() []string { return slices.Clone(shareConfigured) }

// ParamError is a bad parameter; the API answers 400 with its message.
type ParamError struct {
	Param string
	Msg   string
}

func (e *ParamError) Error() string { return fmt.Sprintf("parameter %q: %s", e.Param, e.Msg) }

func badParam(p, format string, args ...any) error {
	return &ParamError{Param: p, Msg: fmt.Sprintf(format, args...)}
}

// params are the query parameters the API accepts.
var params = []string{"window", "resolution", "step", "aggregate", "accumulate", "includeIdle", "shareIdle", "idleByNode",
	"shareNamespaces", "shareSplit", "filter", "format"}

// Params returns the query parameters the API accepts.
func Params() []string { return slices.Clone(params) }

// MaxWindow bounds a request: a longer one is refused with 400.
const MaxWindow = 400 * 24 * time.Hour

// Request is an allocation request as its parameters are written, with
// OpenCost's names, before anything is checked: the API reads one from
// its query string (ParseQuery); `tollgate cost report` and the
// chargeback page fill one in. Query checks and resolves it.
type Request struct {
	// Window is required: today, yesterday, week, lastweek, month,
	// lastmonth, 30m, 24h, 7d, 2w, or start,end in RFC3339 or Unix seconds.
	Window string
	// Resolution and Step are durations (5m, 1h, 1d); "" for the default.
	Resolution, Step string
	// Aggregate is comma-separated properties; "" for one per container.
	Aggregate string

	Accumulate, IncludeIdle, ShareIdle, IdleByNode bool
	// ShareNamespaces is "", "false", "true" (the configured shared
	// namespaces) or a comma-separated list.
	ShareNamespaces string
	// ShareSplit is weighted (the default) or even.
	ShareSplit string
	// Filter is in OpenCost's filter syntax; "" for none.
	Filter string
}

// ParseQuery reads the parameters of /allocation. now anchors relative
// windows; times are UTC.
func ParseQuery(v url.Values, now time.Time) (Query, error) {
	r := Request{Window: v.Get("window"), Resolution: v.Get("resolution"), Step: v.Get("step"), Aggregate: v.Get("aggregate"),
		ShareNamespaces: v.Get("shareNamespaces"), ShareSplit: v.Get("shareSplit"), Filter: v.Get("filter")}
	var badBool error
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"accumulate", &r.Accumulate}, {"includeIdle", &r.IncludeIdle}, {"shareIdle", &r.ShareIdle}, {"idleByNode", &r.IdleByNode}} {
		var err error
		if *b.dst, err = boolParam(v, b.name); err != nil && badBool == nil {
			badBool = err
		}
	}
	return r.query(now, badBool)
}

// Query checks the request and resolves its window at now (UTC). A bad
// parameter is a *ParamError naming it.
func (r Request) Query(now time.Time) (Query, error) { return r.query(now, nil) }

// query checks the parameters in the order the API always has, so that
// a request with several bad ones hears about the same one; badBool is
// a boolean the query string did not spell as one.
func (r Request) query(now time.Time, badBool error) (Query, error) {
	q, err := r.span(now)
	if err != nil {
		return q, err
	}
	if q.Aggregate, err = allocation.ParseAggregate(r.Aggregate); err != nil {
		return q, badParam("aggregate", "%v", err)
	}
	if badBool != nil {
		return q, badBool
	}
	q.Accumulate, q.IncludeIdle, q.ShareIdle, q.IdleByNode = r.Accumulate, r.IncludeIdle, r.ShareIdle, r.IdleByNode
	if q.ShareNamespaces, err = r.shareNamespaces(); err != nil {
		return q, err
	}
	q.ShareSplit = r.ShareSplit
	if q.ShareSplit == "" {
		q.ShareSplit = allocation.SplitWeighted
	}
	if q.ShareSplit != allocation.SplitWeighted && q.ShareSplit != allocation.SplitEven {
		return q, badParam("shareSplit", "%q: use weighted or even", q.ShareSplit)
	}
	if q.Filter, err = ParseFilter(r.Filter); err != nil {
		return q, badParam("filter", "%v", err)
	}
	return q, nil
}

// span resolves the window, the resolution and the step.
func (r Request) span(now time.Time) (Query, error) {
	var q Query
	if r.Window == "" {
		return q, badParam("window", "is required: today, yesterday, week, lastweek, month, lastmonth, 24h, 7d, 2w, or start,end as RFC3339 or Unix seconds")
	}
	start, end, err := ParseWindow(r.Window, now)
	if err != nil {
		return q, badParam("window", "%v", err)
	}
	q.Start, q.End = start, end
	if q.Resolution, err = durationParam("resolution", r.Resolution); err != nil {
		return q, err
	}
	if q.Resolution == 0 {
		q.Resolution = time.Hour
		if end.Sub(start) <= 2*24*time.Hour {
			q.Resolution = 5 * time.Minute
		}
	}
	if q.Resolution < time.Minute || q.Resolution%time.Minute != 0 || (q.Resolution > 15*time.Minute && q.Resolution%(5*time.Minute) != 0) {
		return q, badParam("resolution", "%s: use whole minutes up to 15m, multiples of 5m above", q.Resolution)
	}
	// Align to the subquery grid so that every step counts its minutes.
	grid := time.Minute
	if q.Resolution > 15*time.Minute {
		grid = 5 * time.Minute
	}
	q.Start = q.Start.Truncate(grid)
	steps := q.End.Sub(q.Start) / q.Resolution
	q.End = q.Start.Add(steps * q.Resolution)
	if steps < 1 {
		return q, badParam("window", "%s to %s is shorter than one resolution step (%s)", start.Format(time.RFC3339), end.Format(time.RFC3339), q.Resolution)
	}
	if q.Step, err = durationParam("step", r.Step); err != nil {
		return q, err
	}
	if q.Step != 0 && (q.Step < q.Resolution || q.Step%q.Resolution != 0) {
		return q, badParam("step", "%s must be a multiple of the resolution (%s)", q.Step, q.Resolution)
	}
	if q.Step != 0 && int(q.End.Sub(q.Start)/q.Step) > 10_000 {
		return q, badParam("step", "%s makes more than 10000 sets in this window; use a longer step", q.Step)
	}
	return q, nil
}

// shareNamespaces reads shareNamespaces: nil, ShareConfigured(), or a list.
func (r Request) shareNamespaces() ([]string, error) {
	var out []string
	switch s := strings.TrimSpace(r.ShareNamespaces); s {
	case "", "false":
	case "true":
		out = ShareConfigured()
	default:
		for _, ns := range strings.Split(s, ",") {
			ns = strings.TrimSpace(ns)
			if !namespaceRE.MatchString(ns) {
				return nil, badParam("shareNamespaces", "%q is not a namespace; give true, false or a comma-separated list of namespaces", ns)
			}
			out = append(out, ns)
		}
	}
	return out, nil
}

var namespaceRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func durationParam(name, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := parseDuration(s)
	if err != nil || d <= 0 {
		return 0, badParam(name, "%q is not a duration; write it like 5m, 1h or 1d", s)
	}
	return d, nil
}

func boolParam(v url.Values, name string) (bool, error) {
	s := v.Get(name)
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, badParam(name, "%q: use true or false", s)
	}
	return b, nil
}

var relWindowRE = regexp.MustCompile(`^(\d+)([mhdw])$`)

// parseDuration reads Go durations plus d (day) and w (week).
func parseDuration(s string) (time.Duration, error) {
	if m := relWindowRE.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		switch m[2] {
		case "d":
			return time.Duration(n) * 24 * time.Hour, nil
		case "w":
			return time.Duration(n) * 7 * 24 * time.Hour, nil
		}
	}
	return time.ParseDuration(s)
}

// CheckFOCUS refuses a query whose sets would span two UTC months. FOCUS
// bills every row to one billing period, the month, and a row spanning two
// would be billed wholly to the first, which a FinOps tool reconciling
// months against invoices cannot undo.
func (q Query) CheckFOCUS() error {
	step := q.Step
	if step == 0 || q.Accumulate {
		step = q.End.Sub(q.Start)
	}
	month := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC) }
	for s := q.Start; s.Before(q.End); s = s.Add(step) {
		e := s.Add(step)
		if e.After(q.End) {
			e = q.End
		}
		if !month(e.Add(-time.Nanosecond)).Equal(month(s)) {
			param := "step"
			if q.Step == 0 || q.Accumulate {
				param = "window"
			}
			return badParam(param, "FOCUS rows each belong to one billing month, and the set %s to %s spans two; use step=1d (without accumulate) with a window starting at midnight, such as lastmonth, month or 7d, or a window within one month",
				s.UTC().Format(time.RFC3339), e.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// ParseWindow reads OpenCost's window syntax: today, yesterday, week (since
// Sunday), lastweek, month, lastmonth; Nm and Nh (ending now); Nd and Nw
// (whole days: today and the N-1 days before, as OpenCost aligns them to
// midnight); and start,end pairs in RFC3339 or Unix seconds. The end is
// never later than now.
func ParseWindow(s string, now time.Time) (start, end time.Time, err error) {
	now = now.UTC()
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	sunday := midnight.AddDate(0, 0, -int(midnight.Weekday()))
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	switch s {
	case "today":
		return midnight, now, nil
	case "yesterday":
		return midnight.AddDate(0, 0, -1), midnight, nil
	case "week":
		return sunday, now, nil
	case "lastweek":
		return sunday.AddDate(0, 0, -7), sunday, nil
	case "month":
		return first, now, nil
	case "lastmonth":
		return first.AddDate(0, -1, 0), first, nil
	}
	if m := relWindowRE.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		if n <= 0 {
			return start, end, fmt.Errorf("%q is empty", s)
		}
		switch m[2] {
		case "m":
			start, end = now.Add(-time.Duration(n)*time.Minute), now
		case "h":
			start, end = now.Add(-time.Duration(n)*time.Hour), now
		case "d":
			start, end = midnight.AddDate(0, 0, -(n-1)), now
		case "w":
			start, end = midnight.AddDate(0, 0, -(7*n-1)), now
		}
		return checkWindow(start, end, now)
	}
	a, b, ok := strings.Cut(s, ",")
	if !ok {
		return start, end, fmt.Errorf("%q is not a window: use today, yesterday, week, lastweek, month, lastmonth, 30m, 24h, 7d, 2w, or start,end", s)
	}
	if start, err = parseTime(strings.TrimSpace(a)); err == nil {
		end, err = parseTime(strings.TrimSpace(b))
	}
	if err != nil {
		return start, end, err
	}
	if end.After(now) {
		end = now
	}
	return checkWindow(start, end, now)
}

func checkWindow(start, end, now time.Time) (time.Time, time.Time, error) {
	switch {
	case !end.After(start):
		return start, end, fmt.Errorf("the window %s to %s is empty (the end is at most now, %s)", start.Format(time.RFC3339), end.Format(time.RFC3339), now.Format(time.RFC3339))
	case end.Sub(start) > MaxWindow:
		return start, end, fmt.Errorf("the window is longer than %d days", int(MaxWindow.Hours()/24))
	}
	return start, end, nil
}

func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither RFC3339 (2026-11-01T00:00:00Z) nor Unix seconds", s)
}

// Filter is a conjunction of clauses in OpenCost's filter syntax (v2),
// the subset Tollgate reads: field:"a","b" (one of) and field!:"a" (none
// of), joined by +. Fields are the aggregation properties, and
// label[name].
type Filter []filterClause

type filterClause struct {
	prop   string
	negate bool
	values []string
}

var clauseRE = regexp.MustCompile(`^\s*([A-Za-z_]+(?:\[[^\]]+\])?)\s*(!?:)\s*(.+?)\s*$`)

// ParseFilter reads a filter expression; "" is no filter.
func ParseFilter(s string) (Filter, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var f Filter
	for _, part := range strings.Split(s, "+") {
		m := clauseRE.FindStringSubmatch(part)
		if m == nil {
			return nil, fmt.Errorf("%q is not a clause; write it like namespace:\"a\",\"b\" or label[team]!:\"x\"", part)
		}
		field := m[1]
		if name, ok := strings.CutPrefix(field, "label["); ok {
			field = "label:" + allocation.SanitizeLabel(strings.TrimSuffix(name, "]"))
		} else {
			props, err := allocation.ParseAggregate(field)
			if err != nil {
				return nil, fmt.Errorf("cannot filter by %q", field)
			}
			field = props[0]
		}
		c := filterClause{prop: field, negate: m[2] == "!:"}
		for _, v := range strings.Split(m[3], ",") {
			v = strings.TrimSpace(v)
			uq, err := strconv.Unquote(v)
			if err != nil || !strings.HasPrefix(v, `"`) {
				return nil, fmt.Errorf("value %s of %s is not a double-quoted string", v, m[1])
			}
			c.values = append(c.values, uq)
		}
		f = append(f, c)
	}
	return f, nil
}

// Match reports whether a container passes the filter.
func (f Filter) Match(meta allocation.Metadata, c allocation.Container) bool {
	for _, cl := range f {
		if slices.Contains(cl.values, meta.Value(c, cl.prop)) == cl.negate {
			return false
		}
	}
	return true
}

// ErrForbidden marks a request the caller may not make (403).
var ErrForbidden = errors.New("forbidden")
