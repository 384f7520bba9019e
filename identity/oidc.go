package identity

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// ErrUnavailable is returned (wrapped) when a credential cannot be checked
// now because the identity provider's discovery document or keys cannot be
// fetched. It does not wrap ErrUnauthenticated: the token may well be valid,
// and a 401 would tell the client (Grafana, a CI job) to throw it away. The
// proxy answers 503 with Retry-After (see RetryAfter).
var ErrUnavailable = errors.New("authentication unavailable")

// unavailableError says which issuer cannot be reached and when to retry.
type unavailableError struct {
	issuer, path string
	retry        time.Duration
}

func (e *unavailableError) Error() string {
	return fmt.Sprintf("%v: the identity provider %s (%s) cannot be reached to check the token; retry in %s", ErrUnavailable, e.issuer, e.path, e.retry)
}

func (e *unavailableError) Is(target error) bool { return target == ErrUnavailable }

// RetryAfter returns how long a client should wait before retrying, when
// err wraps ErrUnavailable.
func RetryAfter(err error) (time.Duration, bool) {
	var u *unavailableError
	if errors.As(err, &u) {
		return u.retry, true
	}
	return 0, false
}

// Options are what an authenticator needs besides its configuration.
type Options struct {
	// Logger records identity-provider failures (discovery, keys).
	Logger *slog.Logger
	// Now is the clock; time.Now if nil. Tests move it.
	Now func() time.Time
	// Transport fetches discovery documents and keys. If nil, a clone of
	// http.DefaultTransport is used, trusting auth.oidc[].ca_file.
	Transport http.RoundTripper
}

// OIDC authenticates bearer tokens that are JWTs from the configured
// issuers. go-oidc (and its go-jose) checks the signature, algorithm and
// issuer; OIDC adds what an API gateway needs: several issuers, audiences
// as a list, clock skew on every time claim, groups from a claim path,
// rate-limited key refetches, and a cache of tokens already verified.
type OIDC struct {
	issuers []*oidcIssuer
	byIss   map[string]*oidcIssuer
	// maxBytes is the largest max_token_bytes: tokens above it are refused
	// before anything is decoded.
	maxBytes int
	now      func() time.Time
	hashes   tokenHashers
}

// NewOIDC builds the authenticator. It does no I/O: each issuer's
// discovery document and keys are fetched when its first token arrives, so
// an identity provider that is down does not stop Tollgate from starting
// (its tokens get 503 until it is back; headers and static tokens work).
func NewOIDC(cs []OIDCConfig, o Options) (*OIDC, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	a := &OIDC{byIss: map[string]*oidcIssuer{}, now: o.Now}
	for i, c := range cs {
		c.applyDefaults()
		is, err := newOIDCIssuer(c, fmt.Sprintf("auth.oidc[%d]", i), o)
		if err != nil {
			return nil, err
		}
		a.issuers = append(a.issuers, is)
		a.byIss[c.Issuer] = is
		a.maxBytes = max(a.maxBytes, c.MaxTokenBytes)
	}
	return a, nil
}

// Authenticate implements Authenticator. Requests without a JWT bearer
// token get ErrNoCredentials, so that the static tokens may try; a JWT
// that fails any check ends the chain.
func (a *OIDC) Authenticate(ctx context.Context, r *http.Request) (Identity, error) {
	tok, err := bearerJWT(r)
	if err != nil {
		return Identity{}, err
	}
	if len(tok) > a.maxBytes {
		return Identity{}, unauthenticated("the bearer token is %d bytes, more than auth.oidc[].max_token_bytes (%d); ask the identity provider for a smaller token (fewer groups in it: group filtering or app roles)", len(tok), a.maxBytes)
	}
	sum := a.hashes.sum(tok)
	now := a.now()
	for _, is := range a.issuers {
		if id, ok := is.cache.get(sum, now, is.keys.generation()); ok {
			return id, nil
		}
	}
	h, iss, err := peek(tok)
	if err != nil {
		return Identity{}, err
	}
	is, ok := a.byIss[iss]
	if !ok {
		return Identity{}, unauthenticated("the token's issuer %s is not one of the issuers in auth.oidc", quoteShort(iss))
	}
	return is.authenticate(ctx, tok, sum, h, now)
}

// bearerJWT returns the bearer token of r if it looks like a JWT, else
// ErrNoCredentials (possibly wrapped with why).
func bearerJWT(r *http.Request) (string, error) {
	values := r.Header.Values("Authorization")
	if len(values) != 1 {
		return "", ErrNoCredentials // none, or several: the static tokens say so
	}
	scheme, tok, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", ErrNoCredentials
	}
	tok = strings.TrimSpace(tok)
	if !looksLikeJWT(tok) {
		return "", fmt.Errorf("%w: the bearer token is not a JWT", ErrNoCredentials)
	}
	return tok, nil
}

// looksLikeJWT reports whether tok is three dot-separated parts whose
// first decodes to a JSON object: a JWS in compact form. The static tokens
// Tollgate makes (tg_...) never look like one.
func looksLikeJWT(tok string) bool {
	h, rest, ok := strings.Cut(tok, ".")
	if !ok || h == "" || strings.Count(rest, ".") != 1 {
		return false
	}
	if strings.HasPrefix(h, "eyJ") { // base64url of `{"`
		return true
	}
	if len(h) > 4096 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(h)
	return err == nil && strings.HasPrefix(strings.TrimLeft(string(b), " \t\r\n"), "{")
}

