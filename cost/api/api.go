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
	"time"

	"github.com/tollgate-dev/tollgate/cost"
	"github.com/tollgate-dev/tollgate/cost/report"
	"github.com/tollgate-dev/tollgate/cost/ui"
	"github.com/tollgate-dev/tollgate/proxy/params"
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
	opts Options
	page *ui.Page
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
	switch p {
	case "/allocation", "/allocation/compute":
		return RouteAllocation, true
	case RouteUI, RouteUI + "/":
		return RouteUI, true
	}
	if ui.IsAsset(p) {
		return RouteUIAsset, true
	}
	return "", false
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

// WriteError implements proxy.API.
func (h *Handler) WriteError(w http.ResponseWriter, status int, errorType, msg string) {
	WriteError(w, status, errorType, msg)
}

// WriteError writes an error in the API's JSON format.
func WriteError(w http.ResponseWriter, status int, errorType, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tollgate"`)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(errorBody{Code: status, Status: "error", ErrorType: errorType, Message: msg, Error: msg})
}

// Serve implements proxy.API.
func (h *Handler) Serve(w http.ResponseWriter, r *http.Request, a tenancy.Access) {
	switch p := r.URL.Path; {
	case p == "/allocation" || p == "/allocation/compute":
		h.serveAllocation(w, r, a)
	case ui.IsAsset(p):
		h.page.ServeAsset(w, r)
	default:
		h.page.Serve(w, r, a)
	}
}

func (h *Handler) serveAllocation(w http.ResponseWriter, r *http.Request, a tenancy.Access) {
	ps, err := params.Read(r, h.opts.MaxBodyBytes)
	if err == nil {
		err = params.Check(ps, cost.Params(), nil)
	}
	if err != nil {
		WriteError(w, params.Status(err), "bad_data", err.Error())
		return
	}
	format := ps.Get("format")
	if format == "" {
		format = "json"
	}
	if !slices.Contains([]string{"json", "csv", "focus"}, format) {
		WriteError(w, http.StatusBadRequest, "bad_data", fmt.Sprintf("parameter %q: %q: use json, csv or focus", "format", format))
		return
	}
	q, err := cost.ParseQuery(ps, h.opts.Now())
	if err == nil && format == "focus" {
		err = q.CheckFOCUS()
	}
	if err != nil {
		WriteError(w, http.StatusBadRequest, "bad_data", err.Error())
		return
	}
	res, err := h.compute(r.Context(), q, a)
	if err != nil {
		h.computeError(w, r, err)
		return
	}
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
		h.opts.Logger.WarnContext(r.Context(), "writing an allocation response", "err", err)
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

// computeError answers a failed computation: 400 for a query over a
// bound, 403 for a forbidden option, 429 beyond the caller's concurrent
// computations, 504 on timeout, else 502 with the details kept in the log
// (they name the upstream).
func (h *Handler) computeError(w http.ResponseWriter, r *http.Request, err error) {
	var pe *cost.ParamError
	switch {
	case errors.As(err, &pe):
		WriteError(w, http.StatusBadRequest, "bad_data", err.Error())
	case errors.Is(err, cost.ErrForbidden):
		WriteError(w, http.StatusForbidden, "forbidden", err.Error())
	case errors.Is(err, cost.ErrBusy):
		WriteError(w, http.StatusTooManyRequests, "too_many_requests", err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		WriteError(w, http.StatusGatewayTimeout, "timeout", "the allocation took longer than proxy.upstream_timeout; ask for a shorter window or a coarser resolution")
	case errors.Is(err, context.Canceled):
		w.WriteHeader(499)
	default:
		h.opts.Logger.ErrorContext(r.Context(), "allocation failed", "err", err)
		WriteError(w, http.StatusBadGateway, "unavailable", "computing the allocation failed while reading Prometheus; Tollgate's log has the details")
	}
}
