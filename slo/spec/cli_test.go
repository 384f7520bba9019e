package spec_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/slo/plugins"
	"github.com/tollgate-dev/tollgate/slo/spec"
)

// A plugin on the command line is read as Sloth's --slo-plugins reads it,
// and checked as a spec's chain entry is, its problems naming the flag.
func TestCommandLinePlugin(t *testing.T) {
	p, ps := spec.CommandLinePlugin("--slo-plugins[0]", `{"id": "sloth.dev/contrib/rule_intervals/v1", "priority": 100, "config": {"interval": {"default": "1m"}}}`)
	if len(ps) != 0 || p.ID != plugins.RuleIntervals || p.Priority != 100 || p.Path != "--slo-plugins[0]" || p.Config.(*plugins.RuleIntervalsConfig).Default != time.Minute {
		t.Fatalf("%+v %v", p, ps)
	}
	for value, want := range map[string]string{
		`{"id": "sloth.dev/contrib/rule_intervals/v1", "config": {"interval": {"default": "1x"}}}`: `command line: --slo-plugins[0].config.interval.default: "1x" is not a duration`,
		`{"id": "sloth.dev/contrib/rule_intervals/v1", "confg": {}}`:                               `command line: --slo-plugins[0].confg: unknown key (fix: valid keys here are: config, id, priority; did you mean "config"?)`,
		`{"id": "acme/x/v1"}`: `command line: --slo-plugins[0].id: "acme/x/v1" is not a built-in plugin: Tollgate does not run plugins given as Go source`,
		`{"id": "sloth.dev/core/noop/v1", "priority": "high"}`: `command line: --slo-plugins[0].priority: "high" is not a number`,
		`sloth.dev/core/noop/v1`:                               `command line: --slo-plugins[0]: is not a JSON object`,
	} {
		_, ps := spec.CommandLinePlugin("--slo-plugins[0]", value)
		if len(ps) == 0 || !strings.Contains(ps[0].String(), want) {
			t.Errorf("%s: %v, want %q", value, ps, want)
		}
	}
}
