// Package memo keeps the queries an enforcer rewrote, keyed by the query
// and the tenant's matcher: dashboards send the same few hundred queries
// again and again, and parsing, confining and checking one costs tens of
// microseconds where a hit costs well under one. Errors are not kept.
package memo

import (
	"container/list"
	"sync"

	"github.com/prometheus/prometheus/model/labels"
)

// Inner is the enforcer memoized (proxy.Enforcer).
type Inner interface {
	Query(q string, m *labels.Matcher) (string, error)
	Selector(sel string, m *labels.Matcher) (string, error)
	MatchAll(m *labels.Matcher) string
	CheckBounds(q string) error
	Refused(err error) bool
}

// Bounds of the memo: entries kept, and the longest query kept (longer
// ones are rare and are confined every time).
const (
	maxEntries  = 4096
	maxKeyBytes = 4096
)

// Enforcer is Inner with its Query and Selector results kept in an LRU.
type Enforcer struct {
	Inner
	mu    sync.Mutex
	ll    *list.List
	index map[string]*list.Element
}

type entry struct{ key, out string }

// New wraps inner.
func New(inner Inner) *Enforcer {
	return &Enforcer{Inner: inner, ll: list.New(), index: map[string]*list.Element{}}
}

// Query implements proxy.Enforcer.
func (e *Enforcer) Query(q string, m *labels.Matcher) (string, error) {
	return e.memo('q', q, m, e.Inner.Query)
}

// Selector implements proxy.Enforcer.
func (e *Enforcer) Selector(sel string, m *labels.Matcher) (string, error) {
	return e.memo('s', sel, m, e.Inner.Selector)
}

func (e *Enforcer) memo(kind byte, q string, m *labels.Matcher, f func(string, *labels.Matcher) (string, error)) (string, error) {
	if len(q) > maxKeyBytes || m == nil {
		return f(q, m)
	}
	// The matcher's type, name and value in full: two scopes share an
	// entry only when they are the same scope.
	key := string(kind) + m.Type.String() + "\x00" + m.Name + "\x00" + m.Value + "\x00" + q
	e.mu.Lock()
	if el, ok := e.index[key]; ok {
		e.ll.MoveToFront(el)
		out := el.Value.(*entry).out
		e.mu.Unlock()
		return out, nil
	}
	e.mu.Unlock()
	out, err := f(q, m)
	if err != nil {
		return out, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.index[key]; !ok {
		e.index[key] = e.ll.PushFront(&entry{key: key, out: out})
		if e.ll.Len() > maxEntries {
			last := e.ll.Back()
			e.ll.Remove(last)
			delete(e.index, last.Value.(*entry).key)
		}
	}
	return out, nil
}
