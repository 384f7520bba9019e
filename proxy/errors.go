package proxy

import (
	"fmt"
	"net/http"
)

// Error types, in the Prometheus HTTP API's vocabulary, which the
// Prometheus and cost APIs put in errorType. Prometheus has no word for
// authentication, authorisation and rate refusals; Tollgate adds them.
const (
	TypeBadData         = "bad_data"
	TypeInternal        = "internal"
	TypeUnavailable     = "unavailable"
	TypeTimeout         = "timeout"
	TypeNotFound        = "not_found"
	TypeUnauthorized    = "unauthorized"
	TypeForbidden       = "forbidden"
	TypeTooManyRequests = "too_many_requests"
)

// Error is a request refused or failed: what every step of the pipeline
// and every handler returns instead of writing an answer, and what the
// API's ErrorWriter renders in its own format.
type Error struct {
	Status int
	Type   string
	Msg    string
	// Header holds headers the answer must carry, such as Retry-After.
	Header http.Header
}

func (e *Error) Error() string { return e.Msg }

// Errorf returns an Error with the type that goes with status.
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Type: TypeFor(status), Msg: fmt.Sprintf(format, args...)}
}

// BadData is a 400: the request is malformed or over a bound.
func BadData(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, format, args...)
}

// Forbidden is a 403: what the caller may not do.
func Forbidden(format string, args ...any) *Error {
	return Errorf(http.StatusForbidden, format, args...)
}

// TypeFor maps an HTTP status to its error type.
func TypeFor(status int) string {
	switch status {
	case http.StatusGatewayTimeout:
		return TypeTimeout
	case http.StatusBadGateway, http.StatusServiceUnavailable:
		return TypeUnavailable
	case http.StatusUnauthorized:
		return TypeUnauthorized
	case http.StatusForbidden:
		return TypeForbidden
	case http.StatusNotFound:
		return TypeNotFound
	case http.StatusTooManyRequests:
		return TypeTooManyRequests
	case http.StatusInternalServerError:
		return TypeInternal
	}
	return TypeBadData
}

// ErrorWriter renders an Error in one API's format.
type ErrorWriter interface {
	WriteError(w http.ResponseWriter, e *Error)
}

// WriteErrorHeader writes what every error answer carries, whatever its
// format: the content type, nosniff, the authentication challenge of a
// 401, the error's own headers, and the status. The writer then writes
// the body.
func WriteErrorHeader(w http.ResponseWriter, e *Error, contentType string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	if e.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="tollgate"`)
	}
	for k, vs := range e.Header {
		h[k] = vs
	}
	w.WriteHeader(e.Status)
}
