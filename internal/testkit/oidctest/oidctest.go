// Package oidctest runs a real OpenID provider on loopback for tests,
// built on github.com/zitadel/oidc's op package (an OpenID-certified
// implementation): discovery, JWKS, the authorization code flow and the
// token endpoint, with in-memory users and clients. Tests sign in users
// the way Grafana does (Login), mint tokens the way a Kubernetes API server
// mints service-account tokens (Mint), rotate the signing key in the middle
// of a test (Rotate, EndGrace) and take the provider down (SetDown). It
// counts the discovery and key fetches it serves.
package oidctest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Provider is a running OpenID provider.
type Provider struct {
	// URL is the issuer: the tokens' iss, and where discovery is served.
	URL string

	store      *storage
	down       atomic.Bool
	discovery  atomic.Int64
	keyFetches atomic.Int64
	provider   *op.Provider
}

// Start runs a provider on a loopback port until the test ends. Its first
// signing key is an RSA key with key ID "key-1".
func Start(tb testing.TB) *Provider {
	tb.Helper()
	p := &Provider{store: newStorage()}
	p.store.addKey(tb)
	mux := http.NewServeMux()
	srv := httptest.NewUnstartedServer(mux)
	p.URL = "http://" + srv.Listener.Addr().String()
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		tb.Fatal(err)
	}
	prov, err := op.NewProvider(&op.Config{CryptoKey: key, CodeMethodS256: true}, p.store, op.StaticIssuer(p.URL), op.WithAllowInsecure())
	if err != nil {
		tb.Fatal(err)
	}
	p.provider = prov
	p.store.loginURL = p.URL + "/login?id="
	mux.HandleFunc("/login", p.login)
	mux.Handle("/", p.counting(prov))
	srv.Start()
	tb.Cleanup(srv.Close)
	return p
}

// counting answers 503 while the provider is down and counts discovery
// and key fetches.
func (p *Provider) counting(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.down.Load() {
			http.Error(w, "identity provider down for the test", http.StatusServiceUnavailable)
			return
		}
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			p.discovery.Add(1)
		case "/keys":
			p.keyFetches.Add(1)
		}
		h.ServeHTTP(w, r)
	})
}

// SetDown makes every endpoint answer 503 (true) or serve again (false).
func (p *Provider) SetDown(down bool) { p.down.Store(down) }

// Fetches returns how many discovery documents and key sets were served.
func (p *Provider) Fetches() (discovery, keys int64) {
	return p.discovery.Load(), p.keyFetches.Load()
}

// AddUser registers a user; claims (groups, roles, email...) go into its
// access and ID tokens as given.
func (p *Provider) AddUser(subject string, claims map[string]any) {
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	p.store.users[subject] = claims
}

// Client is a confidential client of the provider, such as Grafana.
type Client struct {
	ID, Secret  string
	RedirectURI string
	// Audience is put in the tokens besides the client's ID: the APIs the
	// client calls with them (an audience mapper in Keycloak).
	Audience []string
}

// AddClient registers a client for the authorization code flow.
func (p *Provider) AddClient(c Client) {
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	p.store.clients[c.ID] = &client{Client: c, loginURL: p.store.loginURL}
}

// Tokens are what a client holds after a user signed in.
type Tokens struct {
	AccessToken string `json:"access_token"`
	IDToken     string `json:"id_token"`
	TokenType   string `json:"token_type"`
}

// Login signs user in as client c with the authorization code flow, the
// way Grafana's generic OAuth login does, and returns the tokens.
func (p *Provider) Login(tb testing.TB, c Client, user string) Tokens {
	tb.Helper()
	code := p.authorize(tb, c, user)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.RedirectURI}}
	req, err := http.NewRequest(http.MethodPost, p.URL+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var t Tokens
	if err := json.NewDecoder(resp.Body).Decode(&t); err != nil || resp.StatusCode != http.StatusOK || t.AccessToken == "" || t.IDToken == "" {
		tb.Fatalf("token endpoint: %s %+v %v", resp.Status, t, err)
	}
	return t
}

// authorize follows the redirects of the authorization endpoint, through
// the login page, until the provider sends the browser back to the
// client's redirect URI with a code.
func (p *Provider) authorize(tb testing.TB, c Client, user string) string {
	tb.Helper()
	redirect, err := url.Parse(c.RedirectURI)
	if err != nil {
		tb.Fatal(err)
	}
	browser := &http.Client{CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host == redirect.Host {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	q := url.Values{
		"client_id": {c.ID}, "redirect_uri": {c.RedirectURI}, "response_type": {"code"},
		"scope": {"openid profile email groups"}, "state": {"st4te"}, "nonce": {"n0nce"}, "login_hint": {user},
	}
	resp, err := browser.Get(p.URL + "/authorize?" + q.Encode())
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound || back.Query().Get("code") == "" {
		tb.Fatalf("authorization flow ended with %s, Location %q", resp.Status, resp.Header.Get("Location"))
	}
	return back.Query().Get("code")
}

// login is the provider's login page: it signs in the user named by the
// request's login_hint, without a password, and sends the browser on.
func (p *Provider) login(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	if err := p.store.finishLogin(id); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, p.URL+"/authorize/callback?id="+url.QueryEscape(id), http.StatusFound)
}

// Mint signs claims with the current signing key, as the provider signs
// its tokens: what a Kubernetes API server does for a service account.
// iss is set to the provider's URL unless claims has one.
func (p *Provider) Mint(tb testing.TB, claims map[string]any) string {
	tb.Helper()
	k := p.store.current()
	return Sign(tb, k.priv, k.alg, map[string]any{"kid": k.kid}, p.withIssuer(claims))
}

func (p *Provider) withIssuer(claims map[string]any) map[string]any {
	out := map[string]any{"iss": p.URL}
	for k, v := range claims {
		out[k] = v
	}
	return out
}

// SigningKey returns the current signing key and its key ID.
func (p *Provider) SigningKey() (crypto.Signer, string) {
	k := p.store.current()
	return k.priv, k.kid
}

// Rotate makes a new key the signing key and returns its key ID. The
// keys before it stay published (the grace period) until EndGrace.
func (p *Provider) Rotate(tb testing.TB) string {
	tb.Helper()
	return p.store.addKey(tb).kid
}

// EndGrace withdraws every key but the current signing key from the JWKS.
func (p *Provider) EndGrace() { p.store.endGrace() }

// Sign makes a compact JWS of claims with key and alg, with the extra
// header fields given (kid, jku, jwk...).
func Sign(tb testing.TB, key crypto.Signer, alg jose.SignatureAlgorithm, header map[string]any, claims map[string]any) string {
	tb.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	var kid string
	for k, v := range header {
		if k == "kid" {
			kid, _ = v.(string)
			continue
		}
		opts = opts.WithHeader(jose.HeaderKey(k), v)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, opts)
	if err != nil {
		tb.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		tb.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// NewRSAKey returns a 2048-bit RSA key.
func NewRSAKey(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// Claims returns standard claims for the provider valid for an hour from
// now: iss, sub, aud, iat, nbf and exp, merged with extra.
func (p *Provider) Claims(sub string, aud []string, extra map[string]any) map[string]any {
	now := time.Now()
	c := map[string]any{"iss": p.URL, "sub": sub, "aud": aud, "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

func (p *Provider) String() string { return fmt.Sprintf("oidctest provider at %s", p.URL) }
