package config

import (
	"fmt"
	"os"
	"time"

	"github.com/tollgate-dev/tollgate/internal/problem"
)

// Cache enables the results cache when present: Prometheus and Loki
// metric query_range answers split into intervals, and metadata answers
// (labels, label values, series) for a short time. Every key is optional.
type Cache struct {
	// Backend is memory (fastcache, in the process, the default) or redis
	// (one cache shared by every replica).
	Backend string `yaml:"backend"`
	// MaxBytes bounds the memory backend (default 256 MiB; fastcache's
	// smallest is 32 MiB).
	MaxBytes int64 `yaml:"max_bytes"`
	// MaxFreshness: samples newer than this are never cached, as they may
	// still change (default 10m).
	MaxFreshness Duration `yaml:"max_freshness"`
	// SplitInterval is the size of the cached pieces of a range (default
	// 24h).
	SplitInterval Duration `yaml:"split_interval"`
	// MetadataTTL is how long labels, label values and series answers are
	// kept (default 60s).
	MetadataTTL Duration `yaml:"metadata_ttl"`
	// ResultsTTL is how long a cached piece of a range answer is kept
	// (default 24h), so that late or backfilled samples show up in time.
	ResultsTTL Duration `yaml:"results_ttl"`
	// MaxItemBytes bounds one cached answer, and so what Tollgate reads of
	// a backend answer to cache it and of a Redis reply (default 8 MiB).
	MaxItemBytes int64      `yaml:"max_item_bytes"`
	Redis        CacheRedis `yaml:"redis"`
}

// CacheRedis is cache.redis.
type CacheRedis struct {
	Address      string `yaml:"address"`
	PasswordFile string `yaml:"password_file"`
	DB           int    `yaml:"db"`
	// Timeout bounds each Redis command (default 100ms): a slow Redis
	// costs a cache miss, not a slow answer.
	Timeout Duration `yaml:"timeout"`
}

// Cache defaults.
const (
	CacheMemory              = "memory"
	CacheRedisBackend        = "redis"
	DefaultCacheMaxBytes     = 256 << 20
	DefaultCacheMaxFreshness = 10 * time.Minute
	DefaultCacheSplit        = 24 * time.Hour
	DefaultCacheMetadataTTL  = time.Minute
	DefaultCacheResultsTTL   = 24 * time.Hour
	DefaultCacheMaxItemBytes = 8 << 20
	DefaultCacheRedisTimeout = 100 * time.Millisecond
	minCacheMaxBytes         = 32 << 20
)

// ApplyDefaults fills in the cache's optional settings.
func (c *Cache) ApplyDefaults() {
	if c.Backend == "" {
		c.Backend = CacheMemory
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultCacheMaxBytes
	}
	for _, d := range []struct {
		v   *Duration
		def time.Duration
	}{{&c.MaxFreshness, DefaultCacheMaxFreshness}, {&c.SplitInterval, DefaultCacheSplit}, {&c.MetadataTTL, DefaultCacheMetadataTTL},
		{&c.ResultsTTL, DefaultCacheResultsTTL}, {&c.Redis.Timeout, DefaultCacheRedisTimeout}} {
		if *d.v == 0 {
			*d.v = Duration(d.def)
		}
	}
	if c.MaxItemBytes == 0 {
		c.MaxItemBytes = DefaultCacheMaxItemBytes
	}
}

func (c *Cache) validate() problem.List {
	var ps problem.List
	switch c.Backend {
	case CacheMemory:
		if c.MaxBytes < minCacheMaxBytes {
			ps.Add("cache.max_bytes", fmt.Sprintf("%d is under fastcache's smallest size, 32 MiB", c.MaxBytes), "give at least 33554432, or leave it out for 256 MiB")
		}
	case CacheRedisBackend:
		c.validateRedis(&ps)
	default:
		ps.Add("cache.backend", fmt.Sprintf("%q is not a cache backend", c.Backend), "write memory (in the process, the default) or redis (shared by replicas; set cache.redis.address)")
	}
	if c.SplitInterval < Duration(time.Minute) {
		ps.Add("cache.split_interval", "is under a minute", "leave it out for 24h, or give a duration such as 6h")
	}
	if c.MaxItemBytes < 0 {
		ps.Add("cache.max_item_bytes", "is negative", "leave it out for 8 MiB, or give a size in bytes")
	}
	return ps
}

func (c *Cache) validateRedis(ps *problem.List) {
	r := c.Redis
	if r.Address == "" {
		ps.Add("cache.redis.address", "is missing while cache.backend is redis", "give Redis's HOST:PORT, e.g. redis:6379")
	} else {
		checkAddress(ps, "cache.redis.address", r.Address, "redis:6379")
	}
	if r.DB < 0 {
		ps.Add("cache.redis.db", "is negative", "give a database number, 0 by default")
	}
	if r.PasswordFile != "" {
		if _, err := os.Stat(r.PasswordFile); err != nil {
			ps.Add("cache.redis.password_file", err.Error(), "give the path of a file holding Redis's password (a mounted Secret)")
		}
	}
}
