package dashboards

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/grafana-tools/sdk"
)

// Grafana's grid is 24 columns wide.
const gridWidth = 24

// board is a dashboard under construction: the SDK's Board plus what the
// SDK keeps in package globals. sdk.NewBoard numbers boards and Row.Add
// numbers panels from counters shared by the whole process, so IDs would
// depend on what ran before; board numbers its own panels from 1 and lays
// them out itself, and never calls either.
type board struct {
	sdk.Board
	nextID      uint
	x, y, lineH int
	// row is the open collapsed row, which holds its panels itself.
	row  *sdk.Panel
	rowY int
}

func newBoard(uid, title string, tags []string) *board {
	b := &board{Board: sdk.Board{
		UID:      uid,
		Title:    title,
		Tags:     tags,
		Timezone: "browser",
		// Generated dashboards are code: a save in the UI would be
		// overwritten by the next run, so Grafana should not offer it.
		Editable:     false,
		GraphTooltip: 1, // shared crosshair
		Refresh:      &sdk.BoolString{Value: "1m"},
		Time:         sdk.Time{From: "now-6h", To: "now"},
		Timepicker:   sdk.Timepicker{RefreshIntervals: []string{"30s", "1m", "5m", "15m", "30m", "1h"}},
	}}
	return b
}

// addRow starts a row. Panels added after it belong to it; a collapsed
// row holds them inside itself, as Grafana stores collapsed rows.
func (b *board) addRow(title string, collapsed bool) {
	b.endLine()
	b.closeRow()
	b.nextID++
	r := &sdk.Panel{
		CommonPanel: sdk.CommonPanel{OfType: sdk.RowType, Type: "row", Title: title, ID: b.nextID},
		RowPanel:    &sdk.RowPanel{Panels: []sdk.Panel{}, Collapsed: collapsed},
	}
	setGrid(r, 0, b.y, gridWidth, 1)
	b.Panels = append(b.Panels, r)
	if collapsed {
		b.row, b.rowY = r, b.y
	}
	b.y++
}

// add places a panel w columns wide and h high, left to right, wrapping
// at the grid's width.
func (b *board) add(p *sdk.Panel, w, h int) {
	if b.x+w > gridWidth {
		b.endLine()
	}
	b.nextID++
	p.ID = b.nextID
	setGrid(p, b.x, b.y, w, h)
	b.x += w
	b.lineH = max(b.lineH, h)
	if b.row != nil {
		b.row.RowPanel.Panels = append(b.row.RowPanel.Panels, *p)
		return
	}
	b.Panels = append(b.Panels, p)
}

func (b *board) endLine() {
	if b.x > 0 {
		b.y += b.lineH
	}
	b.x, b.lineH = 0, 0
}

// closeRow ends a collapsed row: what follows it starts right below it,
// since its panels take no room until it is expanded.
func (b *board) closeRow() {
	if b.row != nil {
		b.y = b.rowY + 1
		b.row = nil
	}
}

func setGrid(p *sdk.Panel, x, y, w, h int) {
	p.GridPos.X, p.GridPos.Y, p.GridPos.W, p.GridPos.H = &x, &y, &w, &h
}

func (b *board) encode() ([]byte, error) {
	b.endLine()
	b.closeRow()
	return encode(&b.Board)
}

// dsRef is Grafana's data source reference ({type, uid}), which the SDK
// types leave as interface{}.
type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Every panel reads through the dashboard's data source variable, which
// defaults to Tollgate's Prometheus data source.
var promDS = dsRef{Type: "prometheus", UID: "${datasource}"}

// query is one PromQL target.
type query struct {
	expr, legend string
	// instant asks for the value at the end of the range only (stats).
	instant bool
}

func targets(qs []query) []sdk.Target {
	ts := make([]sdk.Target, len(qs))
	for i, q := range qs {
		ts[i] = sdk.Target{
			RefID:        string(rune('A' + i)),
			Datasource:   promDS,
			Expr:         q.expr,
			LegendFormat: q.legend,
			Instant:      q.instant,
		}
	}
	return ts
}

// step is one threshold: from value (nil: the base) on, color.
type step struct {
	color string
	value *float64
}

func at(v float64) *float64 { return &v }

func thresholds(steps []step) sdk.Thresholds {
	if len(steps) == 0 {
		steps = []step{{color: "green"}}
	}
	t := sdk.Thresholds{Mode: "absolute"}
	for _, s := range steps {
		t.Steps = append(t.Steps, sdk.ThresholdStep{Color: s.color, Value: s.value})
	}
	return t
}

// tsOpts are what differs between time series panels.
type tsOpts struct {
	stack bool
	// line draws the thresholds as lines (burn-rate limits, objectives).
	line       bool
	thresholds []step
	min        *float64
}

