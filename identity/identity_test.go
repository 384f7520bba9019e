package identity

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const ciToken = "example-ci-token"

func testAuth(t *testing.T) Authenticator {
	t.Helper()
	cfg := Config{
		TrustedHeaders: &TrustedHeadersConfig{User: "X-Forwarded-User", Groups: "X-Forwarded-Groups", TrustedCIDRs: []string{"127.0.0.0/8", "10.1.0.0/16", "::1/128"}},
		Tokens:         []TokenConfig{{Name: "ci", SHA256: HashToken(ciToken), Groups: []string{"platform-sre"}}, {Name: "bot", SHA256: strings.ToUpper(HashToken("bot-token")), Groups: []string{"team-a"}}},
	}
	if ps := cfg.Validate("auth"); len(ps) != 0 {
		t.Fatalf("config problems: %v", ps)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func req(remote string, headers ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/api/v1/query", nil)
	r.RemoteAddr = remote
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	return r
}

func TestAuthenticate(t *testing.T) {
	a := testAuth(t)
	cases := []struct {
		name   string
		r      *http.Request
		user   string
		groups []string
	}{
		{"trusted headers from loopback", req("127.0.0.1:5000", "X-Forwarded-User", "alice", "X-Forwarded-Groups", "team-a, team-b"), "alice", []string{"team-a", "team-b"}},
		{"header names are case-insensitive", req("10.1.2.3:5000", "x-forwarded-user", "bob", "x-forwarded-groups", "team-a"), "bob", []string{"team-a"}},
		{"IPv6 loopback", req("[::1]:5000", "X-Forwarded-User", "carol"), "carol", nil},
		{"IPv4-mapped IPv6", req("[::ffff:127.0.0.1]:5000", "X-Forwarded-User", "dave"), "dave", nil},
		{"group header lines are one list", req("127.0.0.1:1", "X-Forwarded-User", "eve", "X-Forwarded-Groups", "a,b", "X-Forwarded-Groups", "c, a"), "eve", []string{"a", "b", "c"}},
		{"token", req("192.0.2.1:1", "Authorization", "Bearer "+ciToken), "token:ci", []string{"platform-sre"}},
		{"token scheme is case-insensitive, hash case too", req("192.0.2.1:1", "Authorization", "bearer bot-token"), "token:bot", []string{"team-a"}},
		{"token from a trusted address without identity headers", req("127.0.0.1:1", "Authorization", "Bearer "+ciToken), "token:ci", []string{"platform-sre"}},
		// The auth proxy vouches for the user; the Authorization header it
		// relays (an OIDC token it validated) is not a Tollgate token.
		{"trusted headers decide over a relayed Authorization header", req("127.0.0.1:1", "Authorization", "Bearer eyJhbGciOi.relayed.jwt", "X-Forwarded-User", "alice", "X-Forwarded-Groups", "team-a"), "alice", []string{"team-a"}},
	}
	for _, tc := range cases {
		id, err := a.Authenticate(context.Background(), tc.r)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if id.User != tc.user || !slices.Equal(id.Groups, tc.groups) {
			t.Errorf("%s: got %q %q, want %q %q", tc.name, id.User, id.Groups, tc.user, tc.groups)
		}
	}
}

func TestAuthenticateRefuses(t *testing.T) {
	a := testAuth(t)
	cases := []struct {
		name   string
		r      *http.Request
		reason string
	}{
		{"nothing", req("127.0.0.1:1"), "no credentials"},
		{"forged headers from an untrusted address", req("192.0.2.1:1", "X-Forwarded-User", "admin", "X-Forwarded-Groups", "platform-sre"), "not in auth.trusted_headers.trusted_cidrs"},
		{"forged headers from a neighbour of a trusted range", req("10.2.0.1:1", "X-Forwarded-User", "admin", "X-Forwarded-Groups", "platform-sre"), "not in"},
		{"groups without user", req("127.0.0.1:1", "X-Forwarded-Groups", "platform-sre"), "no credentials"},
		{"two users", req("127.0.0.1:1", "X-Forwarded-User", "alice", "X-Forwarded-User", "admin"), "exactly one"},
		{"blank user", req("127.0.0.1:1", "X-Forwarded-User", "  "), "empty"},
		{"wrong token is not rescued by forged headers", req("192.0.2.1:1", "Authorization", "Bearer nope", "X-Forwarded-User", "alice", "X-Forwarded-Groups", "platform-sre"), "unknown bearer token"},
		{"basic auth", req("127.0.0.1:1", "Authorization", "Basic YTpi"), "only Bearer"},
		{"empty bearer", req("127.0.0.1:1", "Authorization", "Bearer "), "empty"},
		{"token prefix", req("127.0.0.1:1", "Authorization", "Bearer "+ciToken[:5]), "unknown"},
		{"two authorization headers", req("127.0.0.1:1", "Authorization", "Bearer nope", "Authorization", "Bearer "+ciToken), "several"},
		{"unparsable remote address", req("garbage", "X-Forwarded-User", "alice"), "not in"},
	}
	for _, tc := range cases {
		id, err := a.Authenticate(context.Background(), tc.r)
		if err == nil {
			t.Errorf("%s: authenticated as %+v", tc.name, id)
			continue
		}
		if !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("%s: error %q, want ErrUnauthenticated mentioning %q", tc.name, err, tc.reason)
		}
	}
}

func TestNewToken(t *testing.T) {
	tok, sum, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) < 40 || HashToken(tok) != sum || len(sum) != 64 {
		t.Errorf("token %q sum %q", tok, sum)
	}
	tok2, _, _ := NewToken()
	if tok == tok2 {
		t.Error("two tokens are equal")
	}
}

