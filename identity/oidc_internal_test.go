package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// The cache never holds more than token_cache_entries tokens, and an entry
// is not returned once its token expired or the keys changed.
func TestTokenCacheBounded(t *testing.T) {
	c := newTokenCache(100)
	now := time.Now()
	for i := range 1000 {
		c.put(sha256.Sum256([]byte(fmt.Sprint(i))), Identity{User: fmt.Sprint(i)}, now.Add(time.Hour), 0, now)
		if n := c.len(); n > 100 {
			t.Fatalf("after %d insertions the cache holds %d entries", i+1, n)
		}
	}
	sum := sha256.Sum256([]byte("999"))
	if id, ok := c.get(sum, now, 0); !ok || id.User != "999" {
		t.Errorf("the newest entry is gone: %+v %v", id, ok)
	}
	if _, ok := c.get(sum, now.Add(time.Hour), 0); ok {
		t.Error("an entry is returned at its expiry")
	}
	if _, ok := c.get(sum, now, 1); ok {
		t.Error("an entry is returned after the keys changed")
	}
	// The groups handed out are the caller's own.
	c.put(sum, Identity{User: "g", Groups: []string{"a"}}, now.Add(time.Hour), 0, now)
	id, _ := c.get(sum, now, 0)
	id.Groups[0] = "platform-sre"
	if again, _ := c.get(sum, now, 0); again.Groups[0] != "a" {
		t.Error("a caller changed the cached groups")
	}
}

// testIssuer is an issuer whose keys are installed directly, without a
// provider.
func testIssuer(t *testing.T, pub any) *oidcIssuer {
	t.Helper()
	c := OIDCConfig{Issuer: "https://idp.example", Audiences: []string{"tollgate"}}
	c.applyDefaults()
	now := time.Now()
	is, err := newOIDCIssuer(c, "auth.oidc[0]", Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	is.keys.mu.Lock()
	is.keys.replaceLocked([]jose.JSONWebKey{{Key: pub, KeyID: "k1", Algorithm: "RS256", Use: "sig"}})
	is.keys.mu.Unlock()
	return is
}

// Besides the refusal of HMAC and "none" before verification (which gives
// the clear 401), go-oidc itself refuses them: the algorithm list handed to
// it holds neither, so removing the early check would not open a hole.
func TestVerifierRefusesHMACAndNone(t *testing.T) {
	priv, _ := rsa.GenerateKey(rand.Reader, 2048)
	is := testIssuer(t, &priv.PublicKey)
	claims, _ := json.Marshal(map[string]any{"iss": "https://idp.example", "sub": "a", "aud": "tollgate", "exp": time.Now().Add(time.Hour).Unix()})
	pubJSON, _ := json.Marshal(jose.JSONWebKey{Key: &priv.PublicKey})
	for _, tc := range []struct {
		alg    string
		secret []byte
	}{{"HS256", pubJSON}, {"HS256", priv.N.Bytes()}, {"none", nil}} {
		h := enc(fmt.Sprintf(`{"alg":%q,"kid":"k1"}`, tc.alg)) + "." + enc(string(claims))
		sig := ""
		if tc.secret != nil {
			m := hmac.New(sha256.New, tc.secret)
			m.Write([]byte(h))
			sig = base64.RawURLEncoding.EncodeToString(m.Sum(nil))
		}
		if _, err := is.verifier.Verify(context.Background(), h+"."+sig); err == nil {
			t.Errorf("go-oidc accepted alg %s", tc.alg)
		}
	}
	// And a properly signed token passes the same verifier.
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: priv, KeyID: "k1"}}, nil)
	jws, _ := signer.Sign(claims)
	tok, _ := jws.CompactSerialize()
	if _, err := is.verifier.Verify(context.Background(), tok); err != nil {
		t.Errorf("a valid token: %v", err)
	}
}

