package spec

import (
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	slothv1 "github.com/slok/sloth/pkg/prometheus/api/v1"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/tollgate-dev/tollgate/internal/yamlcheck"
)

var (
	// nameRE is Sloth's rule for service and SLO names.
	nameRE = regexp.MustCompile(`^[A-Za-z0-9][-A-Za-z0-9_.]*[A-Za-z0-9]$`)
	// labelNameRE is the legacy Prometheus label charset, which every
	// Prometheus, Thanos and Mimir version accepts.
	labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	// metricNameRE is the legacy metric name charset.
	metricNameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
)

// generatedLabels are set by the generator; a spec that set them would
// overwrite the identity of its own series.
var generatedLabels = []string{
	"sloth_id", "sloth_service", "sloth_slo", "sloth_window", "sloth_severity",
	"sloth_version", "sloth_mode", "sloth_spec", "sloth_objective",
}

// service validates a document's service, its labels and its SLOs, and
// fills doc.SLOs.
func (c *docCtx) service(doc *Document, svcLabels map[string]string, group slothv1.SLOPlugins, slos []slothv1.SLO, exts []extSLO) {
	if doc.Service == "" {
		c.add(c.prefix+"service", "", "is missing", "name the service the SLOs belong to, e.g. service: payments-api")
	} else if !nameRE.MatchString(doc.Service) {
		c.add(c.prefix+"service", "", fmt.Sprintf("%q is not a valid service name", doc.Service), "use letters, digits, '-', '_' and '.', starting and ending with a letter or digit")
	}
	c.labels(c.prefix+"labels", "", svcLabels)
	groupChain := c.pluginChain(c.prefix+c.keys.Name("slo_plugins"), "", group)
	if len(slos) == 0 {
		c.add(c.prefix+"slos", "", "no SLOs", "list at least one SLO under slos:")
	}
	for i, s := range slos {
		var x extSLO
		if i < len(exts) {
			x = exts[i]
		}
		slo := c.slo(i, doc.Service, svcLabels, s, x)
		slo.Plugins = combine(group.OverridePrevious, groupChain, s.Plugins.OverridePrevious, c.pluginChain(slo.Key("plugins"), slo.ID, s.Plugins))
		doc.SLOs = append(doc.SLOs, slo)
	}
}

// slo validates and converts one SLO.
func (c *docCtx) slo(i int, service string, svcLabels map[string]string, s slothv1.SLO, x extSLO) *SLO {
	slo := &SLO{
		ID:          service + "-" + s.Name,
		Service:     service,
		Name:        s.Name,
		Description: s.Description,
		Objective:   s.Objective,
		Labels:      merge(svcLabels, s.Labels),
		Path:        fmt.Sprintf("%sslos[%d]", c.prefix, i),
		Keys:        c.keys,
		ownLabels:   s.Labels,
		docPrefix:   c.prefix,
	}
	line, col := positionOf(c, slo.Path)
	slo.Pos = fmt.Sprintf("%s:%d:%d", c.file, line, col)
	root, file := c.root, c.file
	slo.locate = func(path string) string {
		line, col := yamlcheck.Position(root, path)
		return fmt.Sprintf("%s:%d:%d", file, line, col)
	}
	add := func(path, msg, fix string) { c.add(path, slo.ID, msg, fix) }

	switch {
	case s.Name == "":
		add(slo.Key("name"), "is missing", "give the SLO a name, e.g. name: requests-availability")
	case !nameRE.MatchString(s.Name):
		add(slo.Key("name"), fmt.Sprintf("%q is not a valid SLO name", s.Name), "use letters, digits, '-', '_' and '.', starting and ending with a letter or digit")
	}
	switch {
	case math.IsNaN(s.Objective) || s.Objective <= 0 || s.Objective > 100:
		add(slo.Key("objective"), fmt.Sprintf("%s is out of range", strconv.FormatFloat(s.Objective, 'f', -1, 64)), "give the target in percent, greater than 0 and less than 100, e.g. 99.9")
	case s.Objective == 100:
		add(slo.Key("objective"), "100 leaves no error budget: every burn rate would be infinite", "use the highest target you can afford to miss, e.g. 99.99")
	}
	c.labels(slo.Key("labels"), slo.ID, s.Labels)
	c.sli(slo, s.SLI, x.SLI)
	c.alerting(slo, s.Alerting, x.Alerting)
	return slo
}

func positionOf(c *docCtx, path string) (int, int) {
	return yamlcheck.Position(c.root, path)
}

