package upstream

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
)

// maxScreenedBody bounds the error body Tollgate reads to screen it. Error
// answers are short; a longer one is replaced unread.
const maxScreenedBody = 64 << 10

// internalsRE matches error text that names a backend's internals: gRPC
// status text from Loki's or Mimir's components, dial and DNS failures,
// IP addresses and host:port pairs of pods and services. Such text tells a
// tenant nothing it can act on and tells an attacker the topology.
var internalsRE = regexp.MustCompile(`(?i)` + `rpc error|code = \w+|desc = |dial tcp|connection refused|no such host|i/o timeout|` +
	`\b\d{1,3}(\.\d{1,3}){3}\b|\[[0-9a-f:]*:[0-9a-f:]*\](:\d+)?|\blocalhost:\d+|` +
	`\b[a-z][a-z0-9-]*(\.[a-z0-9-]+)+:\d{2,5}\b|\.svc\b|\.cluster\.local\b`)

// ScreenedError is an upstream error answer withheld from a tenant
// because it names internals. Its status is kept; the text is in the log.
type ScreenedError struct{ Status int }

func (e *ScreenedError) Error() string {
	return fmt.Sprintf("upstream answered %d with internal details", e.Status)
}

// Screen reads an error answer (status 400 and above) and, when its text
// names internals or cannot be read, logs it and returns a ScreenedError;
// otherwise it puts the body back, decompressed, for the client. Success
// answers are left untouched and unread.
func (u *Upstream) Screen(resp *http.Response) error {
	if resp.StatusCode < 400 {
		return nil
	}
	text, readable := u.readErrorBody(resp)
	if readable && !internalsRE.Match(text) {
		resp.Body = io.NopCloser(bytes.NewReader(text))
		resp.ContentLength = int64(len(text))
		resp.Header.Set("Content-Length", strconv.Itoa(len(text)))
		resp.Header.Del("Content-Encoding")
		return nil
	}
	u.opts.Logger.WarnContext(resp.Request.Context(), "upstream error withheld from tenant",
		"upstream", u.opts.Name, "path", resp.Request.URL.Path, "status", resp.StatusCode, "body", string(text))
	return &ScreenedError{Status: resp.StatusCode}
}

// readErrorBody reads at most maxScreenedBody bytes of an error answer,
// gunzipped if need be. It reports false when the body is longer, in an
// encoding it cannot read, or broken.
func (u *Upstream) readErrorBody(resp *http.Response) ([]byte, bool) {
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	switch resp.Header.Get("Content-Encoding") {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return nil, false
		}
		r = zr
	default:
		return nil, false
	}
	text, err := io.ReadAll(io.LimitReader(r, maxScreenedBody+1))
	if err != nil || len(text) > maxScreenedBody {
		return text[:min(len(text), maxScreenedBody)], false
	}
	return text, true
}

// screenedMessage is what a tenant reads instead.
func (u *Upstream) screenedMessage(status int) string {
	return fmt.Sprintf("%s answered %d with an error that names its internal components; Tollgate's log has it in full", u.opts.Name, status)
}

func asScreened(err error) (*ScreenedError, bool) {
	var se *ScreenedError
	ok := errors.As(err, &se)
	return se, ok
}
