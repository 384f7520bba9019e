package identity_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/tollgate-dev/tollgate/identity"
	"github.com/tollgate-dev/tollgate/internal/testkit/oidctest"
)

// clock is the authenticator's clock, moved by the tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const staticCIToken = "example-ci-token"

type oidcFixture struct {
	idp   *oidctest.Provider
	auth  identity.Authenticator
	clock *clock
}

// newOIDCFixture starts an OpenID provider and an authenticator trusting
// it for audience "tollgate" (edit changes that), beside a static token.
func newOIDCFixture(t *testing.T, edit func(*identity.OIDCConfig)) *oidcFixture {
	t.Helper()
	idp := oidctest.Start(t)
	oc := identity.OIDCConfig{Issuer: idp.URL, Audiences: []string{"tollgate"}}
	if edit != nil {
		edit(&oc)
	}
	cfg := identity.Config{
		OIDC:   []identity.OIDCConfig{oc},
		Tokens: []identity.TokenConfig{{Name: "ci", SHA256: identity.HashToken(staticCIToken), Groups: []string{"platform-sre"}}},
	}
	cfg.ApplyDefaults()
	if ps := cfg.Validate("auth"); len(ps.Errors()) != 0 {
		t.Fatalf("config problems: %v", ps)
	}
	c := &clock{t: time.Now()}
	a, err := identity.NewWithOptions(cfg, identity.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &oidcFixture{idp: idp, auth: a, clock: c}
}

func (f *oidcFixture) authenticate(tok string) (identity.Identity, error) {
	r := httptest.NewRequest(http.MethodGet, "/api/v1/query", nil)
	r.RemoteAddr = "192.0.2.1:1"
	r.Header.Set("Authorization", "Bearer "+tok)
	return f.auth.Authenticate(context.Background(), r)
}

func (f *oidcFixture) accept(t *testing.T, tok, user string, groups ...string) {
	t.Helper()
	id, err := f.authenticate(tok)
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	if id.User != user || !slices.Equal(id.Groups, groups) || id.Method != "oidc" {
		t.Fatalf("got %q %q (%s), want %q %q (oidc)", id.User, id.Groups, id.Method, user, groups)
	}
}

// refuse checks that tok is refused with a 401 whose text says reason and
// does not contain the token or any part of it.
func (f *oidcFixture) refuse(t *testing.T, tok, reason string) string {
	t.Helper()
	id, err := f.authenticate(tok)
	if err == nil {
		t.Fatalf("accepted as %+v; want a refusal saying %q", id, reason)
	}
	if !errors.Is(err, identity.ErrUnauthenticated) || errors.Is(err, identity.ErrNoCredentials) || errors.Is(err, identity.ErrUnavailable) {
		t.Fatalf("error %q is not a final 401", err)
	}
	if !strings.Contains(err.Error(), reason) {
		t.Fatalf("error %q does not say %q", err, reason)
	}
	noTokenIn(t, err.Error(), tok)
	return err.Error()
}

func noTokenIn(t *testing.T, text, tok string) {
	t.Helper()
	for _, part := range strings.Split(tok, ".") {
		if len(part) >= 8 && strings.Contains(text, part) {
			t.Fatalf("%q contains part of the token", text)
		}
	}
}

func (f *oidcFixture) claims(extra map[string]any) map[string]any {
	return f.idp.Claims("alice", []string{"tollgate"}, extra)
}

// forge writes a token by hand: header and claims as JSON, signature as
// given, for what no signing library would produce.
func forge(header, claims map[string]any, sig []byte) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	return b64(h) + "." + b64(c) + "." + b64(sig)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// TestOIDCSignIn: a user signs in with the authorization code flow, as
// Grafana does, and the access token it gets is accepted, with the groups
// the provider put in it; the provider's discovery and keys are fetched
// once however many tokens arrive.
func TestOIDCSignIn(t *testing.T) {
	f := newOIDCFixture(t, nil)
	f.idp.AddUser("alice", map[string]any{"groups": []string{"team-payments", "interns"}})
	grafana := oidctest.Client{ID: "grafana", Secret: "s3cret", RedirectURI: "http://grafana.test/login/generic_oauth", Audience: []string{"tollgate"}}
	f.idp.AddClient(grafana)
	for range 3 {
		tokens := f.idp.Login(t, grafana, "alice")
		f.accept(t, tokens.AccessToken, "alice", "team-payments", "interns")
		f.accept(t, tokens.AccessToken, "alice", "team-payments", "interns") // cached
	}
	if d, k := f.idp.Fetches(); d != 1 || k != 1 {
		t.Errorf("discovery fetched %d times, keys %d times; want once each", d, k)
	}
	// The static token still works beside OIDC.
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+staticCIToken)
	if id, err := f.auth.Authenticate(context.Background(), r); err != nil || id.User != "token:ci" {
		t.Errorf("static token: %+v %v", id, err)
	}
}