func TestValidateConfig(t *testing.T) {
	ps := Config{
		TrustedHeaders: &TrustedHeadersConfig{User: "X Bad", TrustedCIDRs: []string{"::/0", "10.0.0.300/8"}},
		Tokens:         []TokenConfig{{Name: "a", SHA256: "zz"}, {Name: "a", SHA256: HashToken("x"), Groups: []string{"g"}}, {Name: "b", SHA256: HashToken("x"), Groups: []string{"g"}}},
	}.Validate("auth")
	var got []string
	for _, p := range ps {
		got = append(got, p.Path)
	}
	want := "auth.trusted_headers.user auth.trusted_headers.groups auth.trusted_headers.trusted_cidrs[0] auth.trusted_headers.trusted_cidrs[1] auth.tokens[0].sha256 auth.tokens[0].groups auth.tokens[1].name auth.tokens[2].sha256"
	if strings.Join(got, " ") != want {
		t.Errorf("problems:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	if ps := (Config{}).Validate("auth"); len(ps) != 1 || ps[0].Path != "auth" {
		t.Errorf("empty auth: %v", ps)
	}
}

// A token hash read from a file (a mounted Secret) authenticates like an
// inline one, and a missing, malformed or doubly given hash is refused by
// the check, naming the key.
func TestTokenSHA256File(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "ci.sha256")
	if err := os.WriteFile(good, []byte(HashToken("from-a-secret")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.sha256")
	if err := os.WriteFile(bad, []byte("from-a-secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Config{Tokens: []TokenConfig{{Name: "ci", SHA256File: good, Groups: []string{"platform-sre"}}}}
	if ps := c.Validate("auth"); len(ps) != 0 {
		t.Fatalf("valid sha256_file refused: %v", ps)
	}
	a, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/api/v1/query", nil)
	r.Header.Set("Authorization", "Bearer from-a-secret")
	id, err := a.Authenticate(context.Background(), r)
	if err != nil || id.User != "token:ci" {
		t.Fatalf("token from sha256_file: %+v, %v", id, err)
	}
	r.Header.Set("Authorization", "Bearer another-token")
	if _, err := a.Authenticate(context.Background(), r); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("unknown token: %v", err)
	}

	ps := Config{Tokens: []TokenConfig{
		{Name: "missing", SHA256File: filepath.Join(dir, "absent"), Groups: []string{"g"}},
		{Name: "plain", SHA256File: bad, Groups: []string{"g"}},
		{Name: "both", SHA256: HashToken("x"), SHA256File: good, Groups: []string{"g"}},
		{Name: "inline-dup", SHA256: HashToken("from-a-secret"), Groups: []string{"g"}},
		{Name: "file-dup", SHA256File: good, Groups: []string{"g"}},
	}}.Validate("auth")
	var got []string
	for _, p := range ps {
		got = append(got, p.Path)
	}
	want := "auth.tokens[0].sha256_file auth.tokens[1].sha256_file auth.tokens[2].sha256 auth.tokens[4].sha256_file"
	if strings.Join(got, " ") != want {
		t.Errorf("problems:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	if _, err := New(Config{Tokens: []TokenConfig{{Name: "missing", SHA256File: filepath.Join(dir, "absent"), Groups: []string{"g"}}}}); err == nil {
		t.Error("an unreadable sha256_file built an authenticator")
	}
}
