// Package api serves the cost engine through the gateway: OpenCost's
// allocation API (GET /allocation and /allocation/compute, same parameters
// and response shape, plus shareNamespaces and shareSplit), its CSV and
// FOCUS downloads (format=csv|focus), and the chargeback page under
// /ui/chargeback. It is a proxy.API: the gateway authenticates each request
// and resolves its tenants before Serve, so the caller's scope comes from
// its identity, never from a parameter.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/cost"
	"github.com/tollgate-dev/tollgate/cost/report"
	"github.com/tollgate-dev/tollgate/cost/ui"
	"github.com/tollgate-dev/tollgate/proxy"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// Options configure a Handler.
type Options struct {
	Engine *cost.Engine
	// MaxBodyBytes caps form bodies.
	MaxBodyBytes int64
	// Timeout bounds one computation.
	Timeout time.Duration
	// Now is the clock for relative windows (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Handler is the cost API.
type Handler struct {
	opts     Options
	page     *ui.Page
	settings *proxy.Settings
	routes   map[string]*proxy.Route
}

// New builds a Handler.
func New(opts Options) *Handler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{opts: opts}
	h.settings = &proxy.Settings{MaxBodyBytes: opts.MaxBodyBytes, Logger: opts.Logger}
	h.routes = h.routeTable()
	h.page = ui.New(ui.Options{Compute: h.compute, Now: opts.Now, Currency: opts.Engine.Currency(), Logger: opts.Logger})
	return h
}

// Route names.
const (
	RouteAllocation = "/allocation"
	RouteUI         = "/ui/chargeback"
	RouteUIAsset    = "/ui/chargeback/:asset"
)

// Name implements proxy.API.
func (h *Handler) Name() string { return "cost" }

// Match implements proxy.API.
func (h *Handler) Match(p string) (string, bool) {
	if rt, ok := h.route(p); ok {
		return rt.Name, true
	}
	return "", false
}

// Route implements proxy.API.
func (h *Handler) Route(p string) (*proxy.Route, string, *proxy.Error) {
	if rt, ok := h.route(p); ok {
		return rt, p, nil
	}
	return nil, "", proxy.Errorf(http.StatusNotFound, "%s is not a page of the cost engine", p)
}

func (h *Handler) route(p string) (*proxy.Route, bool) {
	switch p {
	case "/allocation", "/allocation/compute":
		return h.routes[RouteAllocation], true
	case RouteUI, RouteUI + "/":
		return h.routes[RouteUI], true
	}
	if ui.IsAsset(p) {
		return h.routes[RouteUIAsset], true
	}
	return nil, false
}

// routeTable: the allocation API, whose parameters the pipeline reads and
// checks, and the chargeback page and its assets, which read their own.
// Each answers every caller itself, admins included: the caller's access
// decides what it sees, never a parameter.
func (h *Handler) routeTable() map[string]*proxy.Route {
	return map[string]*proxy.Route{
		RouteAllocation: {Name: RouteAllocation, Params: cost.Params(), Post: true, Serve: h.serveAllocation},
		RouteUI: {Name: RouteUI, OwnsRequest: true, Serve: func(w http.ResponseWriter, c *proxy.Call) *proxy.Error {
			h.page.Serve(w, c.Request, c.Access)
			return nil
		}},
		RouteUIAsset: {Name: RouteUIAsset, OwnsRequest: true, Serve: func(w http.ResponseWriter, c *proxy.Call) *proxy.Error {
			h.page.ServeAsset(w, c.Request)
			return nil
		}},
	}
}

// Settings implements proxy.API: no enforcer and no backend, the engine
// answers.
func (h *Handler) Settings() *proxy.Settings { return h.settings }

// Admit implements proxy.API. The engine allocates one cluster's data
// and filters by namespace only, so a tenant confined to clusters would
// be shown its namespaces' cost in every cluster: it is refused until
// cost allocates per cluster.
func (h *Handler) Admit(_ *http.Request, a tenancy.Access) *proxy.Error {
	if a.ClusterConfined() {
		return proxy.Forbidden("cost for cluster-confined tenants arrives with multi-cluster cost: tenants %s are confined to clusters (tenancy.tenants[].clusters) and the cost API allocates without regard to cluster", strings.Join(a.TenantNames(), ", "))
	}
	return nil
}

