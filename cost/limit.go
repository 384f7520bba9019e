package cost

import (
	"errors"
	"fmt"
	"sync"

	"github.com/tollgate-dev/tollgate/tenancy"
)

// ErrBusy marks a computation refused because its tenant already has as
// many running as cost.max_concurrent_per_tenant allows (429).
var ErrBusy = errors.New("too many concurrent allocations")

// limiter counts the computations in flight per tenant. An identity of
// several tenants takes a slot of each, so that belonging to two tenants
// does not double one's share; admins share one budget of their own.
type limiter struct {
	max     int
	mu      sync.Mutex
	running map[string]int
}

func newLimiter(perKey int) *limiter { return &limiter{max: perKey, running: map[string]int{}} }

// callerKeys names the budgets a caller draws on.
func callerKeys(a tenancy.Access) []string {
	if a.Admin {
		return []string{"admins"}
	}
	names := a.TenantNames()
	if len(names) == 0 {
		return []string{"callers without a tenant"}
	}
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = "tenant " + n
	}
	return keys
}

// acquire takes a slot of every key, or none when one is full.
func (l *limiter) acquire(keys []string) (release func(), err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if l.running[k] >= l.max {
			return nil, fmt.Errorf("%w: %s already has %d allocations computing, as many as cost.max_concurrent_per_tenant allows; retry when one has finished", ErrBusy, k, l.running[k])
		}
	}
	for _, k := range keys {
		l.running[k]++
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			for _, k := range keys {
				if l.running[k]--; l.running[k] == 0 {
					delete(l.running, k)
				}
			}
		})
	}, nil
}
