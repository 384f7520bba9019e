package identity_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tollgate-dev/tollgate/identity"
)

// entraLikeClaims are the claims of an Entra ID access token of a user in
// 30 groups: about 2 KB once signed, a typical bank token.
func entraLikeClaims(f *oidcFixture) map[string]any {
	groups := make([]string, 30)
	for i := range groups {
		groups[i] = fmt.Sprintf("%08x-1f2e-4d3c-9b8a-%012x", i, i*7919)
	}
	return f.claims(map[string]any{
		"groups": groups, "name": "Alice Example", "preferred_username": "alice@bank.example",
		"oid": "00000000-0000-0000-0000-000000000001", "tid": "00000000-0000-0000-0000-0000000000aa",
		"scp": "Tollgate.Read", "ver": "2.0", "azp": "grafana",
	})
}

// BenchmarkOIDCCachedToken is the cost of a valid JWT already seen: the
// issue's bound is 5 µs per request.
func BenchmarkOIDCCachedToken(b *testing.B) {
	t := &testing.T{}
	f := newOIDCFixture(t, nil)
	tok := f.idp.Mint(t, entraLikeClaims(f))
	r := httptest.NewRequest(http.MethodGet, "/api/v1/query", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	if _, err := f.auth.Authenticate(context.Background(), r); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.auth.Authenticate(context.Background(), r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(tok)), "token-bytes")
}

// BenchmarkOIDCFirstSight is the cost of a token not in the cache: a
// signature verification (RS256, 2048 bits) and the claim checks. With a
// cache of one entry and two tokens taking turns, every lookup misses.
func BenchmarkOIDCFirstSight(b *testing.B) {
	t := &testing.T{}
	f := newOIDCFixture(t, func(o *identity.OIDCConfig) { o.TokenCacheEntries = 1 })
	var reqs [2]*http.Request
	for i := range reqs {
		c := entraLikeClaims(f)
		c["jti"] = fmt.Sprint(i)
		reqs[i] = httptest.NewRequest(http.MethodGet, "/api/v1/query", nil)
		reqs[i].Header.Set("Authorization", "Bearer "+f.idp.Mint(t, c))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := f.auth.Authenticate(context.Background(), reqs[i%2]); err != nil {
			b.Fatal(err)
		}
	}
}

// A token already seen is not verified again: the cached path allocates
// only the identity handed out (its groups), whatever the token's size.
func TestOIDCCachedTokenWork(t *testing.T) {
	f := newOIDCFixture(t, nil)
	tok := f.idp.Mint(t, entraLikeClaims(f))
	r := httptest.NewRequest(http.MethodGet, "/api/v1/query", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	if _, err := f.auth.Authenticate(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := f.auth.Authenticate(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	})
	// A signature verification and claim parsing allocate hundreds of
	// times; the cached path clones the groups slice and nothing else.
	if allocs > 2 {
		t.Errorf("a cached token costs %.0f allocations per request; want at most 2", allocs)
	}
	var _ identity.Authenticator = f.auth
}
