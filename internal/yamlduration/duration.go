// Package yamlduration is the duration of Tollgate's YAML configuration,
// one type for every package whose configuration section has durations
// (internal/config, identity, audit, limits), since the configuration
// imports those packages and they cannot import it.
package yamlduration

import (
	"fmt"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written as "500ms", "30s", "5m", "1h30m" or
// "7d" in YAML.
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler. Prometheus's syntax is read
// first, for days and weeks ("7d", "2w"), then Go's ("1h30m0s" and "1.5h",
// as Go prints and reads durations). Negative durations are refused.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if v, err := model.ParseDuration(n.Value); err == nil {
		*d = Duration(v)
		return nil
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: %q is not a duration; write it like 30s, 5m, 1h30m or 7d", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}
