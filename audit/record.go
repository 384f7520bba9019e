package audit

import (
	"net/url"
	"time"
)

// Record is one audited request. It holds no credential: no header is
// recorded, and the query is the parameters the route accepts, which
// never include a token.
type Record struct {
	Time      time.Time `json:"time"`
	RequestID string    `json:"request_id"`
	// ClientRequestID is the X-Request-Id the client sent, if well formed:
	// for correlation only, since any client may send any value.
	ClientRequestID string   `json:"client_request_id,omitempty"`
	User            string   `json:"user"`
	Groups          []string `json:"groups"`
	Tenants         []string `json:"tenants"`
	Admin           bool     `json:"admin"`
	Source          string   `json:"source"`
	// Authenticator is "header", "oidc", "token", or "" when none
	// accepted the request.
	Authenticator string `json:"authenticator"`
	API           string `json:"api"`
	Route         string `json:"route"`
	Method        string `json:"method"`
	Path          string `json:"path"`
	// QuerySent are the request's parameters as the client sent them;
	// QueryEnforced as Tollgate sent them upstream (tenant matcher added).
	QuerySent     url.Values `json:"query_sent"`
	QueryEnforced url.Values `json:"query_enforced"`
	// Decision is "allowed" or "refused"; Reason says why it was refused.
	Decision string  `json:"decision"`
	Reason   string  `json:"reason,omitempty"`
	Status   int     `json:"status"`
	Bytes    int64   `json:"bytes"`
	Duration float64 `json:"duration_seconds"`
	// Upstream is the URL (without query) the request was forwarded to.
	Upstream string `json:"upstream,omitempty"`
	// Changes are what a dashboard provisioning changed in Grafana.
	Changes []string `json:"changes,omitempty"`
}

// Decisions.
const (
	Allowed = "allowed"
	Refused = "refused"
)