// TestOIDCGroupClaims: the groups claim may be a string or a list, nested
// under a path, with a prefix; the user claim is configurable.
func TestOIDCGroupClaims(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(*identity.OIDCConfig)
		extra  map[string]any
		user   string
		groups []string
	}{
		{"list", nil, map[string]any{"groups": []string{"a", "b", "a", " "}}, "alice", []string{"a", "b"}},
		{"string", nil, map[string]any{"groups": "team-payments"}, "alice", []string{"team-payments"}},
		{"absent: no groups, no tenant", nil, nil, "alice", nil},
		{"Keycloak realm roles", func(o *identity.OIDCConfig) { o.GroupsClaim = "realm_access.roles" },
			map[string]any{"realm_access": map[string]any{"roles": []string{"sre"}}, "groups": []string{"ignored"}}, "alice", []string{"sre"}},
		{"Cognito groups with a prefix", func(o *identity.OIDCConfig) { o.GroupsClaim = "cognito:groups"; o.GroupsPrefix = "cognito:" },
			map[string]any{"cognito:groups": []string{"payments"}}, "alice", []string{"cognito:payments"}},
		{"a claim name with dots", func(o *identity.OIDCConfig) { o.GroupsClaim = "kubernetes.io.namespace" },
			map[string]any{"kubernetes.io": map[string]any{"namespace": "ci"}}, "alice", []string{"ci"}},
		{"user from preferred_username", func(o *identity.OIDCConfig) { o.UserClaim = "preferred_username" },
			map[string]any{"preferred_username": "alice@bank.example"}, "alice@bank.example", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newOIDCFixture(t, tc.edit)
			f.accept(t, f.idp.Mint(t, f.claims(tc.extra)), tc.user, tc.groups...)
		})
	}
}

