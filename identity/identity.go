// Package identity authenticates requests. Each mechanism (trusted headers
// from an auth proxy, JWTs of OpenID Connect issuers, static bearer tokens)
// implements Authenticator; the proxy never looks at credentials itself.
package identity

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Identity is an authenticated principal.
type Identity struct {
	// User is the user or service-account name, for logs and audit.
	User string
	// Groups are SSO groups, mapped to tenants by package tenancy.
	Groups []string
	// Method names the mechanism that authenticated the request
	// ("header", "oidc", "token"), for logs.
	Method string
}

// ErrUnauthenticated is returned (wrapped) when a request carries no usable
// credentials or carries invalid ones. The proxy answers 401.
var ErrUnauthenticated = errors.New("unauthenticated")

// Authenticator establishes who sent a request.
type Authenticator interface {
	// Authenticate returns the request's identity, or an error wrapping
	// ErrUnauthenticated. It must not modify the request.
	Authenticate(ctx context.Context, r *http.Request) (Identity, error)
}

// ErrNoCredentials means a request carries no credentials of an
// authenticator's kind, so that the next one in a Chain may try.
var ErrNoCredentials = fmt.Errorf("%w: no credentials", ErrUnauthenticated)

// Chain tries authenticators in order. Only ErrNoCredentials moves on to the
// next one; any other error (a wrong token, two user headers) ends the
// chain, so that a failed credential is never "rescued" further down.
type Chain []Authenticator

// Authenticate implements Authenticator.
func (c Chain) Authenticate(ctx context.Context, r *http.Request) (Identity, error) {
	last := ErrNoCredentials
	for _, a := range c {
		id, err := a.Authenticate(ctx, r)
		if errors.Is(err, ErrNoCredentials) {
			if err != ErrNoCredentials {
				last = err // more specific: keep it for the answer
			}
			continue
		}
		return id, err
	}
	return Identity{}, last
}
