package store

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/VictoriaMetrics/fastcache"
)

// Memory is a Store in the process: fastcache, bounded by its size (a
// ring of 64 KiB chunks per bucket: the oldest entries are overwritten
// when it is full) and with no garbage collector cost.
type Memory struct {
	c   *fastcache.Cache
	now func() time.Time
}

// NewMemory returns a Memory of at most maxBytes (fastcache rounds it up
// to at least 32 MiB).
func NewMemory(maxBytes int64) *Memory {
	return &Memory{c: fastcache.New(int(maxBytes)), now: time.Now}
}

// Name implements Store.
func (*Memory) Name() string { return "memory" }

// GetMulti implements Store. Each value carries its expiry in its first
// eight bytes: fastcache has no TTL of its own.
func (m *Memory) GetMulti(_ context.Context, keys []string) ([][]byte, error) {
	out := make([][]byte, len(keys))
	now := uint64(m.now().UnixNano())
	for i, k := range keys {
		v := m.c.GetBig(nil, []byte(k))
		if len(v) < 8 || binary.BigEndian.Uint64(v) < now {
			continue
		}
		out[i] = v[8:]
	}
	return out, nil
}

// Set implements Store.
func (m *Memory) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	v := make([]byte, 8, 8+len(value))
	binary.BigEndian.PutUint64(v, uint64(m.now().Add(ttl).UnixNano()))
	m.c.SetBig([]byte(key), append(v, value...))
	return nil
}

// Stats are the memory store's size for metrics.
type Stats struct {
	Bytes, Entries, Evictions uint64
}

// Stats returns the store's size now. Evictions are the entries written
// but no longer held: overwritten by a newer value of the same key or
// dropped to make room.
func (m *Memory) Stats() Stats {
	var s fastcache.Stats
	m.c.UpdateStats(&s)
	ev := uint64(0)
	if s.SetCalls > s.EntriesCount {
		ev = s.SetCalls - s.EntriesCount
	}
	return Stats{Bytes: s.BytesSize, Entries: s.EntriesCount, Evictions: ev}
}
