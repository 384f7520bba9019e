package gateway

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/resp"
	"github.com/tollgate-dev/tollgate/proxy"
	"github.com/tollgate-dev/tollgate/proxy/cache"
	"github.com/tollgate-dev/tollgate/proxy/cache/store"
)

// caches builds one results cache per API over one store, or none without
// a `cache:` section (nil interfaces, not typed nils).
type caches struct {
	cfg     *config.Cache
	store   store.Store
	metrics *cache.Metrics
	logger  *slog.Logger
}

func newCaches(cfg *config.Cache, reg prometheus.Registerer, logger *slog.Logger) (*caches, error) {
	if cfg == nil {
		return &caches{}, nil
	}
	st, err := newStore(cfg)
	if err != nil {
		return nil, err
	}
	m, err := cache.NewMetrics(reg, st)
	if err != nil {
		return nil, err
	}
	return &caches{cfg: cfg, store: st, metrics: m, logger: logger}, nil
}

func newStore(cfg *config.Cache) (store.Store, error) {
	switch cfg.Backend {
	case config.CacheMemory:
		return store.NewMemory(cfg.MaxBytes), nil
	case config.CacheRedisBackend:
		return newRedisStore(cfg)
	}
	return nil, fmt.Errorf("cache.backend: %q is not a cache backend", cfg.Backend)
}

// forAPI returns an API's cache, nil when caching is off.
func (cs *caches) forAPI(api string, codec cache.Codec) proxy.Cacher {
	if cs.cfg == nil {
		return nil
	}
	return cache.New(cache.Options{
		API: api, Store: cs.store, Codec: codec, Metrics: cs.metrics,
		MaxFreshness:  time.Duration(cs.cfg.MaxFreshness),
		SplitInterval: time.Duration(cs.cfg.SplitInterval),
		MetadataTTL:   time.Duration(cs.cfg.MetadataTTL),
		ResultsTTL:    time.Duration(cs.cfg.ResultsTTL),
		MaxItemBytes:  cs.cfg.MaxItemBytes,
		Logger:        cs.logger,
	})
}

// newRedisStore connects lazily: a Redis down at start-up is a cache
// that misses, not a gateway that does not start.
func newRedisStore(cfg *config.Cache) (store.Store, error) {
	var password string
	if f := cfg.Redis.PasswordFile; f != "" {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("cache.redis.password_file: %w", err)
		}
		password = strings.TrimRight(string(raw), "\r\n")
	}
	return store.NewRedis(resp.New(resp.Options{
		Addr: cfg.Redis.Address, Password: password, DB: cfg.Redis.DB,
		Timeout: time.Duration(cfg.Redis.Timeout), MaxReplyBytes: cfg.MaxItemBytes,
	})), nil
}
