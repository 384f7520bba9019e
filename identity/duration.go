package identity

import "github.com/tollgate-dev/tollgate/internal/yamlduration"

// Duration is the configuration's duration ("30s", "5m", "1h30m").
type Duration = yamlduration.Duration
