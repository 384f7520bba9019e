// Package params reads the parameters of an API request the one way every
// Tollgate API reads them: URL and form body merged into one set, checked
// against the route's known parameters, with ambiguity refused.
package params

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
)

// Error is a client error in the request parameters, to be answered with
// Status.
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

func badParams(format string, args ...any) error {
	return &Error{Status: http.StatusBadRequest, Msg: fmt.Sprintf(format, args...)}
}

// Status returns the HTTP status for an error returned by Read or Check.
func Status(err error) int {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Status
	}
	return http.StatusBadRequest
}

// Read merges URL and form-body parameters into one set. Reading both
// channels here, once, is what keeps the authorisation and the enforcement
// from ever looking at different values (research note (c) 6 and 8).
func Read(r *http.Request, maxBody int64) (url.Values, error) {
	if strings.Contains(r.URL.RawQuery, ";") {
		// Go drops pairs containing ';' while other layers split on it; a
		// query string that means different things to different parsers is
		// refused rather than guessed at.
		return nil, badParams("the query string contains ';'; encode it as %%3B")
	}
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, badParams("malformed query string: %v", err)
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if r.ContentLength > 0 {
			return nil, badParams("a %s request must not have a body", r.Method)
		}
		return params, nil
	case http.MethodPost:
	default:
		return nil, &Error{Status: http.StatusMethodNotAllowed, Msg: fmt.Sprintf("method %s is not allowed; use GET or POST", r.Method)}
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return nil, &Error{Status: http.StatusUnsupportedMediaType, Msg: fmt.Sprintf("content type %q is not supported; send parameters as application/x-www-form-urlencoded", ct)}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, &Error{Status: http.StatusRequestEntityTooLarge, Msg: fmt.Sprintf("request body is larger than %d bytes (proxy.max_body_bytes)", maxBody)}
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, &Error{Status: http.StatusRequestTimeout, Msg: "the request body did not arrive in time (proxy.body_read_timeout)"}
		}
		return nil, badParams("reading request body: %v", err)
	}
	if strings.ContainsRune(string(body), ';') {
		return nil, badParams("the form body contains ';'; encode it as %%3B")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, badParams("malformed form body: %v", err)
	}
	for k, vs := range form {
		params[k] = append(params[k], vs...)
	}
	return params, nil
}

// Check refuses parameters the route does not know and repeated
// single-valued parameters. Prometheus reads the first `query`, Thanos and
// VictoriaMetrics have read others; a duplicate is ambiguous, so it is an
// error, never silently collapsed. Parameters named `x[]` are lists.
func Check(params url.Values, allowed []string, extra []string) error {
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	slices.Sort(names) // deterministic error messages
	for _, k := range names {
		if !slices.Contains(allowed, k) && !slices.Contains(extra, k) {
			return badParams("parameter %q is not supported by Tollgate on this endpoint; if your backend needs it, add it to proxy.extra_params", k)
		}
		if len(params[k]) > 1 && !strings.HasSuffix(k, "[]") {
			return badParams("parameter %q is given %d times (URL and body are merged); send it once", k, len(params[k]))
		}
	}
	return nil
}