// jwtHeader is the part of a JOSE header Tollgate reads before the
// signature is checked: only to choose the issuer and key, and to explain
// refusals. jku, x5u, x5c and jwk are never read: keys come from the
// issuer's JWKS alone.
type jwtHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// peek decodes the header and the issuer of an unverified token. Nothing
// read here is trusted: the issuer picks which keys verify the signature,
// and go-oidc checks it again after verification.
func peek(tok string) (jwtHeader, string, error) {
	var h jwtHeader
	hs, rest, _ := strings.Cut(tok, ".")
	ps, _, _ := strings.Cut(rest, ".")
	if err := decodeSegment(hs, &h); err != nil {
		return h, "", unauthenticated("the token's header is not base64url-encoded JSON")
	}
	switch {
	case h.Alg == "":
		return h, "", unauthenticated("the token's header names no signature algorithm (alg)")
	case strings.EqualFold(h.Alg, "none"):
		return h, "", unauthenticated(`the token is unsigned (alg "none"); unsigned tokens are never accepted`)
	case isHMAC(h.Alg):
		return h, "", unauthenticated("the token is signed with %s, a shared-secret (HMAC) algorithm; only the identity provider's public-key signatures are accepted", quoteShort(h.Alg))
	}
	var p struct {
		Iss any `json:"iss"`
	}
	if err := decodeSegment(ps, &p); err != nil {
		return h, "", unauthenticated("the token's payload is not base64url-encoded JSON")
	}
	iss, ok := p.Iss.(string)
	if !ok || iss == "" {
		return h, "", unauthenticated("the token has no issuer (iss claim)")
	}
	return h, iss, nil
}

func decodeSegment(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// unauthenticated returns an error wrapping ErrUnauthenticated. Its text
// goes to the client: it says why, and never contains the token.
func unauthenticated(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnauthenticated, fmt.Sprintf(format, args...))
}

// quoteShort quotes a value taken from an unverified token, cut to a
// length that cannot flood a log line or an error.
func quoteShort(s string) string {
	const max = 64
	if len(s) > max {
		return fmt.Sprintf("%q…", s[:max])
	}
	return fmt.Sprintf("%q", s)
}

// oidcIssuer verifies the tokens of one issuer.
type oidcIssuer struct {
	cfg      OIDCConfig
	path     string // "auth.oidc[0]", for messages
	algs     []string
	keys     *keySet
	verifier *oidc.IDTokenVerifier
	cache    *tokenCache
}

func newOIDCIssuer(c OIDCConfig, path string, o Options) (*oidcIssuer, error) {
	ks, err := newKeySet(c, path, o)
	if err != nil {
		return nil, err
	}
	is := &oidcIssuer{cfg: c, path: path, algs: c.oidcAlgorithms(), keys: ks, cache: newTokenCache(c.TokenCacheEntries)}
	// Expiry and audience are checked by claims(), with the clock skew
	// and the audience list go-oidc does not have; go-oidc checks the
	// algorithm, the signature (with keySet) and the issuer.
	is.verifier = oidc.NewVerifier(c.Issuer, ks, &oidc.Config{
		SkipClientIDCheck:    true,
		SkipExpiryCheck:      true,
		SupportedSigningAlgs: is.algs,
	})
	return is, nil
}

func (is *oidcIssuer) authenticate(ctx context.Context, tok string, sum [sha256.Size]byte, h jwtHeader, now time.Time) (Identity, error) {
	if len(tok) > is.cfg.MaxTokenBytes {
		return Identity{}, unauthenticated("the bearer token is %d bytes, more than %s.max_token_bytes (%d); ask the identity provider for a smaller token (fewer groups in it: group filtering or app roles)", len(tok), is.path, is.cfg.MaxTokenBytes)
	}
	if !slices.Contains(is.algs, h.Alg) {
		return Identity{}, unauthenticated("the token is signed with %s, which %s.allowed_algorithms does not list", quoteShort(h.Alg), is.path)
	}
	if err := is.keys.prepare(ctx); err != nil {
		return Identity{}, err
	}
	// The generation is read before verifying: if a key is withdrawn
	// meanwhile, the entry cached below is already stale.
	gen := is.keys.generation()
	if err := is.keys.ensureKid(ctx, h.Kid); err != nil {
		return Identity{}, err
	}
	var sig signatureOutcome
	t, err := is.verifier.Verify(context.WithValue(ctx, signatureOutcomeKey{}, &sig), tok)
	if err != nil {
		return Identity{}, is.verifyError(sig.failed, h)
	}
	id, until, err := is.claims(t, now)
	if err != nil {
		return Identity{}, err
	}
	// A cached token is verified again once the keys are due for a
	// refresh, so that a key the issuer withdrew stops working within
	// jwks_refresh_interval even for tokens seen before.
	if fresh := is.keys.freshUntil(); fresh.Before(until) {
		until = fresh
	}
	is.cache.put(sum, id, until, gen, now)
	return id, nil
}

// signatureOutcome lets keySet.VerifySignature tell authenticate that the
// signature failed: go-oidc reports it in a string, not an error value.
type signatureOutcome struct{ failed bool }

type signatureOutcomeKey struct{}

// verifyError explains a go-oidc refusal without repeating its text, which
// is written for developers and could quote claims.
func (is *oidcIssuer) verifyError(badSignature bool, h jwtHeader) error {
	if badSignature {
		if h.Kid == "" {
			return unauthenticated("the token's signature does not verify with any key of %s", is.cfg.Issuer)
		}
		return unauthenticated("the token's signature does not verify with %s's key %s", is.cfg.Issuer, quoteShort(h.Kid))
	}
	return unauthenticated("the token is malformed: its claims (iss, aud, exp, nbf, iat) are not of their standard types")
}