// sli validates the SLI and sets exactly one kind.
func (c *docCtx) sli(slo *SLO, s slothv1.SLI, x extSLI) {
	add := func(path, msg, fix string) { c.add(path, slo.ID, msg, fix) }
	var kinds []string
	for _, k := range []struct {
		name string
		set  bool
	}{{"events", s.Events != nil}, {"raw", s.Raw != nil}, {"plugin", s.Plugin != nil}, {"latency", x.Latency != nil}, {"ratio", x.Ratio != nil}} {
		if k.set {
			kinds = append(kinds, k.name)
		}
	}
	switch {
	case len(kinds) == 0:
		add(slo.Key("sli"), "has no SLI", "give exactly one of events, raw, latency or ratio")
		return
	case len(kinds) > 1:
		add(slo.Key("sli"), "has several SLI kinds: "+strings.Join(kinds, ", "), "keep exactly one")
		return
	}
	switch {
	case s.Plugin != nil:
		add(slo.Key("sli.plugin"), "Sloth SLI plugins are not supported: they are Go code Sloth interprets at generation time", "write the plugin's query as a raw or events SLI, or use Tollgate's latency or ratio SLI")
	case s.Events != nil:
		errPath, totalPath := slo.Key("sli.events", "error_query"), slo.Key("sli.events", "total_query")
		e := c.query(slo.ID, errPath, s.Events.ErrorQuery)
		t := c.query(slo.ID, totalPath, s.Events.TotalQuery)
		if e != "" && e == t {
			add(errPath, "is the same query as total_query: the error ratio would always be 1", "count only the bad events, e.g. add code=~\"5..\"")
		}
		slo.SLI.Events = &Events{ErrorQuery: s.Events.ErrorQuery, TotalQuery: s.Events.TotalQuery}
	case s.Raw != nil:
		c.query(slo.ID, slo.Key("sli.raw", "error_ratio_query"), s.Raw.ErrorRatioQuery)
		slo.SLI.Raw = &Raw{ErrorRatioQuery: s.Raw.ErrorRatioQuery}
	case x.Latency != nil:
		c.latency(slo, x.Latency)
	case x.Ratio != nil:
		c.ratio(slo, x.Ratio)
	}
}

// query checks an SLI query template and returns its canonical form, or ""
// when it is not valid.
func (c *docCtx) query(id, path, q string) string {
	add := func(msg, fix string) { c.add(path, id, msg, fix) }
	if strings.TrimSpace(q) == "" {
		add("is missing", "give a PromQL query with {{.window}} as the range, e.g. sum(rate(http_requests_total[{{.window}}]))")
		return ""
	}
	if !HasWindow(q) {
		add("has no {{.window}} placeholder", "write the range of each range selector as [{{.window}}], e.g. sum(rate(http_requests_total[{{.window}}])); the generator fills in each alert window")
		return ""
	}
	rendered, err := Render(q, "1m")
	if err != nil {
		add(err.Error(), "only {{.window}} may be used in a query template")
		return ""
	}
	expr, err := c.parser.ParseExpr(rendered)
	if err != nil {
		add("is not valid PromQL: "+oneLine(err.Error()), "fix the query; try it in the Prometheus UI with [5m] in place of [{{.window}}]")
		return ""
	}
	return expr.String()
}

