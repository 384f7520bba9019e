// Package windows holds the multi-window, multi-burn-rate alert windows of
// an SLO period, in Sloth's `AlertWindows` format (sloth.slok.dev/v1), read
// through Sloth's public type. The defaults are Sloth's, from the Google SRE
// workbook, for 30-day and 28-day periods; files add periods or replace a
// default.
package windows

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	alertwindowsv1 "github.com/slok/sloth/pkg/prometheus/alertwindows/v1"
	"go.yaml.in/yaml/v3"

	"github.com/tollgate-dev/tollgate/internal/problem"
	"github.com/tollgate-dev/tollgate/internal/yamlcheck"
)

// Window is one alert's pair of windows and the share of the period's error
// budget it may consume over the long one.
type Window struct {
	ErrorBudgetPercent float64
	Short, Long        time.Duration
}

// Windows are the four alert windows of one SLO period.
type Windows struct {
	Period      time.Duration
	PageQuick   Window
	PageSlow    Window
	TicketQuick Window
	TicketSlow  Window
	// Source is the file the windows came from, or "built-in".
	Source string
	// Line is the line of spec.sloPeriod in Source, so that a conflict
	// between two files can point at both.
	Line int
}

// Factor is the burn rate at which w's share of the budget is spent within
// its long window (Sloth's getBurnRateFactor): 14.4 for the 30-day page
// windows.
func (ws Windows) Factor(w Window) float64 {
	return w.ErrorBudgetPercent * ws.Period.Hours() / 100 / w.Long.Hours()
}

// AlertWindows returns the distinct windows the alerts read, shortest
// first: the SLI is recorded for each of them, and for the period.
func (ws Windows) AlertWindows() []time.Duration {
	var out []time.Duration
	for _, w := range []Window{ws.PageQuick, ws.PageSlow, ws.TicketQuick, ws.TicketSlow} {
		for _, d := range []time.Duration{w.Short, w.Long} {
			if !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Catalog holds windows by period.
type Catalog struct {
	byPeriod map[time.Duration]Windows
}

//go:embed defaults/*.yaml
var defaults embed.FS

// Default returns Sloth's default windows: 30d and 28d.
func Default() *Catalog {
	c := &Catalog{byPeriod: map[time.Duration]Windows{}}
	err := fs.WalkDir(defaults, "defaults", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := defaults.ReadFile(p)
		if err != nil {
			return err
		}
		ws, ps := Parse("built-in "+strings.TrimSuffix(filepath.Base(p), ".yaml"), data)
		if err := ps.Err(); err != nil {
			return err
		}
		for _, w := range ws {
			c.byPeriod[w.Period] = w
		}
		return nil
	})
	if err != nil {
		// The defaults are compiled in and covered by tests.
		panic(fmt.Sprintf("windows: built-in windows: %v", err))
	}
	return c
}

// Load returns the default windows plus those of the given files and
// directory trees (*.yaml, *.yml). A file's period replaces the default
// of the same period; two files may not define one period differently.
func Load(paths ...string) (*Catalog, problem.List, error) {
	c := Default()
	custom := map[time.Duration]Windows{}
	var ps problem.List
	for _, path := range paths {
		files, err := windowFiles(path)
		if err != nil {
			return nil, nil, err
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, nil, fmt.Errorf("reading alert windows: %w", err)
			}
			ws, fps := Parse(f, data)
			ps = append(ps, fps...)
			for _, w := range ws {
				if prev, ok := custom[w.Period]; ok && !sameWindows(prev, w) {
					ps = append(ps, problem.Problem{Pos: fmt.Sprintf("%s:%d", f, w.Line), Line: w.Line, Path: "spec.sloPeriod", Msg: fmt.Sprintf("period %s is already defined, differently, at %s:%d", model.Duration(w.Period), prev.Source, prev.Line), Fix: "keep one AlertWindows file per period"})
					continue
				}
				custom[w.Period] = w
				c.byPeriod[w.Period] = w
			}
		}
	}
	return c, ps, ps.Err()
}

func sameWindows(a, b Windows) bool {
	a.Source, b.Source = "", ""
	a.Line, b.Line = 0, 0
	return a == b
}

func windowFiles(path string) ([]string, error) {
	return yamlcheck.Files(path, "alert windows")
}

// Get returns the windows of a period.
func (c *Catalog) Get(period time.Duration) (Windows, error) {
	w, ok := c.byPeriod[period]
	if !ok {
		return Windows{}, fmt.Errorf("no alert windows for an SLO period of %s; periods with windows: %s (add an AlertWindows file with --windows)", model.Duration(period), c.periodList())
	}
	return w, nil
}

// Periods returns the periods with windows, shortest first.
func (c *Catalog) Periods() []time.Duration {
	return slices.Sorted(maps.Keys(c.byPeriod))
}

func (c *Catalog) periodList() string {
	var s []string
	for _, p := range c.Periods() {
		s = append(s, model.Duration(p).String())
	}
	return strings.Join(s, ", ")
}

// Parse reads the AlertWindows documents of one file; name is used in
// positions.
func Parse(name string, data []byte) ([]Windows, problem.List) {
	var out []Windows
	var all problem.List
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var root yaml.Node
		err := dec.Decode(&root)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			all = append(all, problem.Problem{Pos: name, Path: "(document)", Msg: strings.TrimPrefix(err.Error(), "yaml: "), Fix: "fix the YAML syntax"})
			break
		}
		if len(root.Content) == 0 || root.Content[0].Tag == "!!null" {
			continue
		}
		w, ps := parseDocument(name, &root)
		w.Line, _ = yamlcheck.Position(&root, "spec.sloPeriod")
		for i := range ps {
			ps[i].Line, ps[i].Col = yamlcheck.Position(&root, ps[i].Path)
			ps[i].Pos = fmt.Sprintf("%s:%d:%d", name, ps[i].Line, ps[i].Col)
		}
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].Line < ps[j].Line })
		all = append(all, ps...)
		if len(ps.Errors()) == 0 {
			out = append(out, w)
		}
	}
	return out, all
}

