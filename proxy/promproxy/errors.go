package promproxy

import (
	"encoding/json"
	"net/http"
)

// Error types of the Prometheus HTTP API, plus the two Tollgate adds for
// authentication and authorisation failures (Prometheus itself has none).
const (
	ErrBadData      = "bad_data"
	ErrInternal     = "internal"
	ErrUnavailable  = "unavailable"
	ErrTimeout      = "timeout"
	ErrNotFound     = "not_found"
	ErrUnauthorized = "unauthorized"
	ErrForbidden    = "forbidden"
)

type errorBody struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
}

// WriteError writes an error in the Prometheus API's JSON format, which
// Grafana shows to the user verbatim.
func WriteError(w http.ResponseWriter, status int, errorType, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tollgate"`)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(errorBody{Status: "error", ErrorType: errorType, Error: msg})
}
