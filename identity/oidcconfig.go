package identity

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/internal/problem"
)

// OIDCConfig trusts the JWTs of one OpenID Connect issuer: the humans'
// identity provider (Entra ID, Okta, Keycloak) or a Kubernetes cluster's
// service-account issuer. `auth.oidc` is a list of these.
type OIDCConfig struct {
	// Issuer is the exact `iss` of the tokens, and where discovery
	// (ISSUER/.well-known/openid-configuration) is fetched from.
	Issuer string `yaml:"issuer"`
	// Audiences: a token's `aud` must name at least one of them.
	Audiences []string `yaml:"audiences"`
	// UserClaim is the claim path naming the user (default "sub").
	UserClaim string `yaml:"user_claim"`
	// GroupsClaim is the claim path of the groups, a string or a list of
	// strings (default "groups"): "realm_access.roles", "cognito:groups".
	GroupsClaim string `yaml:"groups_claim"`
	// GroupsPrefix is put before every group, so that one issuer's groups
	// cannot be mistaken for another's in tenancy.tenants[].groups.
	GroupsPrefix string `yaml:"groups_prefix"`
	// AllowedAlgorithms are the signature algorithms accepted (default
	// DefaultOIDCAlgorithms). HMAC and "none" are never accepted.
	AllowedAlgorithms []string `yaml:"allowed_algorithms"`
	// ClockSkew is the leeway on exp, nbf and iat (default 30s).
	ClockSkew Duration `yaml:"clock_skew"`
	// MaxTokenBytes bounds a token (default 16 KiB); larger ones are
	// refused before any parsing.
	MaxTokenBytes int `yaml:"max_token_bytes"`
	// JWKSRefreshInterval is how long fetched keys are used before they are
	// fetched again (default 10m); it bounds how long a key the issuer has
	// withdrawn still verifies.
	JWKSRefreshInterval Duration `yaml:"jwks_refresh_interval"`
	// JWKSMinRefetchInterval is the least time between two fetches of the
	// discovery document or the keys (default 10s): a token naming an
	// unknown key triggers a fetch at most this often, so forged key IDs
	// cannot make Tollgate flood the identity provider.
	JWKSMinRefetchInterval Duration `yaml:"jwks_min_refetch_interval"`
	// TokenCacheEntries bounds the tokens remembered as valid (default
	// 10000), keyed by their SHA-256, each until it expires.
	TokenCacheEntries int `yaml:"token_cache_entries"`
	// CAFile, if set, is a PEM file of the certificate authorities that
	// sign the issuer's TLS certificate, in addition to the system's.
	CAFile string `yaml:"ca_file"`
}

// Defaults and bounds of auth.oidc.
const (
	DefaultOIDCUserClaim         = "sub"
	DefaultOIDCGroupsClaim       = "groups"
	DefaultOIDCClockSkew         = 30 * time.Second
	DefaultOIDCMaxTokenBytes     = 16 << 10
	DefaultOIDCJWKSRefresh       = 10 * time.Minute
	DefaultOIDCJWKSMinRefetch    = 10 * time.Second
	DefaultOIDCTokenCacheEntries = 10_000

	maxOIDCClockSkew    = 5 * time.Minute
	maxOIDCTokenBytes   = 64 << 10
	maxOIDCCacheEntries = 1_000_000
)

// DefaultOIDCAlgorithms are the signature algorithms accepted when
// allowed_algorithms is not set: the asymmetric ones identity providers use.
func DefaultOIDCAlgorithms() []string {
	return []string{"RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"}
}

// supportedOIDCAlgorithm reports whether allowed_algorithms may list alg:
// public-key signatures that go-oidc verifies.
func supportedOIDCAlgorithm(alg string) bool {
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA":
		return true
	}
	return false
}

// isHMAC reports whether alg is a shared-secret algorithm. Accepting one
// with an issuer's public key as the secret is the classic forgery.
func isHMAC(alg string) bool { return strings.HasPrefix(strings.ToUpper(alg), "HS") }

// ApplyDefaults fills in every optional auth setting left zero.
func (c *Config) ApplyDefaults() {
	for i := range c.OIDC {
		c.OIDC[i].applyDefaults()
	}
}