// errorBody is the error shape of OpenCost's API (code, message), with
// Prometheus's status, errorType and error added, so that clients of
// either API read the gateway's refusals the same way.
type errorBody struct {
	Code      int    `json:"code"`
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Message   string `json:"message"`
	Error     string `json:"error"`
}

// WriteError implements proxy.ErrorWriter in the API's JSON format.
func (h *Handler) WriteError(w http.ResponseWriter, e *proxy.Error) {
	proxy.WriteErrorHeader(w, e, "application/json")
	_ = json.NewEncoder(w).Encode(errorBody{Code: e.Status, Status: "error", ErrorType: e.Type, Message: e.Msg, Error: e.Msg})
}

// Serve answers a request whose identity has been resolved to access a,
// through the gateway's pipeline.
func (h *Handler) Serve(w http.ResponseWriter, r *http.Request, a tenancy.Access) {
	proxy.Dispatch(h, w, r, a)
}

func (h *Handler) serveAllocation(w http.ResponseWriter, c *proxy.Call) *proxy.Error {
	r, ps := c.Request, c.Params
	format := ps.Get("format")
	if format == "" {
		format = "json"
	}
	if !slices.Contains([]string{"json", "csv", "focus"}, format) {
		return proxy.BadData("parameter %q: %q: use json, csv or focus", "format", format)
	}
	q, err := cost.ParseQuery(ps, h.opts.Now())
	if err == nil && format == "focus" {
		err = q.CheckFOCUS()
	}
	if err != nil {
		return proxy.BadData("%s", err.Error())
	}
	res, err := h.compute(r.Context(), q, c.Access)
	if err != nil {
		return h.computeError(w, r, err)
	}
	writeAllocation(w, format, q, res, func(err error) {
		h.opts.Logger.WarnContext(r.Context(), "writing an allocation response", "err", err)
	})
	return nil
}

// writeAllocation writes a result in a format, as a download for CSV.
func writeAllocation(w http.ResponseWriter, format string, q cost.Query, res *cost.Result, failed func(error)) {
	w.Header().Set("Content-Type", report.ContentType(format))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if format != "json" {
		name := fmt.Sprintf("tollgate-allocation-%s-%s", q.Start.Format("20060102T1504Z"), q.End.Format("20060102T1504Z"))
		if format == "focus" {
			name += "-focus"
		}
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name+".csv"))
	}
	if err := report.Write(w, format, res); err != nil {
		failed(err)
	}
}

func (h *Handler) compute(ctx context.Context, q cost.Query, a tenancy.Access) (*cost.Result, error) {
	if h.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.opts.Timeout)
		defer cancel()
	}
	return h.opts.Engine.Compute(ctx, q, a, nil)
}

// computeError is the answer to a failed computation: 400 for a query over
// a bound, 403 for a forbidden option, 429 beyond the caller's concurrent
// computations, 504 on timeout, else 502 with the details kept in the log
// (they name the upstream). A client that left gets nothing.
func (h *Handler) computeError(w http.ResponseWriter, r *http.Request, err error) *proxy.Error {
	var pe *cost.ParamError
	switch {
	case errors.As(err, &pe):
		return proxy.BadData("%s", err.Error())
	case errors.Is(err, cost.ErrForbidden):
		return proxy.Forbidden("%s", err.Error())
	case errors.Is(err, cost.ErrBusy):
		return proxy.Errorf(http.StatusTooManyRequests, "%s", err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return proxy.Errorf(http.StatusGatewayTimeout, "the allocation took longer than proxy.upstream_timeout; ask for a shorter window or a coarser resolution")
	case errors.Is(err, context.Canceled):
		w.WriteHeader(499)
		return nil
	}
	h.opts.Logger.ErrorContext(r.Context(), "allocation failed", "err", err)
	return proxy.Errorf(http.StatusBadGateway, "computing the allocation failed while reading Prometheus; Tollgate's log has the details")
}
