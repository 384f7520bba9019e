// Package ui is the chargeback page: server-rendered HTML with a window
// and aggregation picker, a stacked bar chart of cost over time drawn by
// the vendored Chart.js (embedded, no CDN), a table with CPU, RAM, GPU,
// idle and shared cost and efficiency, and CSV and FOCUS download links.
// It is served through the gateway, so it shows what the caller's
// identity may see and nothing else.
package ui

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/cost"
	"github.com/tollgate-dev/tollgate/cost/allocation"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// Base is the page's path.
const Base = "/ui/chargeback"

//go:embed assets
var assets embed.FS

// IsAsset reports whether p is one of the page's static files.
func IsAsset(p string) bool {
	name, ok := strings.CutPrefix(p, Base+"/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return false
	}
	_, err := assets.Open("assets/" + name)
	return err == nil
}

// Options configure the page.
type Options struct {
	// Compute answers a query for a caller.
	Compute  func(ctx context.Context, q cost.Query, a tenancy.Access) (*cost.Result, error)
	Now      func() time.Time
	Currency string
	Logger   *slog.Logger
}

// Page serves the chargeback page.
type Page struct {
	opts Options
	tmpl *template.Template
}

// New builds the page.
func New(opts Options) *Page {
	return &Page{opts: opts, tmpl: template.Must(template.New("page").Funcs(template.FuncMap{"money": money, "pct": pct}).Parse(pageHTML))}
}

// Windows and aggregations offered by the pickers.
var (
	windows      = []string{"today", "yesterday", "24h", "7d", "week", "lastweek", "30d", "month", "lastmonth"}
	aggregations = []string{"cost_center", "team", "tenant", "namespace", "deployment", "controller", "node", "cluster"}
)