// timeseries is built on the SDK's TimeseriesPanel, with every field
// config value Grafana writes itself set explicitly: the SDK's zero values
// ("drawStyle": "", "lineWidth": 0) would draw nothing.
func timeseries(title, desc, unit string, o tsOpts, qs ...query) *sdk.Panel {
	p := sdk.NewTimeseries(title)
	p.Description = &desc
	p.Datasource = promDS
	p.TimeseriesPanel.Targets = targets(qs)
	p.TimeseriesPanel.Options = sdk.TimeseriesOptions{
		Legend:  sdk.TimeseriesLegendOptions{Calcs: []string{}, DisplayMode: "list", Placement: "bottom"},
		Tooltip: sdk.TimeseriesTooltipOptions{Mode: "multi"},
	}
	c := sdk.FieldConfigCustom{
		AxisPlacement: "auto", DrawStyle: "line", FillOpacity: 10, GradientMode: "none",
		LineInterpolation: "linear", LineWidth: 1, PointSize: 5, ShowPoints: "never",
	}
	c.LineStyle.Fill = "solid"
	c.ScaleDistribution.Type = "linear"
	c.Stacking.Group, c.Stacking.Mode = "A", "none"
	if o.stack {
		c.Stacking.Mode, c.FillOpacity = "normal", 40
	}
	c.ThresholdsStyle.Mode = "off"
	if o.line {
		c.ThresholdsStyle.Mode = "line"
	}
	p.TimeseriesPanel.FieldConfig = sdk.FieldConfig{Defaults: sdk.FieldConfigDefaults{
		Unit:       unit,
		Min:        o.min,
		Color:      sdk.FieldConfigColor{Mode: "palette-classic"},
		Thresholds: thresholds(o.thresholds),
		Custom:     c,
	}}
	return p
}

// fieldConfig is Grafana's fieldConfig for panels other than time series.
// The SDK's StatPanel predates it (its thresholds are a string and its
// unit is "format"), so stat and bar gauge panels are sdk.CustomPanel
// values carrying this, the SDK's thresholds and their options.
type fieldConfig struct {
	Defaults  fieldDefaults `json:"defaults"`
	Overrides []any         `json:"overrides"`
}

type fieldDefaults struct {
	Unit       string               `json:"unit"`
	Decimals   *int                 `json:"decimals,omitempty"`
	Min        *float64             `json:"min,omitempty"`
	Color      sdk.FieldConfigColor `json:"color"`
	Thresholds sdk.Thresholds       `json:"thresholds"`
	Mappings   []any                `json:"mappings"`
}

type reduceOptions struct {
	Calcs  []string `json:"calcs"`
	Fields string   `json:"fields"`
	Values bool     `json:"values"`
}

type statOptions struct {
	ColorMode     string        `json:"colorMode"`
	GraphMode     string        `json:"graphMode"`
	JustifyMode   string        `json:"justifyMode"`
	Orientation   string        `json:"orientation"`
	TextMode      string        `json:"textMode"`
	ReduceOptions reduceOptions `json:"reduceOptions"`
}

type barGaugeOptions struct {
	DisplayMode   string        `json:"displayMode"`
	Orientation   string        `json:"orientation"`
	ShowUnfilled  bool          `json:"showUnfilled"`
	ReduceOptions reduceOptions `json:"reduceOptions"`
}

var lastValue = reduceOptions{Calcs: []string{"lastNotNull"}}

func custom(typ, title, desc, unit string, decimals *int, steps []step, options any, qs []query) *sdk.Panel {
	return &sdk.Panel{
		CommonPanel: sdk.CommonPanel{OfType: sdk.CustomType, Type: typ, Title: title, Description: &desc, Datasource: promDS},
		CustomPanel: &sdk.CustomPanel{
			"targets": targets(qs),
			"fieldConfig": fieldConfig{Overrides: []any{}, Defaults: fieldDefaults{
				Unit: unit, Decimals: decimals,
				Color:      sdk.FieldConfigColor{Mode: "thresholds"},
				Thresholds: thresholds(steps),
				Mappings:   []any{},
			}},
			"options": options,
		},
	}
}

func stat(title, desc, unit string, steps []step, qs ...query) *sdk.Panel {
	return custom("stat", title, desc, unit, nil, steps, statOptions{
		ColorMode: "value", GraphMode: "area", JustifyMode: "auto", Orientation: "auto", TextMode: "auto",
		ReduceOptions: lastValue,
	}, qs)
}

func barGauge(title, desc, unit string, qs ...query) *sdk.Panel {
	return custom("bargauge", title, desc, unit, nil, nil, barGaugeOptions{
		DisplayMode: "gradient", Orientation: "horizontal", ShowUnfilled: true, ReduceOptions: lastValue,
	}, qs)
}

func panelLink(title, url string) sdk.Link {
	yes := true
	return sdk.Link{Title: title, Type: "link", URL: &url, TargetBlank: &yes}
}

// dashboardLink links to another dashboard by UID, keeping the time range.
func dashboardLink(title, uid string) sdk.Link {
	url := "/d/" + uid
	yes := true
	icon := "dashboard"
	return sdk.Link{Title: title, Type: "link", URL: &url, KeepTime: &yes, Icon: &icon}
}

// tagLink is a drop-down of every dashboard with the tag.
func tagLink(title, tag string) sdk.Link {
	yes := true
	return sdk.Link{Title: title, Type: "dashboards", Tags: []string{tag}, AsDropdown: &yes, KeepTime: &yes}
}

// PromQL literals.

// str quotes a string for PromQL (Go's escapes are PromQL's).
func str(s string) string { return strconv.Quote(s) }

func eq(label, value string) string { return label + "=" + str(value) }
func re(label, value string) string { return label + "=~" + str(value) }

// alternation is an anchored-by-Prometheus regexp matching exactly vs.
func alternation(vs []string) string {
	qs := make([]string, len(vs))
	for i, v := range vs {
		qs[i] = regexp.QuoteMeta(v)
	}
	return strings.Join(qs, "|")
}

func number(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
