package identity

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
)

// Bounds on what an identity provider sends. It is configured by the
// operator, not by callers, but a broken or hijacked provider must still
// not stall or exhaust the gateway.
const (
	idpFetchTimeout   = 10 * time.Second
	maxIdPBodyBytes   = 1 << 20
	maxRetiredKeyIDs  = 32
	maxIdPRedirects   = 5
	minRetryAfterSecs = 1
)

var errBadSignature = errors.New("signature does not verify")

// keySet holds one issuer's signing keys, fetched through discovery. It
// implements go-oidc's KeySet with the keys it holds; fetching is separate
// (prepare, ensureKid) so that every fetch is rate-limited and a failure
// is told apart from a bad token.
type keySet struct {
	issuer, path string
	algs         []jose.SignatureAlgorithm
	client       *http.Client
	now          func() time.Time
	log          *slog.Logger
	refresh      time.Duration // jwks_refresh_interval
	minRefetch   time.Duration // jwks_min_refetch_interval

	// gen changes whenever a key is withdrawn, which invalidates every
	// cached token verified before.
	gen atomic.Uint64

	mu        sync.Mutex
	jwksURL   string
	keys      []jose.JSONWebKey
	fetchedAt time.Time     // last successful fetch; zero before
	attemptAt time.Time     // last fetch started
	lastErr   error         // of the last fetch, nil if it succeeded
	inflight  chan struct{} // closed when the running fetch ends
	retired   []string      // key IDs withdrawn, newest last
}

func newKeySet(c OIDCConfig, path string, o Options) (*keySet, error) {
	rt := o.Transport
	if rt == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		if c.CAFile != "" {
			pool, err := caPool(c.CAFile)
			if err != nil {
				return nil, fmt.Errorf("%s.ca_file: %w", path, err)
			}
			t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		}
		rt = t
	}
	issuerURL, err := url.Parse(c.Issuer)
	if err != nil {
		return nil, fmt.Errorf("%s.issuer: %w", path, err)
	}
	k := &keySet{
		issuer: c.Issuer, path: path, now: o.Now, log: o.Logger,
		refresh: time.Duration(c.JWKSRefreshInterval), minRefetch: time.Duration(c.JWKSMinRefetchInterval),
	}
	for _, a := range c.oidcAlgorithms() {
		k.algs = append(k.algs, jose.SignatureAlgorithm(a))
	}
	k.client = &http.Client{
		Transport: limitedTransport{rt},
		Timeout:   idpFetchTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxIdPRedirects {
				return fmt.Errorf("more than %d redirects", maxIdPRedirects)
			}
			return checkSameSecurity(issuerURL, req.URL)
		},
	}
	return k, nil
}

func caPool(file string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}

// checkSameSecurity refuses a URL (jwks_uri, a redirect) that would fetch
// keys of an https issuer over plain http.
func checkSameSecurity(issuer, u *url.URL) error {
	if u.Scheme == "https" || (u.Scheme == "http" && issuer.Scheme == "http" && isLoopbackHost(u.Hostname())) {
		return nil
	}
	return fmt.Errorf("%s is not https", u.Redacted())
}

func (k *keySet) generation() uint64 { return k.gen.Load() }

// freshUntil is when the keys held are due for a refresh.
func (k *keySet) freshUntil() time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.fetchedAt.Add(k.refresh)
}

// prepare makes sure keys are at hand. The first token of an issuer waits
// for discovery and the keys; while they cannot be fetched, its tokens get
// ErrUnavailable. Keys older than jwks_refresh_interval are fetched again
// by the request that notices; if that fails the old keys stay in use, so
// a provider outage does not lock out users whose keys are known.
func (k *keySet) prepare(ctx context.Context) error {
	k.mu.Lock()
	now := k.now()
	have := !k.fetchedAt.IsZero()
	if have && now.Sub(k.fetchedAt) < k.refresh {
		k.mu.Unlock()
		return nil
	}
	done, mine := k.startFetchLocked(now)
	k.mu.Unlock()
	if have && !mine {
		return nil // another request refreshes, or it is too soon: use the keys held
	}
	if done == nil {
		return k.unavailable()
	}
	if err := wait(ctx, done); err != nil {
		return err
	}
	k.mu.Lock()
	have = !k.fetchedAt.IsZero()
	k.mu.Unlock()
	if !have {
		return k.unavailable()
	}
	return nil
}

