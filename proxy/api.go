package proxy

import (
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/tollgate-dev/tollgate/proxy/upstream"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// API is one upstream API family served by the gateway: the paths it
// owns, the routes it serves tenants, how it confines and where it
// forwards them, and its error format. Everything else is the pipeline's
// (Server.ServeHTTP, then Dispatch), the same for every API: a new API
// adds a route table and an enforcer, not a copy of the path.
type API interface {
	ErrorWriter
	// Name labels metrics and logs ("prometheus").
	Name() string
	// Match reports whether the API owns a path, and the route name to
	// record for it.
	Match(path string) (route string, ok bool)
	// Route returns the route serving a path, with the path to send
	// upstream, or the refusal for an owned path that is not served to
	// tenants.
	Route(path string) (*Route, string, *Error)
	// Admit checks what the API requires of every request before
	// anything else is done with it; nil admits.
	Admit(r *http.Request, a tenancy.Access) *Error
	// Settings are the API's request limits, enforcer and backend.
	Settings() *Settings
}

// Settings are what the pipeline needs of an API besides its routes.
type Settings struct {
	// MaxBodyBytes caps form bodies (proxy.max_body_bytes).
	MaxBodyBytes int64
	// ExtraParams are accepted on every route (proxy.extra_params).
	ExtraParams []string
	// Enforcer confines the API's query language; nil if it has none.
	Enforcer Enforcer
	// Backend is where confined requests go; nil for an API that answers
	// every route itself (cost).
	Backend *Backend
	Logger  *slog.Logger
}

// Enforcer confines one query language to a tenant's matcher.
type Enforcer interface {
	// Query confines a query and returns it printed again.
	Query(q string, m *labels.Matcher) (string, error)
	// Selector confines a series or stream selector (match[]).
	Selector(sel string, m *labels.Matcher) (string, error)
	// MatchAll is the selector of all of the tenant's series.
	MatchAll(m *labels.Matcher) string
	// CheckBounds holds a query forwarded as written to the query bounds.
	CheckBounds(q string) error
	// Refused reports whether an error of the others means "cannot be
	// confined" (403) rather than "invalid" (400).
	Refused(err error) bool
}

// Backend is one upstream and how requests to it are dressed.
type Backend struct {
	Upstream *upstream.Upstream
	// Timeout bounds each request (proxy.upstream_timeout), except routes
	// that stream.
	Timeout time.Duration
	// Decorate sets what a request carries besides its parameters: the
	// org ID header that Tollgate, never the client, chooses.
	Decorate func(out *http.Request, a tenancy.Access)
	// Admin reports whether an admin's request to path passes
	// unrewritten, the headers it may carry besides upstream.Forwarded,
	// and its timeout (0 for none).
	Admin func(path string) (pass bool, headers []string, timeout time.Duration)
	// Cache answers the routes that opt in (Route.Cache) from the results
	// cache; nil without a `cache:` section.
	Cache Cacher
}

// Cacher answers a confined call of a cacheable route, from the cache
// where it can and through ForwardDirect where it cannot. Admins' calls
// never reach it: they pass unrewritten, so their answers are never
// cached for anyone.
type Cacher interface {
	Serve(w http.ResponseWriter, c *Call, b *Backend) *Error
}

// CacheRule says whether and how a route's answers are cached.
type CacheRule int

// Cache rules.
const (
	CacheNone     CacheRule = iota
	CacheRange              // query_range: split into intervals, merged
	CacheMetadata           // labels, label values, series: whole answers, briefly
)

// QueryRule says what a route's `query` parameter is.
type QueryRule int

// Query rules.
const (
	QueryNone     QueryRule = iota // no query language in `query`
	QueryRequired                  // confined; missing is 400
	QueryOptional                  // confined; missing means all the tenant's series
	QueryBounded                   // forwarded as written within the query bounds (format_query)
)

// MatchRule says what a route's `match[]` parameters are.
type MatchRule int

// Match rules.
const (
	MatchNone     MatchRule = iota
	MatchConfined           // each confined; none means all the tenant's series
	MatchBounded            // forwarded as written within the query bounds
)

// Route is one path an API serves: which parameters it takes, how they
// are confined, and who answers it.
type Route struct {
	// Name labels metrics and logs; path parameters appear as :name.
	Name string
	// Params are the parameters the route accepts from tenants.
	Params []string
	// Post is true where the backend accepts POST; a tenant's POST
	// elsewhere is sent as GET.
	Post  bool
	Query QueryRule
	Match MatchRule
	// Prepare runs on the parameters before they are confined.
	Prepare func(ps url.Values) *Error
	// Stream routes (live tail) have no timeout and forward Headers too
	// (the websocket handshake).
	Stream  bool
	Headers []string
	// OwnsRequest routes read the request themselves (a push body, a
	// page's own parameters): the pipeline reads no parameters for them.
	OwnsRequest bool
	// Serve answers the route; nil forwards it to the Backend.
	Serve Handler
	// Cache opts the route into the results cache.
	Cache CacheRule
}

// Handler answers a call, or returns the error to render instead.
type Handler func(w http.ResponseWriter, c *Call) *Error

// Call is a request on its way through the pipeline.
type Call struct {
	Request *http.Request
	Access  tenancy.Access
	Route   *Route
	// Path is the path to send upstream.
	Path string
	// Params are the request's parameters, confined.
	Params url.Values
}

// NewUpstream builds an API's upstream: its own failures (unreachable,
// timed out, an error answer screened) are rendered by the API's writer.
func NewUpstream(base *url.URL, name string, transport http.RoundTripper, logger *slog.Logger, errs ErrorWriter) *upstream.Upstream {
	return upstream.New(upstream.Options{
		Base:      base,
		Name:      name,
		Transport: transport,
		Logger:    logger,
		WriteError: func(w http.ResponseWriter, status int, msg string) {
			errs.WriteError(w, Errorf(status, "%s", msg))
		},
	})
}