// TestOIDCAttacks: every token here is refused with a 401 that says why,
// never quotes the token, and never falls through to the static tokens.
func TestOIDCAttacks(t *testing.T) {
	f := newOIDCFixture(t, nil)
	priv, kid := f.idp.SigningKey()
	valid := f.claims(map[string]any{"groups": []string{"team-payments"}})
	f.accept(t, f.idp.Mint(t, valid), "alice", "team-payments") // the keys are known from here on
	attacker := oidctest.NewRSAKey(t)
	now := f.clock.Now()
	with := func(k string, v any) map[string]any {
		c := maps(valid)
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	pubPEM := publicPEM(t, priv.Public())
	hs256 := func(secret []byte) string {
		h, _ := json.Marshal(map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid})
		c, _ := json.Marshal(valid)
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(b64(h) + "." + b64(c)))
		return b64(h) + "." + b64(c) + "." + b64(mac.Sum(nil))
	}
	other := oidctest.Start(t)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	overage := with("groups", nil)
	overage["_claim_names"] = map[string]any{"groups": "src1"}
	overage["_claim_sources"] = map[string]any{"src1": map[string]any{"endpoint": "https://graph.microsoft.com/v1.0/users/x/getMemberObjects"}}

	cases := []struct{ name, tok, reason string }{
		{"alg none", forge(map[string]any{"alg": "none", "typ": "JWT"}, valid, nil), `unsigned (alg "none")`},
		{"alg None, with the provider's kid", forge(map[string]any{"alg": "None", "kid": kid}, valid, nil), "unsigned"},
		{"HS256 signed with the RSA public key (PEM)", hs256(pubPEM), "HMAC"},
		{"HS256 signed with the RSA public key (DER)", hs256(pemBody(pubPEM)), "HMAC"},
		{"HS512", forge(map[string]any{"alg": "HS512", "kid": kid}, valid, []byte("x")), "HMAC"},
		{"expired", f.idp.Mint(t, with("exp", now.Add(-time.Hour).Unix())), "expired at"},
		{"expired beyond the skew", f.idp.Mint(t, with("exp", now.Add(-31*time.Second).Unix())), "expired at"},
		{"no exp", f.idp.Mint(t, with("exp", nil)), "no expiry (exp claim)"},
		{"exp not a number", f.idp.Mint(t, with("exp", "tomorrow")), "malformed"},
		{"not yet valid", f.idp.Mint(t, with("nbf", now.Add(time.Hour).Unix())), "not valid before"},
		{"issued in the future", f.idp.Mint(t, with("iat", now.Add(time.Hour).Unix())), "issued at"},
		{"wrong audience", f.idp.Mint(t, with("aud", []string{"grafana"})), `audience ["grafana"] is not one of auth.oidc[0].audiences`},
		{"no audience", f.idp.Mint(t, with("aud", nil)), "audience [] is not one of"},
		{"another issuer", other.Mint(t, other.Claims("alice", []string{"tollgate"}, nil)), "is not one of the issuers in auth.oidc"},
		{"no issuer", oidctest.Sign(t, priv, jose.RS256, map[string]any{"kid": kid}, with("iss", nil)), "no issuer"},
		{"our issuer, another issuer's key", oidctest.Sign(t, attacker, jose.RS256, map[string]any{"kid": kid}, valid), `signature does not verify with ` + f.idp.URL + `'s key "key-1"`},
		{"our issuer, no kid, another key", oidctest.Sign(t, attacker, jose.RS256, nil, valid), "does not verify with any key"},
		{"unknown kid", oidctest.Sign(t, attacker, jose.RS256, map[string]any{"kid": "attacker-1"}, valid), `key "attacker-1", which ` + f.idp.URL + " does not publish"},
		{"embedded jwk of the attacker's key", oidctest.Sign(t, attacker, jose.RS256, map[string]any{"kid": kid, "jwk": jose.JSONWebKey{Key: attacker.Public()}}, valid), "signature does not verify"},
		{"algorithm not allowed", oidctest.Sign(t, ecKey, jose.ES512, map[string]any{"kid": kid}, valid), `signed with "ES512", which auth.oidc[0].allowed_algorithms does not list`},
		{"tampered payload", tamper(f.idp.Mint(t, valid), with("groups", []string{"platform-sre"})), "signature does not verify"},
		{"oversized", f.idp.Mint(t, with("pad", strings.Repeat("x", 16<<10))), "more than auth.oidc[].max_token_bytes (16384)"},
		{"groups of numbers", f.idp.Mint(t, with("groups", []int{1, 2})), `"groups" claim (auth.oidc[0].groups_claim) holds a number`},
		{"groups an object", f.idp.Mint(t, with("groups", map[string]any{"a": 1})), "is an object"},
		{"no subject", f.idp.Mint(t, with("sub", nil)), `no "sub" claim naming the user`},
		{"Entra ID groups overage", f.idp.Mint(t, overage), `groups overage: _claim_names.groups); Tollgate does not call Microsoft Graph to fetch them. In the app registration, emit only the groups assigned to the application`},
		{"garbage header", "eyJ!!!.eyJ.sig", "header is not base64url-encoded JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Logf("401: %s", f.refuse(t, tc.tok, tc.reason))
		})
	}
	// The forged headers carry what their names say.
	if h := header(t, cases[18].tok); h["jwk"] == nil || cases[18].name != "embedded jwk of the attacker's key" {
		t.Errorf("%s: header %v has no jwk", cases[18].name, h)
	}
}

// A jku or x5u header pointing at the attacker's key set is never
// followed: the attacker's server sees no request, the token is refused.
func TestOIDCIgnoresKeyURLHeaders(t *testing.T) {
	f := newOIDCFixture(t, nil)
	attacker := oidctest.NewRSAKey(t)
	var hits atomic.Int64
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: attacker.Public(), KeyID: "evil", Algorithm: "RS256", Use: "sig"}}})
	}))
	defer evil.Close()
	valid := f.claims(nil)
	for _, h := range []map[string]any{
		{"kid": "evil", "jku": evil.URL},
		{"kid": "key-1", "jku": evil.URL},
		{"kid": "evil", "x5u": evil.URL},
	} {
		tok := oidctest.Sign(t, attacker, jose.RS256, h, valid)
		if got := header(t, tok); got["jku"] != h["jku"] || got["x5u"] != h["x5u"] {
			t.Fatalf("header %v lost its key URL", got)
		}
		f.refuse(t, tok, "")
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the attacker's key server was asked %d times", n)
	}
}

