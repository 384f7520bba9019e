package httpserver

import (
	"bytes"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
)

// head is a request head the fast server serves: a GET or POST in origin
// form over HTTP/1.1, one Host, at most one Content-Length, and nothing
// that changes how the connection is framed or used (Transfer-Encoding,
// Expect, Upgrade).
type head struct {
	method, target string
	url            *url.URL
	host           string
	header         http.Header
	contentLength  int64
	close          bool
}

// parseHead reads the head in b, which ends with its blank line's CRLF.
// It is deliberately narrower than net/http: ok is false for anything
// outside the subset above, and for anything net/http would refuse, and
// the connection is then handed to net/http, which answers it (a 400, a
// 417, a chunked body, a websocket) as it always did. Whatever parseHead
// accepts, net/http reads the same way (FuzzParseHeadAgreesWithNetHTTP):
// the two can never disagree on where a request ends, which is what
// request smuggling exploits.
func parseHead(b []byte) (h head, ok bool) {
	line, rest, ok := cutLine(b)
	if !ok {
		return head{}, false
	}
	if h.method, h.target, ok = parseRequestLine(line); !ok {
		return head{}, false
	}
	u, err := url.ParseRequestURI(h.target)
	if err != nil {
		return head{}, false
	}
	h.url = u
	h.header = make(http.Header, 8)
	h.contentLength = 0
	for {
		if line, rest, ok = cutLine(rest); !ok {
			return head{}, false
		}
		if len(line) == 0 {
			break
		}
		if !h.addField(line) {
			return head{}, false
		}
	}
	if len(rest) != 0 {
		return head{}, false
	}
	return h, h.finish()
}

// cutLine splits b at its first CRLF. A bare CR or LF stays in the line,
// where field checks refuse it.
func cutLine(b []byte) (line, rest []byte, ok bool) {
	i := bytes.Index(b, crlf)
	if i < 0 {
		return nil, nil, false
	}
	return b[:i], b[i+2:], true
}

var crlf = []byte("\r\n")

// parseRequestLine reads "METHOD SP origin-form SP HTTP/1.1".
func parseRequestLine(line []byte) (method, target string, ok bool) {
	var m []byte
	switch {
	case bytes.HasPrefix(line, []byte("GET ")):
		m, method = line[4:], http.MethodGet
	case bytes.HasPrefix(line, []byte("POST ")):
		m, method = line[5:], http.MethodPost
	default:
		return "", "", false
	}
	t, version, found := bytes.Cut(m, []byte(" "))
	if !found || string(version) != "HTTP/1.1" || len(t) == 0 || t[0] != '/' {
		return "", "", false
	}
	for _, c := range t {
		if c <= ' ' || c >= 0x7f || c == '#' {
			return "", "", false
		}
	}
	return method, string(t), true
}

// addField adds one "name: value" line.
func (h *head) addField(line []byte) bool {
	name, value, found := bytes.Cut(line, []byte(":"))
	if !found || len(name) == 0 {
		return false
	}
	for _, c := range name {
		if !isTokenChar(c) {
			return false
		}
	}
	value = bytes.Trim(value, " \t")
	for _, c := range value {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	key := textproto.CanonicalMIMEHeaderKey(string(name))
	switch key {
	case "Transfer-Encoding", "Expect", "Upgrade", "Trailer", "Te":
		// Framing, interim answers, protocol switches: net/http's.
		return false
	}
	h.header[key] = append(h.header[key], string(value))
	return true
}

// finish checks the fields that govern the request as a whole, as
// net/http's server does, and moves Host out of the header.
func (h *head) finish() bool {
	hosts := h.header["Host"]
	if len(hosts) != 1 || !plainHost(hosts[0]) {
		return false
	}
	h.host = hosts[0]
	delete(h.header, "Host")
	if cl, ok := h.header["Content-Length"]; ok {
		if len(cl) != 1 {
			return false
		}
		n, err := strconv.ParseUint(cl[0], 10, 63) // digits only, as net/http
		if err != nil {
			return false
		}
		h.contentLength = int64(n)
	}
	for _, v := range h.header["Connection"] {
		for _, token := range bytes.Split([]byte(v), []byte(",")) {
			switch string(bytes.ToLower(bytes.Trim(token, " \t"))) {
			case "close":
				h.close = true
			case "upgrade", "http2-settings":
				return false
			}
		}
	}
	// As net/http: HTTP/1.0's "Pragma: no-cache" means Cache-Control's.
	if p := h.header["Pragma"]; len(p) > 0 && p[0] == "no-cache" {
		if _, ok := h.header["Cache-Control"]; !ok {
			h.header["Cache-Control"] = []string{"no-cache"}
		}
	}
	return true
}

// plainHost accepts a host name, an IPv4 or bracketed IPv6 address and a
// port: narrower than net/http's Host check, which is left the rest.
func plainHost(h string) bool {
	if h == "" {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_') {
			return false
		}
	}
	return true
}

// isTokenChar reports whether c may appear in a field name (RFC 9110's
// tchar).
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), c) >= 0
}
