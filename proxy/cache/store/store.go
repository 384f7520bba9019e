// Package store holds the results cache's bytes: in the process
// (fastcache) or in Redis, shared by replicas. Stores never hold a value
// past its TTL and treat a value they cannot read back as absent.
package store

import (
	"context"
	"time"
)

// Store is a cache backend.
type Store interface {
	// GetMulti returns the values of keys, nil where absent or expired. An
	// error means the backend could not answer: the caller treats every key
	// as absent.
	GetMulti(ctx context.Context, keys []string) ([][]byte, error)
	// Set stores a value for ttl.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Name is the backend's name in metrics (memory, redis).
	Name() string
}