// ensureKid makes sure the key a token names is held, fetching the keys
// again (rate-limited) when it is not: that is how a rotation is noticed.
func (k *keySet) ensureKid(ctx context.Context, kid string) error {
	if kid == "" || k.has(kid) {
		return nil
	}
	k.mu.Lock()
	done, _ := k.startFetchLocked(k.now())
	k.mu.Unlock()
	if done != nil {
		if err := wait(ctx, done); err != nil {
			return err
		}
		if k.has(kid) {
			return nil
		}
	}
	k.mu.Lock()
	retired, failed := slices.Contains(k.retired, kid), k.lastErr != nil
	k.mu.Unlock()
	switch {
	case done != nil && failed:
		return k.unavailable()
	case retired:
		return unauthenticated("the token names key %s, which %s no longer publishes (it was rotated out); get a new token", quoteShort(kid), k.issuer)
	}
	return unauthenticated("the token names key %s, which %s does not publish (its keys are fetched again at most every %s)", quoteShort(kid), k.issuer, k.minRefetch)
}

func (k *keySet) has(kid string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.ContainsFunc(k.keys, func(j jose.JSONWebKey) bool { return j.KeyID == kid })
}

func wait(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: the request ended while the identity provider's keys were fetched: %v", ErrUnauthenticated, ctx.Err())
	}
}

// unavailable says when the next fetch may happen.
func (k *keySet) unavailable() error {
	k.mu.Lock()
	retry := k.minRefetch - k.now().Sub(k.attemptAt)
	k.mu.Unlock()
	return &unavailableError{issuer: k.issuer, path: k.path, retry: max(retry.Round(time.Second), minRetryAfterSecs*time.Second)}
}

// startFetchLocked starts a fetch unless one is running (whose channel it
// returns, mine false) or the last one started less than
// jwks_min_refetch_interval ago (nil). k.mu is held.
func (k *keySet) startFetchLocked(now time.Time) (done chan struct{}, mine bool) {
	if k.inflight != nil {
		return k.inflight, false
	}
	if !k.attemptAt.IsZero() && now.Sub(k.attemptAt) < k.minRefetch {
		return nil, false
	}
	done = make(chan struct{})
	k.inflight, k.attemptAt = done, now
	go k.fetch(done, k.jwksURL)
	return done, true
}

// fetch runs discovery (once, or again after a failure) and fetches the
// keys. It is detached from the request that started it: other requests
// may be waiting for it too.
func (k *keySet) fetch(done chan struct{}, jwksURL string) {
	ctx, cancel := context.WithTimeout(context.Background(), idpFetchTimeout)
	defer cancel()
	keys, jwksURL, err := k.download(ctx, jwksURL)
	k.mu.Lock()
	defer func() {
		k.inflight = nil
		k.mu.Unlock()
		close(done)
	}()
	k.lastErr = err
	if err != nil {
		k.jwksURL = "" // discover again next time: the jwks_uri may have moved
		k.log.Warn("cannot fetch the identity provider's keys; its tokens are refused with 503 until they are fetched, unless keys fetched before still verify them",
			"issuer", k.issuer, "config", k.path, "err", err, "retry_in", k.minRefetch)
		return
	}
	k.jwksURL = jwksURL
	k.replaceLocked(keys)
}

// replaceLocked installs a new key set. A key that disappeared is retired:
// tokens naming it are refused with that reason, and the generation moves
// on so that tokens it verified are verified again (and refused).
func (k *keySet) replaceLocked(keys []jose.JSONWebKey) {
	thumbs := map[string]bool{}
	for _, j := range keys {
		thumbs[thumbprint(j)] = true
	}
	withdrawn := false
	for _, old := range k.keys {
		if !thumbs[thumbprint(old)] {
			withdrawn = true
			if old.KeyID != "" && !slices.ContainsFunc(keys, func(j jose.JSONWebKey) bool { return j.KeyID == old.KeyID }) {
				k.retired = append(k.retired, old.KeyID)
			}
		}
	}
	if len(k.retired) > maxRetiredKeyIDs {
		k.retired = slices.Clone(k.retired[len(k.retired)-maxRetiredKeyIDs:])
	}
	if withdrawn {
		k.gen.Add(1)
		k.log.Info("the identity provider withdrew signing keys; tokens signed with them are refused", "issuer", k.issuer, "config", k.path)
	}
	k.keys, k.fetchedAt = keys, k.now()
}

