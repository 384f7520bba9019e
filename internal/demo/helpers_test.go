package demo

import (
	"testing"
	"time"
)

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		6 * time.Hour:                "6h",
		90 * time.Minute:             "1h30m",
		30 * time.Second:             "30s",
		5 * time.Minute:              "5m",
		time.Hour + 10*time.Second:   "1h0m10s",
		50 * time.Millisecond:        "50ms",
		10 * time.Minute:             "10m",
		2*time.Hour + 30*time.Second: "2h0m30s",
	} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%s) = %q, want %q", d, got, want)
		}
	}
}
