package cache

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-dev/tollgate/proxy/cache/store"
)

// Metrics are the cache's metrics, shared by every API's Cache and
// labelled by API.
type Metrics struct {
	hits, partial, misses *prometheus.CounterVec
	stored                *prometheus.CounterVec
	errors                *prometheus.CounterVec
	coalesced             *prometheus.CounterVec
}

// NewMetrics builds the metrics and registers them with reg (nil: not
// registered). A memory store's size and evictions are exported too.
func NewMetrics(reg prometheus.Registerer, st store.Store) (*Metrics, error) {
	vec := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	m := &Metrics{
		hits:    vec("tollgate_cache_hits_total", "Answers served wholly from the results cache, by API and kind (range, metadata).", "api", "kind"),
		partial: vec("tollgate_cache_partial_hits_total", "Range answers served partly from the results cache, the rest fetched, by API.", "api", "kind"),
		misses:  vec("tollgate_cache_misses_total", "Cacheable requests answered without the cache's help, by API and kind.", "api", "kind"),
		stored:  vec("tollgate_cache_stored_bytes_total", "Bytes written to the cache backend, by API.", "api"),
		errors:  vec("tollgate_cache_backend_errors_total", "Cache backend operations that failed (the request went on without the cache), by API and backend.", "api", "backend"),
		coalesced: vec("tollgate_cache_coalesced_fetches_total",
			"Requests for part of a range answered by an identical request already in progress instead of being sent to the backend, by API.", "api"),
	}
	cs := []prometheus.Collector{m.hits, m.partial, m.misses, m.stored, m.errors, m.coalesced}
	if mem, ok := st.(*store.Memory); ok {
		cs = append(cs, memoryCollectors(mem)...)
	}
	if reg != nil {
		for _, c := range cs {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("registering the cache metrics: %w", err)
			}
		}
	}
	return m, nil
}

func memoryCollectors(mem *store.Memory) []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tollgate_cache_memory_bytes", Help: "Bytes held by the memory cache (at most cache.max_bytes)."},
			func() float64 { return float64(mem.Stats().Bytes) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tollgate_cache_memory_entries", Help: "Entries held by the memory cache."},
			func() float64 { return float64(mem.Stats().Entries) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tollgate_cache_evictions_total", Help: "Entries of the memory cache no longer held: dropped to make room or replaced by a newer value of the same key."},
			func() float64 { return float64(mem.Stats().Evictions) }),
	}
}
