package demo

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestRelayLog(t *testing.T) {
	var out bytes.Buffer
	relay := relayLog(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{
		Level: slog.LevelInfo,
		// No time, so that the output can be compared.
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})).With("component", "prometheus"))
	for _, line := range []string{
		`{"time":"2026-01-01T00:00:00Z","level":"INFO","msg":"loaded synthetic history","series":276,"from":"2026-01-01T00:00:00Z","step":"30s","ratio":0.5,"ok":true,"group":{"a":1}}`,
		`{"time":"2026-01-01T00:00:00Z","level":"DEBUG","msg":"below the demo's level"}`,
		`{"time":"2026-01-01T00:00:00Z","level":"WARN","msg":"appending live synthetic samples","err":"out of bounds"}`,
		`panic: something broke`,
		`{"msg":"no level"}`,
		``,
	} {
		relay(line)
	}
	want := strings.Join([]string{
		`level=INFO msg="loaded synthetic history" component=prometheus series=276 from=2026-01-01T00:00:00Z step=30s ratio=0.5 ok=true group="{\"a\":1}"`,
		`level=WARN msg="appending live synthetic samples" component=prometheus err="out of bounds"`,
		`level=WARN msg="demo Prometheus output" component=prometheus line="panic: something broke"`,
		`level=WARN msg="demo Prometheus output" component=prometheus line="{\"msg\":\"no level\"}"`,
	}, "\n") + "\n"
	if got := out.String(); got != want {
		t.Errorf("relayed:\n%s\nwant:\n%s", got, want)
	}
}
