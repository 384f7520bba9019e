package windows_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/slo/windows"
)

const day = 24 * time.Hour

// The built-in windows are Sloth's, and give Sloth's burn factors
// (test/integration/prometheus/testdata/out-base-28d.yaml.tpl).
func TestDefaultFactors(t *testing.T) {
	for period, want := range map[time.Duration][4]string{
		30 * day: {"14.4", "6", "3", "1"},
		28 * day: {"13.44", "5.6000000000000005", "2.8000000000000003", "0.9333333333333333"},
	} {
		ws, err := windows.Default().Get(period)
		if err != nil {
			t.Fatal(err)
		}
		var got [4]string
		for i, w := range []windows.Window{ws.PageQuick, ws.PageSlow, ws.TicketQuick, ws.TicketSlow} {
			got[i] = fmt.Sprint(ws.Factor(w))
		}
		if got != want {
			t.Errorf("%s: factors %v, want %v", period, got, want)
		}
		wantWindows := []time.Duration{5 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 6 * time.Hour, day, 3 * day}
		if !slices.Equal(ws.AlertWindows(), wantWindows) {
			t.Errorf("%s: windows %v", period, ws.AlertWindows())
		}
	}
	if _, err := windows.Default().Get(7 * day); err == nil || !strings.Contains(err.Error(), "no alert windows for an SLO period of 1w; periods with windows: 4w, 30d") {
		t.Errorf("7d: %v", err)
	}
}

func TestLoadAddsAndReplacesPeriods(t *testing.T) {
	dir := t.TempDir()
	write := func(name, period, pageQuickShort string) {
		t.Helper()
		doc := fmt.Sprintf(`apiVersion: sloth.slok.dev/v1
kind: AlertWindows
spec:
  sloPeriod: %s
  page:
    quick: {errorBudgetPercent: 2, shortWindow: %s, longWindow: 1h}
    slow: {errorBudgetPercent: 5, shortWindow: 30m, longWindow: 6h}
  ticket:
    quick: {errorBudgetPercent: 10, shortWindow: 2h, longWindow: 1d}
    slow: {errorBudgetPercent: 10, shortWindow: 6h, longWindow: 3d}
`, period, pageQuickShort)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("7d.yaml", "7d", "5m")
	write("30d.yml", "30d", "2m")
	cat, ps, err := windows.Load(dir)
	if err != nil {
		t.Fatal(err, ps)
	}
	if got := cat.Periods(); !slices.Equal(got, []time.Duration{7 * day, 28 * day, 30 * day}) {
		t.Errorf("periods %v", got)
	}
	ws, _ := cat.Get(30 * day)
	if ws.PageQuick.Short != 2*time.Minute || !strings.HasSuffix(ws.Source, "30d.yml") {
		t.Errorf("30d not replaced: %+v", ws)
	}
	write("other-30d.yaml", "30d", "3m")
	// Both places are named, at the line of sloPeriod (line 4).
	want := filepath.Join(dir, "other-30d.yaml") + ":4: spec.sloPeriod: period 30d is already defined, differently, at " + filepath.Join(dir, "30d.yml") + ":4"
	if _, ps, err = windows.Load(dir); err == nil || !strings.Contains(ps.Err().Error(), want) {
		t.Errorf("conflicting files: %v, want %q", err, want)
	}
}

func TestInvalidWindows(t *testing.T) {
	_, ps := windows.Parse("w.yaml", []byte(`apiVersion: sloth.slok.dev/v1
kind: AlertWindows
spec:
  sloPeriod: 1d
  page:
    quick: {errorBudgetPercent: 2, shortWindow: 1h, longWindow: 5m}
    slow: {errorBudgetPercent: 0, shortWindow: 30m, longWindow: 6h}
  ticket:
    quick: {errorBudgetPercent: 10, shortWindow: 2h, longWindow: 2d}
    slow: {errorBudgetPercent: 10, shortWindw: 6h, longWindow: 1d}
`))
	out := ps.Err().Error()
	for _, want := range []string{
		"w.yaml:6:36: spec.page.quick.shortWindow: 1h is not shorter than longWindow 5m",
		"w.yaml:7:12: spec.page.slow.errorBudgetPercent: is missing or not in (0, 100]",
		"w.yaml:9:54: spec.ticket.quick.longWindow: 2d is longer than the SLO period 1d",
		`w.yaml:10:36: spec.ticket.slow.shortWindw: unknown key`,
		"spec.sloPeriod: equals one of the alert windows",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}
