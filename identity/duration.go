package identity

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written as "30s", "5m" or "1h30m" in YAML.
// (internal/config has its own; identity cannot import it, since the
// configuration imports identity.)
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: %q is not a duration; write it like 30s, 5m or 1h30m", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}