func (c *docCtx) latency(slo *SLO, x *extLatency) {
	add := func(key, msg, fix string) { c.add(slo.Key("sli.latency", key), slo.ID, msg, fix) }
	l := &Latency{Metric: x.Metric, Selector: x.Selector, Threshold: x.Threshold, Buckets: x.Buckets, MinEvents: x.MinEvents}
	switch {
	case x.Metric == "":
		add("metric", "is missing", "give the histogram's name, e.g. metric: http_request_duration_seconds")
	case !metricNameRE.MatchString(x.Metric):
		add("metric", fmt.Sprintf("%q is not a metric name", x.Metric), "give the histogram's name only; put label matchers in selector")
	default:
		for _, suffix := range []string{"_bucket", "_count", "_sum"} {
			if base, ok := strings.CutSuffix(x.Metric, suffix); ok {
				add("metric", fmt.Sprintf("%q names one series of the histogram", x.Metric), fmt.Sprintf("give its base name: metric: %s", base))
			}
		}
	}
	if x.Selector != "" {
		ms, err := ParseSelector(c.parser, x.Selector)
		switch {
		case err != nil:
			add("selector", "is not a valid selector: "+oneLine(err.Error()), `write label matchers in braces, e.g. selector: '{job="api"}'`)
		default:
			for _, m := range ms {
				if m.Name == labels.MetricName || m.Name == "le" {
					add("selector", fmt.Sprintf("matches on %s, which the generator sets", m.Name), "remove it; the metric name comes from metric, le from threshold")
				}
			}
		}
	}
	switch {
	case math.IsNaN(x.Threshold) || math.IsInf(x.Threshold, 0) || x.Threshold <= 0:
		add("threshold", "is missing or not a positive number", "give the slowest good latency in the histogram's unit (usually seconds), e.g. threshold: 0.3")
	case len(x.Buckets) > 0 && !slices.Contains(x.Buckets, x.Threshold):
		add("threshold", fmt.Sprintf("%s is not one of the histogram's bucket boundaries %s", FormatFloat(x.Threshold), FormatFloats(x.Buckets)),
			fmt.Sprintf("use a boundary, e.g. %s, or add %s to the histogram's buckets (and to buckets here)", FormatFloat(Nearest(x.Buckets, x.Threshold)), FormatFloat(x.Threshold)))
	}
	for i, b := range x.Buckets {
		if i > 0 && b <= x.Buckets[i-1] {
			c.add(slo.Key("sli.latency", "buckets")+fmt.Sprintf("[%d]", i), slo.ID, "buckets are not in increasing order", "list the boundaries as the histogram defines them, smallest first")
			break
		}
	}
	checkMinEvents(c, slo, slo.Key("sli.latency", "min_events"), x.MinEvents)
	slo.SLI.Latency = l
}

func (c *docCtx) ratio(slo *SLO, x *extRatio) {
	sel := func(key, value string) string {
		path := slo.Key("sli.ratio", key)
		if value == "" {
			c.add(path, slo.ID, "is missing", `give a counter's series selector, e.g. http_requests_total{job="api",code=~"5.."}`)
			return ""
		}
		ms, err := ParseSelector(c.parser, value)
		if err != nil {
			c.add(path, slo.ID, "is not a series selector: "+oneLine(err.Error()), `give a counter and label matchers, e.g. http_requests_total{job="api"}; the generator writes the rate and the window`)
			return ""
		}
		return PrintSelector(ms)
	}
	e, t := sel("errors", x.Errors), sel("total", x.Total)
	if e != "" && e == t {
		c.add(slo.Key("sli.ratio", "errors"), slo.ID, "is the same selector as total: the error ratio would always be 1", "select only the bad events, e.g. add code=~\"5..\"")
	}
	checkMinEvents(c, slo, slo.Key("sli.ratio", "min_events"), x.MinEvents)
	slo.SLI.Ratio = &Ratio{Errors: x.Errors, Total: x.Total, MinEvents: x.MinEvents}
}

func checkMinEvents(c *docCtx, slo *SLO, path string, v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		c.add(path, slo.ID, "must be zero or a positive number of events", "leave it out to only guard against windows without any event")
	}
}

// ParseSelector parses a series selector: "metric{a=\"b\"}", "{a=\"b\"}", or
// bare matchers "a=\"b\"".
func ParseSelector(p parser.Parser, s string) ([]*labels.Matcher, error) {
	s = strings.TrimSpace(s)
	if !strings.HasSuffix(s, "}") && strings.ContainsAny(s, "=~") {
		s = "{" + s + "}"
	}
	return p.ParseMetricSelector(s)
}

// PrintSelector prints matchers as a series selector, the metric name in
// front as people write it.
func PrintSelector(ms []*labels.Matcher) string {
	vs := &parser.VectorSelector{LabelMatchers: ms}
	for _, m := range ms {
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
			vs.Name = m.Value
		}
	}
	return vs.String()
}

