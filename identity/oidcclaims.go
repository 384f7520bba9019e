package identity

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// claims checks the time claims and the audience of a token whose signature
// verified, and reads the user and groups. It returns the identity and
// until when it may be cached: the token's expiry plus the clock skew.
func (is *oidcIssuer) claims(t *oidc.IDToken, now time.Time) (Identity, time.Time, error) {
	var m map[string]any
	if err := t.Claims(&m); err != nil {
		return Identity{}, time.Time{}, unauthenticated("the token's payload is not a JSON object")
	}
	until, err := is.checkTimes(m, now)
	if err != nil {
		return Identity{}, time.Time{}, err
	}
	if !slices.ContainsFunc(t.Audience, func(a string) bool { return slices.Contains(is.cfg.Audiences, a) }) {
		return Identity{}, time.Time{}, unauthenticated("the token's audience %s is not one of %s.audiences; the identity provider must issue tokens for Tollgate (an audience mapper in Keycloak, Tollgate's application ID URI as the scope in Entra ID, an audience in the service account's projected token)", shortList(t.Audience), is.path)
	}
	user, err := is.user(m)
	if err != nil {
		return Identity{}, time.Time{}, err
	}
	groups, err := is.groups(m)
	if err != nil {
		return Identity{}, time.Time{}, err
	}
	return Identity{User: user, Groups: groups, Method: "oidc"}, until, nil
}

// checkTimes applies exp, nbf and iat with the configured clock skew. A
// token without exp is refused: it would be valid forever.
func (is *oidcIssuer) checkTimes(m map[string]any, now time.Time) (time.Time, error) {
	skew := time.Duration(is.cfg.ClockSkew)
	exp, ok, err := numericDate(m, "exp")
	switch {
	case err != nil:
		return time.Time{}, err
	case !ok:
		return time.Time{}, unauthenticated("the token has no expiry (exp claim); tokens that never expire are refused")
	case now.After(exp.Add(skew)):
		return time.Time{}, unauthenticated("the token expired at %s, %s ago (%s.clock_skew is %s); get a new one", stamp(exp), now.Sub(exp).Round(time.Second), is.path, skew)
	}
	if nbf, ok, err := numericDate(m, "nbf"); err != nil {
		return time.Time{}, err
	} else if ok && nbf.After(now.Add(skew)) {
		return time.Time{}, unauthenticated("the token is not valid before %s, %s from now (%s.clock_skew is %s)", stamp(nbf), nbf.Sub(now).Round(time.Second), is.path, skew)
	}
	if iat, ok, err := numericDate(m, "iat"); err != nil {
		return time.Time{}, err
	} else if ok && iat.After(now.Add(skew)) {
		return time.Time{}, unauthenticated("the token was issued at %s, %s in the future (%s.clock_skew is %s); check the clocks of Tollgate and the identity provider", stamp(iat), iat.Sub(now).Round(time.Second), is.path, skew)
	}
	return exp.Add(skew), nil
}

// numericDate reads a JWT NumericDate (seconds since the epoch).
func numericDate(m map[string]any, claim string) (time.Time, bool, error) {
	v, ok := m[claim]
	if !ok || v == nil {
		return time.Time{}, false, nil
	}
	f, isNum := v.(float64)
	if !isNum || f < 0 || f > 1e11 {
		return time.Time{}, false, unauthenticated("the token's %s claim is not a date in seconds since 1970", claim)
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), true, nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (is *oidcIssuer) user(m map[string]any) (string, error) {
	v, _ := lookupClaim(m, is.cfg.UserClaim)
	s, ok := v.(string)
	if !ok || strings.TrimSpace(s) == "" {
		return "", unauthenticated("the token has no %s claim naming the user (%s.user_claim)", quoteShort(is.cfg.UserClaim), is.path)
	}
	return s, nil
}

// groups reads the groups claim, a string or a list of strings, and puts
// groups_prefix before each. A token without it has no groups (and so no
// tenant), unless the identity provider left them out for being too many.
func (is *oidcIssuer) groups(m map[string]any) ([]string, error) {
	v, ok := lookupClaim(m, is.cfg.GroupsClaim)
	if !ok || v == nil {
		if overage(m, is.cfg.GroupsClaim) {
			return nil, unauthenticated("the token carries no groups because the user is in too many for a token (Entra ID's groups overage: _claim_names.groups); Tollgate does not call Microsoft Graph to fetch them. In the app registration, emit only the groups assigned to the application (Token configuration, groups claim: \"Groups assigned to the application\"), or use app roles and set %s.groups_claim: roles", is.path)
		}
		return nil, nil
	}
	var raw []string
	switch g := v.(type) {
	case string:
		raw = []string{g}
	case []any:
		for _, e := range g {
			s, ok := e.(string)
			if !ok {
				return nil, unauthenticated("the token's %s claim (%s.groups_claim) holds %s; a string or a list of strings is expected", quoteShort(is.cfg.GroupsClaim), is.path, jsonKind(e))
			}
			raw = append(raw, s)
		}
	default:
		return nil, unauthenticated("the token's %s claim (%s.groups_claim) is %s; a string or a list of strings is expected", quoteShort(is.cfg.GroupsClaim), is.path, jsonKind(v))
	}
	var groups []string
	for _, g := range raw {
		g = strings.TrimSpace(g)
		if g != "" && !slices.Contains(groups, is.cfg.GroupsPrefix+g) {
			groups = append(groups, is.cfg.GroupsPrefix+g)
		}
	}
	return groups, nil
}

// overage reports whether the identity provider announced that it left
// the groups out: Entra ID names them in _claim_names (the distributed
// claims of OpenID Connect Core section 5.6.2) or, in implicit flows, sets
// hasgroups.
func overage(m map[string]any, groupsClaim string) bool {
	if names, ok := m["_claim_names"].(map[string]any); ok {
		first, _, _ := strings.Cut(groupsClaim, ".")
		if _, ok := names[groupsClaim]; ok {
			return true
		}
		if _, ok := names[first]; ok {
			return true
		}
	}
	has, _ := m["hasgroups"].(bool)
	return has && groupsClaim == "groups"
}

// lookupClaim resolves a claim path. A name is tried whole before it is
// split at dots, because claim names may contain dots themselves
// ("kubernetes.io", "https://example.com/roles"): "kubernetes.io.namespace"
// finds {"kubernetes.io": {"namespace": ...}}.
func lookupClaim(obj map[string]any, path string) (any, bool) {
	if v, ok := obj[path]; ok {
		return v, true
	}
	for i := len(path) - 1; i > 0; i-- {
		if path[i] != '.' {
			continue
		}
		if sub, ok := obj[path[:i]].(map[string]any); ok {
			if v, ok := lookupClaim(sub, path[i+1:]); ok {
				return v, true
			}
		}
	}
	return nil, false
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// shortList prints values from an unverified-or-foreign token, bounded.
func shortList(vs []string) string {
	const max = 5
	parts := make([]string, 0, min(len(vs), max)+1)
	for i, v := range vs {
		if i == max {
			parts = append(parts, fmt.Sprintf("and %d more", len(vs)-max))
			break
		}
		parts = append(parts, quoteShort(v))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
