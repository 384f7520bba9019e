package lokiproxy

import (
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// isWebsocket reports whether r asks to upgrade to a websocket (live tail).
func isWebsocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// originAllowed decides whether a browser page may open a websocket. A
// request without Origin does not come from a browser page (Grafana's
// server-side data source proxy, logcli) and carries no ambient cookies of
// another site. A same-host origin is the gateway's own page. Anything
// else must be listed exactly.
func originAllowed(r *http.Request, allowed []string) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if slices.Contains(allowed, origin) {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false // "null" and other opaque origins are never same-host
	}
	return strings.EqualFold(hostPort(u.Host, u.Scheme), hostPort(r.Host, u.Scheme))
}

// hostPort writes the default port explicitly, so that example.com and
// example.com:443 compare equal for https.
func hostPort(host, scheme string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	if scheme == "https" {
		return net.JoinHostPort(host, "443")
	}
	return net.JoinHostPort(host, "80")
}