// ServeAsset serves an embedded static file.
func (p *Page) ServeAsset(w http.ResponseWriter, r *http.Request) {
	name := path.Base(r.URL.Path)
	b, err := assets.ReadFile("assets/" + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	switch path.Ext(name) {
	case ".js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	default:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.Header().Set("Cache-Control", "private, max-age=3600")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b)
}

type dataset struct {
	Label  string    `json:"label"`
	Values []float64 `json:"values"`
	Idle   bool      `json:"idle,omitempty"`
}

type chartData struct {
	Title    string    `json:"title"`
	Currency string    `json:"currency"`
	Labels   []string  `json:"labels"`
	Datasets []dataset `json:"datasets"`
}

type row struct {
	Name                                   string
	Idle                                   bool
	CPU, RAM, GPU, IdleCost, Shared, Total float64
	CPUEff, RAMEff, TotalEff               float64
	HasEff                                 bool
}

type view struct {
	Who             string
	Window          string
	Aggregate       string
	ShareIdle       bool
	ShareNamespaces bool
	Windows         []string
	Aggregations    []string
	Error           string
	From, To        string
	Currency        string
	Rows            []row
	Total           row
	Chart           template.JS
	CSV, FOCUS      string
	Shared          string
}

// Serve renders the page for a caller.
func (p *Page) Serve(w http.ResponseWriter, r *http.Request, a tenancy.Access) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "the chargeback page is read with GET", http.StatusMethodNotAllowed)
		return
	}
	in := r.URL.Query()
	v := view{Windows: windows, Aggregations: aggregations, Currency: p.opts.Currency, Window: in.Get("window"), Aggregate: in.Get("aggregate")}
	if v.Window == "" {
		v.Window = "7d"
	}
	if v.Aggregate == "" {
		v.Aggregate = "cost_center"
	}
	if !slices.Contains(v.Windows, v.Window) {
		// A window from a link (start,end): keep it selectable.
		v.Windows = append([]string{v.Window}, windows...)
	}
	if !slices.Contains(v.Aggregations, v.Aggregate) {
		v.Aggregations = append([]string{v.Aggregate}, aggregations...)
	}
	// Checkboxes are sent only when ticked; "submitted" tells an
	// unticked box from a first visit, where both default to on.
	first := in.Get("submitted") == ""
	v.ShareIdle = first || in.Get("shareIdle") == "true"
	v.ShareNamespaces = first || in.Get("shareNamespaces") == "true"
	if a.Admin {
		v.Who = "admin: every namespace"
	} else {
		v.Who = "tenant " + strings.Join(a.TenantNames(), ", ") + ": namespaces " + strings.Join(a.Scope.Namespaces(), ", ")
	}

	status := http.StatusOK
	if err := p.fill(r.Context(), &v, a); err != nil {
		v.Error = err.Error()
		status = http.StatusBadRequest
		var pe *cost.ParamError
		switch {
		case errors.As(err, &pe):
		case errors.Is(err, cost.ErrForbidden):
			status = http.StatusForbidden
		case errors.Is(err, cost.ErrBusy):
			status = http.StatusTooManyRequests
		default:
			p.opts.Logger.ErrorContext(r.Context(), "chargeback page", "err", err)
			v.Error = "computing the allocation failed while reading Prometheus; Tollgate's log has the details"
			status = http.StatusBadGateway
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if err := p.tmpl.Execute(w, v); err != nil {
		p.opts.Logger.WarnContext(r.Context(), "rendering the chargeback page", "err", err)
	}
}

// fill computes the page's query for the caller and fills in the
// table, the chart and the download links.
func (p *Page) fill(ctx context.Context, v *view, a tenancy.Access) error {
	r := cost.Request{Window: v.Window, Aggregate: v.Aggregate, ShareIdle: v.ShareIdle, IncludeIdle: !v.ShareIdle,
		ShareNamespaces: strconv.FormatBool(v.ShareNamespaces)}
	q, err := r.Query(p.opts.Now())
	if err != nil {
		return err
	}
	// Bars per day, or per hour for windows of two days and less.
	q.Step = 24 * time.Hour
	labelFormat := "Mon Jan 2"
	if q.End.Sub(q.Start) <= 48*time.Hour {
		q.Step, labelFormat = time.Hour, "Jan 2 15:04"
	}
	if q.Step < q.Resolution {
		q.Step = q.Resolution
	}
	res, err := p.opts.Compute(ctx, q, a)
	if err != nil {
		return err
	}
	v.From, v.To = q.Start.Format("2006-01-02 15:04"), q.End.Format("2006-01-02 15:04 MST")
	if v.ShareNamespaces {
		v.Shared = "shared platform namespaces are spread over the others in proportion to their cost"
	}
	v.fillTable(res.Sets)
	title := fmt.Sprintf("Cost per %s, %s", strings.ReplaceAll(v.Aggregate, "_", " "), map[bool]string{true: "per hour", false: "per day"}[q.Step == time.Hour])
	b, err := json.Marshal(chart(title, p.opts.Currency, labelFormat, v.Rows, res.Sets))
	if err != nil {
		return err
	}
	// html/template escapes <, > and & in JS contexts; the JSON sits in a
	// non-executed script element, read with JSON.parse.
	v.Chart = template.JS(b)
	v.CSV, v.FOCUS = downloads(r)
	return nil
}

// fillTable fills in the table: the whole window, biggest first, idle
// last.
func (v *view) fillTable(sets []allocation.Set) {
	total := allocation.Accumulate(sets)
	for _, al := range total.Allocations {
		r := row{Name: al.Name, Idle: al.IsIdle(), CPU: al.CPUCost, RAM: al.RAMCost, GPU: al.GPUCost, IdleCost: al.IdleCost(), Shared: al.SharedCost, Total: al.TotalCost(),
			CPUEff: al.CPUEfficiency(), RAMEff: al.RAMEfficiency(), TotalEff: al.TotalEfficiency(), HasEff: !al.IsIdle() && al.Name != allocation.Shared}
		v.Rows = append(v.Rows, r)
		v.Total.CPU += r.CPU
		v.Total.RAM += r.RAM
		v.Total.GPU += r.GPU
		v.Total.IdleCost += r.IdleCost
		v.Total.Shared += r.Shared
		v.Total.Total += r.Total
	}
	slices.SortStableFunc(v.Rows, func(x, y row) int {
		switch {
		case x.Idle != y.Idle:
			if x.Idle {
				return 1
			}
			return -1
		case x.Total > y.Total:
			return -1
		case x.Total < y.Total:
			return 1
		}
		return strings.Compare(x.Name, y.Name)
	})
}

// chart draws the biggest groups of the table per set, the rest as
// "other", idle last.
func chart(title, currency, labelFormat string, rows []row, sets []allocation.Set) chartData {
	const maxSeries = 8
	cd := chartData{Title: title, Currency: currency}
	for _, s := range sets {
		cd.Labels = append(cd.Labels, s.Start.Format(labelFormat))
	}
	index := map[string]int{}
	var other *dataset
	for _, r := range rows {
		if len(cd.Datasets) < maxSeries || r.Idle {
			index[r.Name] = len(cd.Datasets)
			cd.Datasets = append(cd.Datasets, dataset{Label: r.Name, Values: make([]float64, len(sets)), Idle: r.Idle})
		}
	}
	for i, s := range sets {
		for _, al := range s.Allocations {
			j, ok := index[al.Name]
			if !ok {
				if other == nil {
					other = &dataset{Label: "other", Values: make([]float64, len(sets))}
				}
				other.Values[i] += al.TotalCost()
				continue
			}
			cd.Datasets[j].Values[i] += al.TotalCost()
		}
	}
	if other != nil {
		cd.Datasets = append(cd.Datasets, *other)
	}
	return cd
}

// downloads links the page's request as CSV (the whole window) and as
// FOCUS (per day).
func downloads(r cost.Request) (csv, focus string) {
	dl := url.Values{"window": {r.Window}, "aggregate": {r.Aggregate}, "accumulate": {"true"},
		"shareIdle": {strconv.FormatBool(r.ShareIdle)}, "includeIdle": {strconv.FormatBool(r.IncludeIdle)}, "shareNamespaces": {r.ShareNamespaces}}
	dl.Set("format", "csv")
	csv = "/allocation?" + dl.Encode()
	dl.Set("step", "1d")
	dl.Del("accumulate")
	dl.Set("format", "focus")
	return csv, "/allocation?" + dl.Encode()
}

func money(x float64) string { return fmt.Sprintf("%.2f", x) }

func pct(x float64) string { return fmt.Sprintf("%.0f%%", x*100) }