func thumbprint(j jose.JSONWebKey) string {
	b, err := j.Thumbprint(crypto.SHA256)
	if err != nil {
		return "kid:" + j.KeyID
	}
	return string(b)
}

// download fetches the discovery document (unless jwksURL is known) and
// the keys.
func (k *keySet) download(ctx context.Context, jwksURL string) ([]jose.JSONWebKey, string, error) {
	if jwksURL == "" {
		u, err := k.discover(ctx)
		if err != nil {
			return nil, "", err
		}
		jwksURL = u
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, jwksURL, nil)
	if err != nil {
		return nil, "", fmt.Errorf("jwks_uri %q: %w", jwksURL, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("fetching the keys: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", fmt.Errorf("reading the keys from %s: %w", jwksURL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("fetching the keys from %s: %s", jwksURL, resp.Status)
	}
	keys, err := parseJWKS(body)
	if err != nil {
		return nil, "", fmt.Errorf("the keys at %s: %w", jwksURL, err)
	}
	return keys, jwksURL, nil
}

// discover fetches the discovery document with go-oidc, which checks that
// it names the configured issuer, and returns its jwks_uri.
func (k *keySet) discover(ctx context.Context) (string, error) {
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, k.client), k.issuer)
	if err != nil {
		return "", fmt.Errorf("discovery: %w", err)
	}
	var meta struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := p.Claims(&meta); err != nil || meta.JWKSURI == "" {
		return "", errors.New("discovery: the document has no jwks_uri")
	}
	u, err := url.Parse(meta.JWKSURI)
	if err != nil {
		return "", fmt.Errorf("discovery: jwks_uri: %w", err)
	}
	iss, _ := url.Parse(k.issuer)
	if err := checkSameSecurity(iss, u); err != nil {
		return "", fmt.Errorf("discovery: jwks_uri: %w", err)
	}
	return meta.JWKSURI, nil
}

// parseJWKS keeps the public signing keys of a JWKS. Keys of types it does
// not know, encryption keys and symmetric keys are skipped, not fatal:
// providers publish such keys beside their signing keys.
func parseJWKS(b []byte) ([]jose.JSONWebKey, error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("not a JSON Web Key Set: %w", err)
	}
	var keys []jose.JSONWebKey
	for _, r := range raw.Keys {
		var j jose.JSONWebKey
		if err := j.UnmarshalJSON(r); err != nil || j.Use == "enc" {
			continue
		}
		switch j.Key.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
			j = j.Public() // published by mistake: only the public half is used
		default:
			continue // symmetric ("oct") keys: never a verification key here
		}
		if j.Valid() {
			keys = append(keys, j)
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("no public signing key")
	}
	return keys, nil
}

// VerifySignature implements oidc.KeySet with the keys held; it never
// fetches (ensureKid did). Only the key the token names is tried, and a key
// published for one algorithm is not used with another.
func (k *keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	payload, err := k.verifySignature(raw)
	if errors.Is(err, errBadSignature) {
		if o, ok := ctx.Value(signatureOutcomeKey{}).(*signatureOutcome); ok {
			o.failed = true
		}
	}
	return payload, err
}

func (k *keySet) verifySignature(raw string) ([]byte, error) {
	jws, err := jose.ParseSigned(raw, k.algs)
	if err != nil {
		return nil, fmt.Errorf("malformed jwt: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("a token must carry exactly one signature")
	}
	h := jws.Signatures[0].Header
	k.mu.Lock()
	keys := k.keys
	k.mu.Unlock()
	for i := range keys {
		j := &keys[i]
		if (h.KeyID != "" && j.KeyID != h.KeyID) || (j.Algorithm != "" && j.Algorithm != h.Algorithm) {
			continue
		}
		if payload, err := jws.Verify(j); err == nil {
			return payload, nil
		}
	}
	return nil, errBadSignature
}

// limitedTransport caps response bodies from the identity provider.
type limitedTransport struct{ rt http.RoundTripper }

func (t limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: maxIdPBodyBytes + 1}
	return resp, nil
}

type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	if b.left <= 0 {
		return n, fmt.Errorf("the identity provider's answer is larger than %d bytes", maxIdPBodyBytes)
	}
	return n, err
}
