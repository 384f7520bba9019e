package identity

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/problem"
)

// Config is the `auth:` section of the configuration file.
type Config struct {
	TrustedHeaders *TrustedHeadersConfig `yaml:"trusted_headers"`
	Tokens         []TokenConfig         `yaml:"tokens"`
	// OIDC lists the issuers whose JWTs are accepted as bearer tokens.
	OIDC []OIDCConfig `yaml:"oidc"`
}

// TrustedHeadersConfig describes identity headers set by an authenticating
// reverse proxy (oauth2-proxy, an ingress with auth_request) or by Grafana.
type TrustedHeadersConfig struct {
	User   string `yaml:"user"`
	Groups string `yaml:"groups"`
	// TrustedCIDRs are the only client addresses whose identity headers are
	// believed. From anywhere else the headers are ignored.
	TrustedCIDRs []string `yaml:"trusted_cidrs"`
}

// TokenConfig is a static bearer token for CI jobs and service accounts. Only
// the SHA-256 of the token is stored; `tollgate token new` makes a pair.
type TokenConfig struct {
	Name   string `yaml:"name"`
	SHA256 string `yaml:"sha256"`
	// SHA256File names a file holding the hex SHA-256 instead of sha256, so
	// that the hash can come from a mounted Kubernetes Secret rather than
	// the configuration (a ConfigMap). Surrounding whitespace is ignored.
	SHA256File string   `yaml:"sha256_file"`
	Groups     []string `yaml:"groups"`
}

// hash returns the token's hex SHA-256, from sha256 or from sha256_file.
func (t TokenConfig) hash() (string, error) {
	if t.SHA256File == "" {
		return t.SHA256, nil
	}
	b, err := os.ReadFile(t.SHA256File)
	if err != nil {
		return "", fmt.Errorf("reading sha256_file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Validate checks the section; prefix is its key path ("auth").
func (c Config) Validate(prefix string) problem.List {
	var ps problem.List
	if c.TrustedHeaders == nil && len(c.Tokens) == 0 && len(c.OIDC) == 0 {
		ps.Add(prefix, "no authentication is configured", "configure auth.trusted_headers (behind oauth2-proxy or Grafana), auth.oidc (your identity provider's JWTs) and/or auth.tokens; without any, every request is refused")
	}
	ps = append(ps, validateOIDC(prefix, c.OIDC)...)
	if th := c.TrustedHeaders; th != nil {
		p := prefix + ".trusted_headers"
		checkHeader(&ps, p+".user", th.User, "X-Forwarded-User")
		checkHeader(&ps, p+".groups", th.Groups, "X-Forwarded-Groups")
		if len(th.TrustedCIDRs) == 0 {
			ps.Add(p+".trusted_cidrs", "is missing", "list the addresses of the proxy that sets the headers, e.g. [127.0.0.0/8] for a sidecar; headers from other addresses are ignored")
		}
		for i, cidr := range th.TrustedCIDRs {
			cp := fmt.Sprintf("%s.trusted_cidrs[%d]", p, i)
			pfx, err := netip.ParsePrefix(cidr)
			if err != nil {
				ps.Add(cp, fmt.Sprintf("%q is not a CIDR", cidr), "write it like 10.0.0.0/8 or 127.0.0.1/32")
				continue
			}
			if pfx.Bits() == 0 {
				ps.Add(cp, fmt.Sprintf("%q trusts every address", cidr), "anyone could then claim any user and group; list only the addresses of your auth proxy")
			}
		}
	}
	names := map[string]int{}
	hashes := map[string]int{}
	for i, t := range c.Tokens {
		p := fmt.Sprintf("%s.tokens[%d]", prefix, i)
		if t.Name == "" {
			ps.Add(p+".name", "is missing", "name the token after its user, e.g. \"ci\"; the name appears in logs")
		} else if j, dup := names[t.Name]; dup {
			ps.Add(p+".name", fmt.Sprintf("token name %q is already used by %s.tokens[%d]", t.Name, prefix, j), "give every token its own name")
		} else {
			names[t.Name] = i
		}
		checkTokenHash(&ps, prefix, i, t, hashes)
		if len(t.Groups) == 0 {
			ps.Add(p+".groups", "is missing", "list the groups the token acts as, e.g. [platform-sre]")
		}
	}
	return ps
}

// checkTokenHash checks the token's hash, wherever it comes from, and that
// no earlier token has the same one (hashes maps a hash to its token index).
func checkTokenHash(ps *problem.List, prefix string, i int, t TokenConfig, hashes map[string]int) {
	p := fmt.Sprintf("%s.tokens[%d]", prefix, i)
	key := p + ".sha256"
	switch {
	case t.SHA256 != "" && t.SHA256File != "":
		ps.Add(key, "and sha256_file are both set", "keep one: sha256_file to read the hash from a mounted Secret, or sha256")
		return
	case t.SHA256File != "":
		key = p + ".sha256_file"
	}
	h, err := t.hash()
	if err != nil {
		ps.Add(key, fmt.Sprintf("cannot be read: %v", err), "give a file holding the token's hex SHA-256 (from `tollgate token new`), e.g. a mounted Secret key")
		return
	}
	h = strings.ToLower(h)
	if b, err := hex.DecodeString(h); err != nil || len(b) != 32 {
		ps.Add(key, "is not 64 hexadecimal characters", "store the SHA-256 of the token, not the token: `printf %s \"$TOKEN\" | sha256sum`, or run `tollgate token new`")
	} else if j, dup := hashes[h]; dup {
		ps.Add(key, fmt.Sprintf("is the same token as %s.tokens[%d]", prefix, j), "give every user its own token")
	} else {
		hashes[h] = i
	}
}

func checkHeader(ps *problem.List, path, name, example string) {
	if name == "" {
		ps.Add(path, "is missing", "name the header, e.g. "+example)
		return
	}
	if http.CanonicalHeaderKey(name) == "" || strings.ContainsAny(name, " :\t\r\n") {
		ps.Add(path, fmt.Sprintf("%q is not a header name", name), "name the header, e.g. "+example)
	}
}

// New builds the authenticator for a validated configuration.
func New(c Config) (Authenticator, error) { return NewWithOptions(c, Options{}) }

// NewWithOptions builds the authenticator for a validated configuration.
//
// Trusted headers are tried first: a request relayed by the trusted auth
// proxy is identified by that proxy, and an Authorization header on it (an
// OIDC token that oauth2-proxy validated, say) is the proxy's business, not a
// Tollgate token. From any other address the headers are ignored and only a
// bearer token can authenticate. A bearer token that looks like a JWT goes
// to auth.oidc, and if it fails there it fails: it is never tried as a
// static token. Any other bearer token is a static token.
func NewWithOptions(c Config, o Options) (Authenticator, error) {
	var chain Chain
	if c.TrustedHeaders != nil {
		ha, err := NewTrustedHeaders(*c.TrustedHeaders)
		if err != nil {
			return nil, err
		}
		chain = append(chain, ha)
	}
	if len(c.OIDC) > 0 {
		oa, err := NewOIDC(c.OIDC, o)
		if err != nil {
			return nil, err
		}
		chain = append(chain, oa)
	}
	if len(c.Tokens) > 0 {
		ta, err := NewTokens(c.Tokens)
		if err != nil {
			return nil, err
		}
		chain = append(chain, ta)
	}
	return chain, nil
}