func (o *OIDCConfig) applyDefaults() {
	if o.UserClaim == "" {
		o.UserClaim = DefaultOIDCUserClaim
	}
	if o.GroupsClaim == "" {
		o.GroupsClaim = DefaultOIDCGroupsClaim
	}
	if len(o.AllowedAlgorithms) == 0 {
		o.AllowedAlgorithms = DefaultOIDCAlgorithms()
	}
	if o.ClockSkew == 0 {
		o.ClockSkew = Duration(DefaultOIDCClockSkew)
	}
	if o.MaxTokenBytes == 0 {
		o.MaxTokenBytes = DefaultOIDCMaxTokenBytes
	}
	if o.JWKSRefreshInterval == 0 {
		o.JWKSRefreshInterval = Duration(DefaultOIDCJWKSRefresh)
	}
	if o.JWKSMinRefetchInterval == 0 {
		o.JWKSMinRefetchInterval = Duration(DefaultOIDCJWKSMinRefetch)
	}
	if o.TokenCacheEntries == 0 {
		o.TokenCacheEntries = DefaultOIDCTokenCacheEntries
	}
}

// validateOIDC checks auth.oidc; prefix is "auth".
func validateOIDC(prefix string, cs []OIDCConfig) problem.List {
	var ps problem.List
	seen := map[string]int{}
	for i, o := range cs {
		p := fmt.Sprintf("%s.oidc[%d]", prefix, i)
		if j, dup := seen[o.Issuer]; dup && o.Issuer != "" {
			ps.Add(p+".issuer", fmt.Sprintf("issuer %q is already trusted by %s.oidc[%d]", o.Issuer, prefix, j), "list every issuer once; put all its audiences in one entry")
		} else {
			seen[o.Issuer] = i
		}
		ps = append(ps, o.validate(p)...)
	}
	return ps
}

func (o OIDCConfig) validate(p string) problem.List {
	var ps problem.List
	checkIssuer(&ps, p+".issuer", o.Issuer)
	if len(o.Audiences) == 0 {
		ps.Add(p+".audiences", "is missing", "list the audience the identity provider puts in tokens meant for Tollgate (its client ID or application ID URI, e.g. [tollgate]); a token for another application must not open Tollgate")
	}
	for i, a := range o.Audiences {
		if strings.TrimSpace(a) == "" {
			ps.Add(fmt.Sprintf("%s.audiences[%d]", p, i), "is empty", "give the audience string, e.g. tollgate")
		}
	}
	checkClaimPath(&ps, p+".user_claim", o.UserClaim, "sub, preferred_username or email")
	checkClaimPath(&ps, p+".groups_claim", o.GroupsClaim, "groups, realm_access.roles or cognito:groups")
	for i, alg := range o.AllowedAlgorithms {
		checkAlgorithm(&ps, fmt.Sprintf("%s.allowed_algorithms[%d]", p, i), alg)
	}
	o.validateBounds(&ps, p)
	if o.CAFile != "" {
		checkCAFile(&ps, p+".ca_file", o.CAFile)
	}
	return ps
}

