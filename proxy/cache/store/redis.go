package store

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/tollgate-dev/tollgate/internal/resp"
)

// Redis is a Store in Redis, shared by every replica. When Redis fails,
// it is left alone for a second: a Redis that is down costs each request
// nothing, not a timeout.
type Redis struct {
	c *resp.Client
	// downUntil is when to try Redis again after a failure (UnixNano).
	downUntil atomic.Int64
	now       func() time.Time
}

// retryAfter is how long a failed Redis is left alone.
const retryAfter = time.Second

// errDown is returned while Redis is left alone.
var errDown = errors.New("redis failed less than a second ago; not asked")

// NewRedis returns a Redis store over c.
func NewRedis(c *resp.Client) *Redis { return &Redis{c: c, now: time.Now} }

// Name implements Store.
func (*Redis) Name() string { return "redis" }

// GetMulti implements Store.
func (r *Redis) GetMulti(ctx context.Context, keys []string) ([][]byte, error) {
	if r.down() {
		return nil, errDown
	}
	vals, err := r.c.MGet(ctx, keys...)
	return vals, r.failed(err)
}

// Set implements Store.
func (r *Redis) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if r.down() {
		return errDown
	}
	return r.failed(r.c.Set(ctx, key, value, ttl))
}

func (r *Redis) down() bool { return r.now().UnixNano() < r.downUntil.Load() }

func (r *Redis) failed(err error) error {
	var re resp.Error
	if err != nil && !errors.As(err, &re) {
		r.downUntil.Store(r.now().Add(retryAfter).UnixNano())
	}
	return err
}
