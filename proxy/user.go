package proxy

import "context"

type userKey struct{}

// withUser records the authenticated user's name on a request's context:
// APIs that write on the user's behalf (a silence's createdBy) take it from
// there, never from what the client sent.
func withUser(ctx context.Context, user string) context.Context {
	return context.WithValue(ctx, userKey{}, user)
}

// User returns the authenticated user's name recorded by the pipeline, or
// "" when the request did not come through Server.ServeHTTP.
func User(ctx context.Context) string {
	u, _ := ctx.Value(userKey{}).(string)
	return u
}
