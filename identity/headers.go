package identity

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// TrustedHeaders believes identity headers only from configured addresses.
type TrustedHeaders struct {
	user, groups string
	trusted      []netip.Prefix
}

// NewTrustedHeaders builds the authenticator from its configuration.
func NewTrustedHeaders(c TrustedHeadersConfig) (*TrustedHeaders, error) {
	th := &TrustedHeaders{
		user:   http.CanonicalHeaderKey(c.User),
		groups: http.CanonicalHeaderKey(c.Groups),
	}
	for _, s := range c.TrustedCIDRs {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("trusted_cidrs: %q: %w", s, err)
		}
		th.trusted = append(th.trusted, p.Masked())
	}
	return th, nil
}

// HeaderNames returns the identity header names, which the proxy strips
// before forwarding.
func (th *TrustedHeaders) HeaderNames() []string { return []string{th.user, th.groups} }

// Authenticate implements Authenticator.
func (th *TrustedHeaders) Authenticate(_ context.Context, r *http.Request) (Identity, error) {
	if !th.fromTrusted(r.RemoteAddr) {
		// Headers from elsewhere are not an identity at all: whoever sent
		// them could have typed any user and group.
		if r.Header.Get(th.user) != "" || r.Header.Get(th.groups) != "" {
			return Identity{}, fmt.Errorf("%w: identity headers are ignored from %s, which is not in auth.trusted_headers.trusted_cidrs", ErrNoCredentials, r.RemoteAddr)
		}
		return Identity{}, ErrNoCredentials
	}
	users := r.Header.Values(th.user)
	if len(users) == 0 {
		return Identity{}, ErrNoCredentials
	}
	if len(users) > 1 {
		return Identity{}, fmt.Errorf("%w: %d %s headers; exactly one is expected", ErrUnauthenticated, len(users), th.user)
	}
	user := strings.TrimSpace(users[0])
	if user == "" {
		return Identity{}, fmt.Errorf("%w: empty %s header", ErrUnauthenticated, th.user)
	}
	// Several group header lines are one comma-separated list (RFC 9110
	// section 5.3), so they are joined, not rejected.
	var groups []string
	seen := map[string]bool{}
	for _, line := range r.Header.Values(th.groups) {
		for _, g := range strings.Split(line, ",") {
			g = strings.TrimSpace(g)
			if g != "" && !seen[g] {
				seen[g] = true
				groups = append(groups, g)
			}
		}
	}
	return Identity{User: user, Groups: groups, Method: "header"}, nil
}

func (th *TrustedHeaders) fromTrusted(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, p := range th.trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
