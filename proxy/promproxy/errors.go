package promproxy

import (
	"encoding/json"
	"net/http"

	"github.com/tollgate-dev/tollgate/proxy"
)

// Error types of the Prometheus HTTP API, plus the two Tollgate adds for
// authentication and authorisation failures (Prometheus itself has none).
const (
	ErrBadData      = proxy.TypeBadData
	ErrInternal     = proxy.TypeInternal
	ErrUnavailable  = proxy.TypeUnavailable
	ErrTimeout      = proxy.TypeTimeout
	ErrNotFound     = proxy.TypeNotFound
	ErrUnauthorized = proxy.TypeUnauthorized
	ErrForbidden    = proxy.TypeForbidden
)

type errorBody struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
}

// WriteError implements proxy.ErrorWriter with the Prometheus API's JSON
// error format, which Grafana shows to the user verbatim.
func (h *Handler) WriteError(w http.ResponseWriter, e *proxy.Error) {
	proxy.WriteErrorHeader(w, e, "application/json")
	_ = json.NewEncoder(w).Encode(errorBody{Status: "error", ErrorType: e.Type, Error: e.Msg})
}