func (o OIDCConfig) validateBounds(ps *problem.List, p string) {
	if d := time.Duration(o.ClockSkew); d > maxOIDCClockSkew {
		ps.Add(p+".clock_skew", fmt.Sprintf("%s is more than %s", d, maxOIDCClockSkew), "keep the clocks in sync (NTP) and leave it out for the default of 30s; a large skew accepts expired tokens for that long")
	}
	if o.MaxTokenBytes < 0 || o.MaxTokenBytes > maxOIDCTokenBytes {
		ps.Add(p+".max_token_bytes", fmt.Sprintf("%d is not between 1 and %d", o.MaxTokenBytes, maxOIDCTokenBytes), "leave it out for the default of 16384 bytes; a token larger than that carries too many groups (use group filtering or app roles)")
	}
	refresh, refetch := time.Duration(o.JWKSRefreshInterval), time.Duration(o.JWKSMinRefetchInterval)
	if refetch != 0 && refetch < time.Second {
		ps.Add(p+".jwks_min_refetch_interval", fmt.Sprintf("%s is less than 1s", refetch), "leave it out for the default of 10s: it is how often a token naming an unknown key may make Tollgate fetch the keys")
	}
	if refresh != 0 && refresh < 10*time.Second {
		ps.Add(p+".jwks_refresh_interval", fmt.Sprintf("%s is less than 10s", refresh), "leave it out for the default of 10m")
	}
	if refresh != 0 && refetch != 0 && refetch > refresh {
		ps.Add(p+".jwks_min_refetch_interval", fmt.Sprintf("%s is longer than jwks_refresh_interval (%s)", refetch, refresh), "make it shorter than jwks_refresh_interval, or leave both out for 10s and 10m")
	}
	if o.TokenCacheEntries < 0 || o.TokenCacheEntries > maxOIDCCacheEntries {
		ps.Add(p+".token_cache_entries", fmt.Sprintf("%d is not between 1 and %d", o.TokenCacheEntries, maxOIDCCacheEntries), "leave it out for the default of 10000 tokens")
	}
}

// checkIssuer requires https, except on loopback addresses: the keys
// fetched from the issuer decide who is who, so they must not travel in
// clear over a network.
func checkIssuer(ps *problem.List, path, raw string) {
	if raw == "" {
		ps.Add(path, "is missing", "give the issuer URL exactly as the tokens' iss claim has it, e.g. https://login.microsoftonline.com/TENANT-ID/v2.0")
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		ps.Add(path, fmt.Sprintf("%q is not an http(s) URL", raw), "give the issuer URL exactly as the tokens' iss claim has it, e.g. https://idp.example.com/realms/bank")
	case u.Scheme == "http" && !isLoopbackHost(u.Hostname()):
		ps.Add(path, fmt.Sprintf("%q is plain http", raw), "use https: the keys that decide who is who must not travel unencrypted (http is accepted only on loopback addresses, for tests)")
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		ps.Add(path, fmt.Sprintf("%q has credentials, a query string or a fragment", raw), "give the issuer URL exactly as the tokens' iss claim has it")
	}
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func checkClaimPath(ps *problem.List, path, claim, examples string) {
	if claim == "" {
		return // defaulted
	}
	if strings.HasPrefix(claim, ".") || strings.HasSuffix(claim, ".") || strings.Contains(claim, "..") || strings.TrimSpace(claim) != claim {
		ps.Add(path, fmt.Sprintf("%q is not a claim path", claim), "name the claim, with dots between nested names, e.g. "+examples)
	}
}

func checkAlgorithm(ps *problem.List, path, alg string) {
	switch {
	case strings.EqualFold(alg, "none"):
		ps.Add(path, `"none" means unsigned tokens, which anyone can write`, "remove it; list the algorithms your identity provider signs with, e.g. RS256")
	case isHMAC(alg):
		ps.Add(path, fmt.Sprintf("%q is an HMAC (shared-secret) algorithm", alg), "remove it: Tollgate verifies identity-provider signatures with public keys only; an HMAC algorithm would let anyone holding the public key forge tokens")
	case !supportedOIDCAlgorithm(alg):
		ps.Add(path, fmt.Sprintf("%q is not a signature algorithm Tollgate accepts", alg), "use RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 or EdDSA")
	}
}

func checkCAFile(ps *problem.List, path, file string) {
	b, err := os.ReadFile(file)
	if err != nil {
		ps.Add(path, fmt.Sprintf("cannot be read: %v", err), "give a PEM file of the certificate authorities that sign the identity provider's TLS certificate")
		return
	}
	if !x509.NewCertPool().AppendCertsFromPEM(b) {
		ps.Add(path, fmt.Sprintf("%s holds no PEM certificate", file), "give a PEM file of CERTIFICATE blocks")
	}
}

// oidcAlgorithms returns the allowed algorithms without duplicates.
func (o OIDCConfig) oidcAlgorithms() []string {
	out := slices.Clone(o.AllowedAlgorithms)
	slices.Sort(out)
	return slices.Compact(out)
}