// alerting validates the alert settings.
func (c *docCtx) alerting(slo *SLO, a slothv1.Alerting, x extAlerting) {
	add := func(path, msg, fix string) { c.add(path, slo.ID, msg, fix) }
	slo.Alerting = Alerting{
		Name:        a.Name,
		Labels:      a.Labels,
		Annotations: a.Annotations,
		Page:        Alert{Disable: a.PageAlert.Disable, Labels: a.PageAlert.Labels, Annotations: a.PageAlert.Annotations},
		Ticket:      Alert{Disable: a.TicketAlert.Disable, Labels: a.TicketAlert.Labels, Annotations: a.TicketAlert.Annotations},
	}
	if a.Name == "" && (!a.PageAlert.Disable || !a.TicketAlert.Disable) {
		add(slo.Key("alerting"), "has no name", "give the alerts a name, e.g. alerting: {name: PaymentsHighErrorRate}, or disable both page_alert and ticket_alert")
	}
	c.labels(slo.Key("alerting", "labels"), slo.ID, a.Labels)
	c.annotations(slo.Key("alerting", "annotations"), slo.ID, a.Annotations)
	for _, al := range []struct {
		key string
		a   slothv1.Alert
		x   extAlert
		out *Alert
	}{{"page_alert", a.PageAlert, x.PageAlert, &slo.Alerting.Page}, {"ticket_alert", a.TicketAlert, x.TicketAlert, &slo.Alerting.Ticket}} {
		c.labels(slo.Key("alerting", al.key, "labels"), slo.ID, al.a.Labels)
		c.annotations(slo.Key("alerting", al.key, "annotations"), slo.ID, al.a.Annotations)
		al.out.For = c.duration(slo, slo.Key("alerting", al.key, "for"), al.x.For)
	}
	if p, t := slo.Alerting.Page, slo.Alerting.Ticket; !p.Disable && !t.Disable && p.For > t.For {
		c.warn(slo.Key("alerting", "page_alert", "for"), slo.ID, fmt.Sprintf("the page waits %s, the ticket %s: a fast burn opens a ticket before its page fires and silences it", model.Duration(p.For), model.Duration(t.For)),
			"give ticket_alert a for: at least as long as page_alert's")
	}
	if x.AbsentAlert != nil {
		abs := &AbsentAlert{Name: x.AbsentAlert.Name, Labels: x.AbsentAlert.Labels, Annotations: x.AbsentAlert.Annotations}
		path := slo.Key("alerting", "absent_alert")
		abs.For = c.duration(slo, path+"."+slo.Keys.Name("for"), x.AbsentAlert.For)
		if abs.Name == "" {
			if a.Name == "" {
				add(path, "has no name", "name it, or give alerting a name (the no-data alert is then named <name>NoData)")
			}
			abs.Name = a.Name + "NoData"
		}
		c.labels(path+".labels", slo.ID, abs.Labels)
		c.annotations(path+".annotations", slo.ID, abs.Annotations)
		slo.Alerting.Absent = abs
	}
}

func (c *docCtx) duration(slo *SLO, path, s string) time.Duration {
	if s == "" {
		return 0
	}
	d, err := model.ParseDuration(s)
	if err != nil {
		c.add(path, slo.ID, fmt.Sprintf("%q is not a duration", s), "write it like 2m, 1h or 1d")
		return 0
	}
	return time.Duration(d)
}

func (c *docCtx) labels(path, id string, ls map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(ls)) {
		if msg, fix := LabelNameProblem(k); msg != "" {
			c.add(path+"."+k, id, msg, fix)
		}
	}
}

// LabelNameProblem says what is wrong with a user's label name, and how
// to fix it, or returns empty strings when the name may be used.
func LabelNameProblem(k string) (msg, fix string) {
	switch {
	case !labelNameRE.MatchString(k) || strings.HasPrefix(k, "__"):
		return fmt.Sprintf("%q is not a valid label name", k), "use letters, digits and '_', not starting with a digit or '__'"
	case slices.Contains(generatedLabels, k):
		return k + " is set by the generator", "remove it; use another label name for your own value"
	}
	return "", ""
}

func (c *docCtx) annotations(path, id string, as map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(as)) {
		if !labelNameRE.MatchString(k) {
			c.add(path+"."+k, id, fmt.Sprintf("%q is not a valid annotation name", k), "use letters, digits and '_', not starting with a digit")
		}
	}
}

// merge returns the union of label maps, later ones winning.
func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		maps.Copy(out, m)
	}
	return out
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// FormatFloat prints a number the way Prometheus client libraries print a
// bucket boundary.
func FormatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// FormatFloats prints bucket boundaries as a list: [0.1, 0.25, 1].
func FormatFloats(fs []float64) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = FormatFloat(f)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// Nearest returns the element of fs (not empty) closest to v: the
// boundary to suggest for a threshold that is none.
func Nearest(fs []float64, v float64) float64 {
	best := fs[0]
	for _, f := range fs {
		if math.Abs(f-v) < math.Abs(best-v) {
			best = f
		}
	}
	return best
}
