package synth

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// Window is the time range and resolution to generate.
type Window struct {
	Start, End time.Time
	Step       time.Duration
}

func (w Window) times() []time.Time {
	var ts []time.Time
	for t := w.Start; !t.After(w.End); t = t.Add(w.Step) {
		ts = append(ts, t)
	}
	return ts
}

// WriteOpenMetrics writes the series over the window in the OpenMetrics text
// format that `promtool tsdb create-blocks-from openmetrics` reads: one
// family at a time, each series' samples in time order.
func WriteOpenMetrics(w io.Writer, series []Series, win Window) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	ts := win.times()
	byFamily := map[string][]Series{}
	var families []string
	for _, s := range series {
		name := s.Name()
		if _, ok := byFamily[name]; !ok {
			families = append(families, name)
		}
		byFamily[name] = append(byFamily[name], s)
	}
	for _, fam := range families {
		// Every family is declared as gauge: OpenMetrics counters must end in
		// _total and histograms must be complete, constraints the raw
		// series of a backfill need not meet. Types do not reach the TSDB.
		fmt.Fprintf(bw, "# TYPE %s gauge\n", fam)
		for _, s := range byFamily[fam] {
			prefix := seriesText(s.Labels)
			for _, t := range ts {
				bw.WriteString(prefix)
				bw.WriteByte(' ')
				bw.WriteString(strconv.FormatFloat(s.Value(t), 'g', -1, 64))
				bw.WriteByte(' ')
				bw.WriteString(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64))
				bw.WriteByte('\n')
			}
		}
	}
	bw.WriteString("# EOF\n")
	return bw.Flush()
}

func seriesText(ls labels.Labels) string {
	var b strings.Builder
	b.WriteString(ls.Get(labels.MetricName))
	b.WriteByte('{')
	first := true
	ls.Range(func(l labels.Label) {
		if l.Name == labels.MetricName {
			return
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(l.Name)
		b.WriteString(`="`)
		b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(l.Value))
		b.WriteByte('"')
	})
	b.WriteByte('}')
	return b.String()
}

// Append writes the series over the window into a storage, one commit per
// timestamp so that a TSDB head receives samples in time order.
func Append(ctx context.Context, app storage.Appendable, series []Series, win Window) error {
	refs := make([]storage.SeriesRef, len(series))
	for _, t := range win.times() {
		if err := ctx.Err(); err != nil {
			return err
		}
		a := app.Appender(ctx)
		ms := t.UnixMilli()
		for i, s := range series {
			ref, err := a.Append(refs[i], s.Labels, ms, s.Value(t))
			if err != nil {
				_ = a.Rollback()
				return fmt.Errorf("appending %s at %s: %w", s.Labels, t.Format(time.RFC3339), err)
			}
			refs[i] = ref
		}
		if err := a.Commit(); err != nil {
			return fmt.Errorf("committing samples at %s: %w", t.Format(time.RFC3339), err)
		}
	}
	return nil
}
