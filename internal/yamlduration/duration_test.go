package yamlduration

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestDurations(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"500ms": 500 * time.Millisecond, "30s": 30 * time.Second, "1h30m": 90 * time.Minute,
		"1h30m0s": 90 * time.Minute, "1.5h": 90 * time.Minute, "7d": 7 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "0": 0,
	} {
		var d Duration
		if err := yaml.Unmarshal([]byte(in), &d); err != nil || time.Duration(d) != want {
			t.Errorf("%q: %v, %v; want %v", in, time.Duration(d), err, want)
		}
	}
	for _, in := range []string{"soon", "-5m", "30", "5 m"} {
		var d Duration
		err := yaml.Unmarshal([]byte("\n"+in), &d)
		if err == nil || !strings.Contains(err.Error(), "line 2: \""+in+"\" is not a duration; write it like") {
			t.Errorf("%q: %v; want the line and the fix", in, err)
		}
	}
}