// An unknown kid makes Tollgate fetch the keys again, but at most once per
// jwks_min_refetch_interval however many such tokens arrive.
func TestOIDCUnknownKidRefetchIsRateLimited(t *testing.T) {
	f := newOIDCFixture(t, nil)
	f.accept(t, f.idp.Mint(t, f.claims(nil)), "alice")
	attacker := oidctest.NewRSAKey(t)
	f.clock.Advance(11 * time.Second) // past the default 10s since the first fetch
	for i := range 50 {
		f.refuse(t, oidctest.Sign(t, attacker, jose.RS256, map[string]any{"kid": fmt.Sprintf("forged-%d", i)}, f.claims(nil)), "does not publish")
	}
	if _, k := f.idp.Fetches(); k != 2 {
		t.Errorf("keys fetched %d times for 50 unknown key IDs; want 2 (the first token, then one refetch)", k)
	}
	f.clock.Advance(11 * time.Second)
	f.refuse(t, oidctest.Sign(t, attacker, jose.RS256, map[string]any{"kid": "forged-again"}, f.claims(nil)), "does not publish")
	if _, k := f.idp.Fetches(); k != 3 {
		t.Errorf("keys fetched %d times; want 3 once the interval passed", k)
	}
}

// TestOIDCKeyRotation: the provider rotates its key mid-test. Tokens of
// the new key are accepted without a restart, tokens of the old key during
// the grace period too. After it, old-key tokens are refused as soon as
// Tollgate fetches the keys again, whether a new key ID or the refresh
// interval makes it, and tokens verified and cached before included.
func TestOIDCKeyRotation(t *testing.T) {
	f := newOIDCFixture(t, nil)
	a := f.idp.Mint(t, f.claims(map[string]any{"groups": "a"}))
	f.accept(t, a, "alice", "a")

	f.clock.Advance(11 * time.Second)
	if kid := f.idp.Rotate(t); kid != "key-2" {
		t.Fatalf("rotated to %q", kid)
	}
	b := f.idp.Mint(t, f.claims(map[string]any{"groups": "b"}))
	f.accept(t, b, "alice", "b") // an unknown key ID: the keys are fetched again
	f.accept(t, a, "alice", "a") // grace period: both keys published

	f.idp.EndGrace()
	f.accept(t, a, "alice", "a") // Tollgate has not looked yet

	// A third key: its first token makes Tollgate fetch the keys, which no
	// longer hold key-1. The cached verdict on a goes with it.
	f.clock.Advance(11 * time.Second)
	f.idp.Rotate(t)
	c := f.idp.Mint(t, f.claims(map[string]any{"groups": "c"}))
	f.accept(t, c, "alice", "c")
	f.refuse(t, a, `the token names key "key-1", which `+f.idp.URL+` no longer publishes (it was rotated out)`)
	f.accept(t, b, "alice", "b")

	// Key-2 is withdrawn too; no new key ID arrives, so the refresh
	// interval is what makes Tollgate notice.
	f.idp.EndGrace()
	f.accept(t, b, "alice", "b")
	f.clock.Advance(identity.DefaultOIDCJWKSRefresh)
	f.refuse(t, b, `key "key-2", which `+f.idp.URL+` no longer publishes`)
	f.accept(t, c, "alice", "c")
	f.accept(t, f.idp.Mint(t, f.claims(nil)), "alice")
}

