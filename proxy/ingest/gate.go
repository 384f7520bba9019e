package ingest

import (
	"fmt"
	"sync"
)

// Gate bounds how many writes are decoded at once. Each write's memory is
// bounded by the other limits; the gate bounds their sum. A write that
// finds every slot taken is refused at once rather than queued: a queue
// would hold its connection and body all the same, and the agents that
// push logs and samples retry with backoff on 429.
type Gate struct {
	slots chan struct{}
	lim   Limit
	what  string
}

// NewGate returns a gate of lim.Max slots; what names the writes in the
// refusal, in the plural ("pushes"). A gate of zero slots refuses every
// write.
func NewGate(lim Limit, what string) *Gate {
	n := max(lim.Max, 0)
	return &Gate{slots: make(chan struct{}, n), lim: lim, what: what}
}

// BusyError is a write refused by a full Gate. Callers answer it with 429
// and Retry-After.
type BusyError struct {
	What  string
	Limit Limit
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("%d %s are already in progress, the most allowed at once (%s); retry shortly", e.Limit.Max, e.What, e.Limit.Key)
}

// Enter takes a slot without waiting. It returns the function that gives
// the slot back (calling it again does nothing), or a BusyError when every
// slot is taken.
func (g *Gate) Enter() (leave func(), err error) {
	select {
	case g.slots <- struct{}{}:
		return sync.OnceFunc(func() { <-g.slots }), nil
	default:
		return nil, &BusyError{What: g.what, Limit: g.lim}
	}
}