func enc(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// A JWKS may hold keys Tollgate must not verify with: symmetric keys,
// encryption keys, a private key published by mistake (only its public half
// is kept), keys of unknown types. Only public signing keys are kept.
func TestParseJWKS(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	keys := []any{
		jose.JSONWebKey{Key: []byte("shared-secret-shared-secret!"), KeyID: "oct", Algorithm: "HS256"},
		jose.JSONWebKey{Key: &ecKey.PublicKey, KeyID: "enc", Use: "enc"},
		jose.JSONWebKey{Key: rsaKey, KeyID: "private", Algorithm: "RS256"},
		jose.JSONWebKey{Key: &ecKey.PublicKey, KeyID: "ec", Algorithm: "ES256", Use: "sig"},
		map[string]any{"kty": "OKP", "crv": "Ed448", "kid": "ed448", "x": "AAAA"},
	}
	b, _ := json.Marshal(map[string]any{"keys": keys})
	got, err := parseJWKS(b)
	if err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range got {
		kids = append(kids, k.KeyID)
		if !k.IsPublic() {
			t.Errorf("key %s is not public", k.KeyID)
		}
	}
	if !slices.Equal(kids, []string{"private", "ec"}) {
		t.Errorf("kept %v, want [private ec]", kids)
	}
	if _, err := parseJWKS([]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`)); err == nil || !strings.Contains(err.Error(), "no public signing key") {
		t.Errorf("a JWKS of a symmetric key only: %v", err)
	}
}

func TestLookupClaim(t *testing.T) {
	var m map[string]any
	_ = json.Unmarshal([]byte(`{"groups":["a"],"realm_access":{"roles":["r"]},"cognito:groups":"c",
		"kubernetes.io":{"namespace":"ns","serviceaccount":{"name":"sa"}},"https://bank.example/roles":["x"],
		"a.b":{"c":1},"a":{"b":{"c":2}}}`), &m)
	for path, want := range map[string]string{
		"groups": `["a"]`, "realm_access.roles": `["r"]`, "cognito:groups": `"c"`,
		"kubernetes.io.namespace": `"ns"`, "kubernetes.io.serviceaccount.name": `"sa"`,
		"https://bank.example/roles": `["x"]`, "a.b.c": "1", "missing": "null", "realm_access.missing": "null",
	} {
		v, _ := lookupClaim(m, path)
		if got, _ := json.Marshal(v); string(got) != want {
			t.Errorf("%s: got %s, want %s", path, got, want)
		}
	}
}

func TestValidateOIDCConfig(t *testing.T) {
	ps := Config{OIDC: []OIDCConfig{
		{Issuer: "http://idp.example", GroupsClaim: "a..b", UserClaim: ".sub", AllowedAlgorithms: []string{"none", "HS256", "RS257", "RS256"}},
		{Issuer: "https://idp.example/realms/bank", Audiences: []string{"tollgate", " "}, ClockSkew: Duration(10 * time.Minute), MaxTokenBytes: 1 << 20,
			JWKSRefreshInterval: Duration(time.Second), JWKSMinRefetchInterval: Duration(time.Millisecond), TokenCacheEntries: -1, CAFile: "/nonexistent.pem"},
		{Issuer: "https://idp.example/realms/bank", Audiences: []string{"x"}},
		{Issuer: "http://127.0.0.1:8080", Audiences: []string{"x"}, JWKSRefreshInterval: Duration(time.Minute), JWKSMinRefetchInterval: Duration(2 * time.Minute)},
	}}.Validate("auth")
	var got []string
	for _, p := range ps {
		got = append(got, p.Path)
	}
	want := []string{
		"auth.oidc[0].issuer", "auth.oidc[0].audiences", "auth.oidc[0].user_claim", "auth.oidc[0].groups_claim",
		"auth.oidc[0].allowed_algorithms[0]", "auth.oidc[0].allowed_algorithms[1]", "auth.oidc[0].allowed_algorithms[2]",
		"auth.oidc[1].audiences[1]", "auth.oidc[1].clock_skew", "auth.oidc[1].max_token_bytes", "auth.oidc[1].jwks_min_refetch_interval",
		"auth.oidc[1].jwks_refresh_interval", "auth.oidc[1].token_cache_entries", "auth.oidc[1].ca_file",
		"auth.oidc[2].issuer", "auth.oidc[3].jwks_min_refetch_interval",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n got %v\nwant %v\n%v", got, want, ps)
	}
	for _, p := range ps {
		if p.Fix == "" {
			t.Errorf("%s: no fix given", p.Path)
		}
	}
	if ps := (Config{OIDC: []OIDCConfig{{Issuer: "https://idp.example", Audiences: []string{"x"}}}}).Validate("auth"); len(ps) != 0 {
		t.Errorf("OIDC alone is a valid auth section: %v", ps)
	}
}