func parseDocument(name string, root *yaml.Node) (Windows, problem.List) {
	var ps problem.List
	yamlcheck.Keys(root, yamlcheck.YAML, "", &ps, reflect.TypeFor[alertwindowsv1.AlertWindows]())
	var aw alertwindowsv1.AlertWindows
	if err := root.Decode(&aw); err != nil {
		ps.Add("", strings.TrimPrefix(err.Error(), "yaml: "), "durations are written like 5m, 1h or 30d; errorBudgetPercent is a number")
		return Windows{}, ps
	}
	if aw.APIVersion != alertwindowsv1.APIVersion || aw.Kind != alertwindowsv1.Kind {
		ps.Add("kind", fmt.Sprintf("%s %s is not an AlertWindows document", aw.APIVersion, aw.Kind), "start the file with apiVersion: sloth.slok.dev/v1 and kind: AlertWindows")
		return Windows{}, ps
	}
	ws := Windows{
		Period:      time.Duration(aw.Spec.SLOPeriod),
		PageQuick:   window(aw.Spec.Page.Quick),
		PageSlow:    window(aw.Spec.Page.Slow),
		TicketQuick: window(aw.Spec.Ticket.Quick),
		TicketSlow:  window(aw.Spec.Ticket.Slow),
		Source:      name,
	}
	if ws.Period <= 0 {
		ps.Add("spec.sloPeriod", "is missing", "give the SLO period these windows are for, e.g. sloPeriod: 30d")
		return ws, ps
	}
	for _, w := range []struct {
		path string
		w    Window
	}{
		{"spec.page.quick", ws.PageQuick}, {"spec.page.slow", ws.PageSlow},
		{"spec.ticket.quick", ws.TicketQuick}, {"spec.ticket.slow", ws.TicketSlow},
	} {
		switch {
		case math.IsNaN(w.w.ErrorBudgetPercent) || w.w.ErrorBudgetPercent <= 0 || w.w.ErrorBudgetPercent > 100:
			ps.Add(w.path+".errorBudgetPercent", "is missing or not in (0, 100]", "give the share of the period's budget this alert may consume within its long window, e.g. 2")
		case w.w.Short <= 0 || w.w.Long <= 0:
			ps.Add(w.path, "needs shortWindow and longWindow", "e.g. shortWindow: 5m, longWindow: 1h")
		case w.w.Short >= w.w.Long:
			ps.Add(w.path+".shortWindow", fmt.Sprintf("%s is not shorter than longWindow %s", model.Duration(w.w.Short), model.Duration(w.w.Long)), "the short window stops the alert soon after the burn ends; make it about 1/12 of the long one")
		case w.w.Long > ws.Period:
			ps.Add(w.path+".longWindow", fmt.Sprintf("%s is longer than the SLO period %s", model.Duration(w.w.Long), model.Duration(ws.Period)), "use windows within the period")
		}
	}
	if slices.Contains(ws.AlertWindows(), ws.Period) {
		ps.Add("spec.sloPeriod", "equals one of the alert windows", "the period's SLI is derived from the shortest window; use alert windows shorter than the period")
	}
	return ws, ps
}

func window(w alertwindowsv1.Window) Window {
	return Window{ErrorBudgetPercent: w.ErrorBudgetPercent, Short: time.Duration(w.ShortWindow), Long: time.Duration(w.LongWindow)}
}
