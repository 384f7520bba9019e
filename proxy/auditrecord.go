package proxy

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/tollgate-dev/tollgate/audit"
)

// requestIDs makes request IDs: a random prefix per process and a
// counter, unique across replicas and restarts without a random read per
// request.
type requestIDs struct {
	prefix string
	n      atomic.Uint64
}

func (g *requestIDs) init() {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	g.prefix = hex.EncodeToString(b[:]) + "-"
}

func (g *requestIDs) next() string {
	return g.prefix + strconv.FormatUint(g.n.Add(1), 36)
}

// auditRefusing is the 503 of audit.fail_closed while the trail cannot
// keep records.
func (s *Server) auditRefusing() *Error {
	if s.opts.Audit == nil {
		return nil
	}
	if err := s.opts.Audit.Refusing(); err != nil {
		e := Errorf(http.StatusServiceUnavailable, "%s; requests are refused until it recovers", err)
		e.Header = http.Header{"Retry-After": {"5"}}
		return e
	}
	return nil
}

// auditRecord is the request's audit record. It is built from what the
// pipeline noted, never from headers: no credential can reach it.
func (rec *recorder) auditRecord(elapsed time.Duration) audit.Record {
	r := rec.r
	out := audit.Record{
		Time:            rec.start.UTC(),
		RequestID:       rec.requestID,
		ClientRequestID: clientRequestID(r.Header.Get("X-Request-Id")),
		User:            rec.id.User,
		Groups:          rec.id.Groups,
		Tenants:         rec.access.TenantNames(),
		Admin:           rec.access.Admin,
		Source:          r.RemoteAddr,
		Authenticator:   rec.id.Method,
		API:             rec.api,
		Route:           rec.route,
		Method:          r.Method,
		Path:            r.URL.Path,
		QuerySent:       rec.p.sent,
		QueryEnforced:   rec.p.enforced,
		Decision:        audit.Allowed,
		Reason:          rec.p.reason,
		Status:          rec.status,
		Bytes:           rec.bytes,
		Duration:        elapsed.Seconds(),
		Upstream:        rec.p.upstream,
	}
	if out.Reason != "" {
		out.Decision = audit.Refused
	}
	return out
}

// clientRequestID keeps a client's X-Request-Id only if it is short and
// plain: it is the client's word, recorded for correlation.
func clientRequestID(v string) string {
	if len(v) == 0 || len(v) > 128 {
		return ""
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return ""
		}
	}
	return v
}