// TestOIDCProviderDown: while the provider cannot be reached, its tokens
// get ErrUnavailable (503) with a retry time, static tokens still work,
// and the provider is asked at most once per interval; once it is back,
// its tokens are accepted.
func TestOIDCProviderDown(t *testing.T) {
	f := newOIDCFixture(t, nil)
	f.idp.SetDown(true)
	tok := f.idp.Mint(t, f.claims(nil))
	for range 5 {
		_, err := f.authenticate(tok)
		retry, ok := identity.RetryAfter(err)
		if !errors.Is(err, identity.ErrUnavailable) || errors.Is(err, identity.ErrUnauthenticated) || !ok || retry < time.Second || retry > 10*time.Second {
			t.Fatalf("provider down: %v (retry %s)", err, retry)
		}
		noTokenIn(t, err.Error(), tok)
	}
	if !strings.Contains(fmt.Sprint(f.authenticate(tok)), "cannot be reached to check the token") {
		t.Error("the error does not say the provider cannot be reached")
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+staticCIToken)
	if _, err := f.auth.Authenticate(context.Background(), r); err != nil {
		t.Errorf("static token while the provider is down: %v", err)
	}
	f.idp.SetDown(false)
	if _, err := f.authenticate(tok); !errors.Is(err, identity.ErrUnavailable) {
		t.Errorf("within the retry interval: %v; want still unavailable, without asking the provider", err)
	}
	f.clock.Advance(11 * time.Second)
	f.accept(t, tok, "alice")

	// Down again: the keys held keep verifying, refresh or not.
	f.idp.SetDown(true)
	f.clock.Advance(identity.DefaultOIDCJWKSRefresh)
	f.accept(t, f.idp.Mint(t, f.claims(nil)), "alice")
}

// A JWT that fails is never tried as a static token, even when its
// SHA-256 is configured as one.
func TestOIDCFailedJWTNeverFallsThrough(t *testing.T) {
	idp := oidctest.Start(t)
	expired := idp.Mint(t, idp.Claims("alice", []string{"tollgate"}, map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}))
	cfg := identity.Config{
		OIDC:   []identity.OIDCConfig{{Issuer: idp.URL, Audiences: []string{"tollgate"}}},
		Tokens: []identity.TokenConfig{{Name: "jwt-shaped", SHA256: identity.HashToken(expired), Groups: []string{"platform-sre"}}},
	}
	a, err := identity.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+expired)
	id, err := a.Authenticate(context.Background(), r)
	if err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("got %+v %v; want the OIDC refusal", id, err)
	}
	// Without auth.oidc, a JWT is just a bearer token.
	a, _ = identity.New(identity.Config{Tokens: cfg.Tokens})
	if id, err := a.Authenticate(context.Background(), r); err != nil || id.User != "token:jwt-shaped" {
		t.Errorf("without auth.oidc: %+v %v", id, err)
	}
}

// A cached token expires with the token, and the clock skew applies on
// both sides.
func TestOIDCCacheExpiresWithToken(t *testing.T) {
	f := newOIDCFixture(t, nil)
	exp := time.Now().Add(2 * time.Minute).Truncate(time.Second)
	tok := f.idp.Mint(t, f.claims(map[string]any{"exp": exp.Unix()}))
	f.accept(t, tok, "alice")
	f.clock.Set(exp.Add(29 * time.Second)) // within the 30s skew
	f.accept(t, tok, "alice")
	f.clock.Set(exp.Add(31 * time.Second))
	f.refuse(t, tok, "expired at")

	early := f.idp.Mint(t, f.claims(map[string]any{"nbf": f.clock.Now().Add(20 * time.Second).Unix(), "exp": f.clock.Now().Add(time.Hour).Unix()}))
	f.accept(t, early, "alice") // nbf within the skew
}

func maps(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func publicPEM(t *testing.T, pub any) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func pemBody(p []byte) []byte {
	b, _ := pem.Decode(p)
	return b.Bytes
}

func header(t *testing.T, tok string) map[string]any {
	h, _, _ := strings.Cut(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	var m map[string]any
	if err != nil || json.Unmarshal(b, &m) != nil {
		t.Fatalf("header %q", h)
	}
	return m
}

// tamper replaces a signed token's payload, keeping its signature.
func tamper(tok string, claims map[string]any) string {
	parts := strings.Split(tok, ".")
	c, _ := json.Marshal(claims)
	return parts[0] + "." + b64(c) + "." + parts[2]
}

// Many requests arriving together before the keys are known wait for one
// discovery and one key fetch, and all succeed.
func TestOIDCConcurrentFirstTokens(t *testing.T) {
	f := newOIDCFixture(t, nil)
	toks := make([]string, 4)
	for i := range toks {
		toks[i] = f.idp.Mint(t, f.claims(map[string]any{"jti": fmt.Sprint(i)}))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			if _, err := f.authenticate(toks[i%len(toks)]); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if d, k := f.idp.Fetches(); d != 1 || k != 1 {
		t.Errorf("discovery fetched %d times, keys %d times; want once each", d, k)
	}
}
