package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Tokens authenticates static bearer tokens by their SHA-256.
type Tokens struct {
	entries []tokenEntry
}

type tokenEntry struct {
	name   string
	hash   [sha256.Size]byte
	groups []string
}

// NewTokens builds the authenticator from its configuration.
func NewTokens(cs []TokenConfig) (*Tokens, error) {
	t := &Tokens{}
	for _, c := range cs {
		h, err := c.hash()
		if err != nil {
			return nil, fmt.Errorf("token %q: %w", c.Name, err)
		}
		b, err := hex.DecodeString(strings.ToLower(h))
		if err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("token %q: sha256 is not 64 hexadecimal characters", c.Name)
		}
		e := tokenEntry{name: c.Name, groups: slices.Clone(c.Groups)}
		copy(e.hash[:], b)
		t.entries = append(t.entries, e)
	}
	return t, nil
}

// Authenticate implements Authenticator.
func (t *Tokens) Authenticate(_ context.Context, r *http.Request) (Identity, error) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return Identity{}, ErrNoCredentials
	}
	if len(values) > 1 {
		return Identity{}, fmt.Errorf("%w: several Authorization headers", ErrUnauthenticated)
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return Identity{}, fmt.Errorf("%w: only Bearer tokens are accepted", ErrUnauthenticated)
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return Identity{}, fmt.Errorf("%w: empty bearer token", ErrUnauthenticated)
	}
	sum := sha256.Sum256([]byte(token))
	// Every entry is compared, matched or not, so that the time taken does
	// not tell an attacker how many entries precede a match.
	match := -1
	for i := range t.entries {
		if subtle.ConstantTimeCompare(sum[:], t.entries[i].hash[:]) == 1 {
			match = i
		}
	}
	if match < 0 {
		return Identity{}, fmt.Errorf("%w: unknown bearer token", ErrUnauthenticated)
	}
	e := t.entries[match]
	return Identity{User: "token:" + e.name, Groups: slices.Clone(e.groups), Method: "token"}, nil
}

// NewToken returns a random token and the hex SHA-256 to put in the config.
func NewToken() (token, sha256Hex string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("reading random bytes: %w", err)
	}
	token = "tg_" + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

// HashToken returns the hex SHA-256 of a token, as stored in auth.tokens.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
