package config

import (
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/identity"
)

// auth.oidc as the README documents it loads, with its defaults.
func TestOIDCLoads(t *testing.T) {
	in := valid + `  oidc:
    - issuer: https://login.microsoftonline.com/00000000-0000-0000-0000-0000000000aa/v2.0
      audiences: [api://tollgate]
      user_claim: preferred_username
    - issuer: https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE
      audiences: [tollgate]
      groups_claim: sub
      groups_prefix: "k8s:"
      clock_skew: 1m
`
	f, ps, err := Parse("t.yaml", []byte(in))
	if err != nil || len(ps) != 0 {
		t.Fatalf("%v %v", err, ps)
	}
	o := f.Auth.OIDC
	if len(o) != 2 || o[0].GroupsClaim != "groups" || o[0].UserClaim != "preferred_username" || time.Duration(o[0].ClockSkew) != 30*time.Second ||
		o[0].MaxTokenBytes != 16384 || len(o[0].AllowedAlgorithms) != len(identity.DefaultOIDCAlgorithms()) ||
		o[1].GroupsClaim != "sub" || o[1].GroupsPrefix != "k8s:" || time.Duration(o[1].ClockSkew) != time.Minute {
		t.Errorf("decoded or defaulted wrongly: %+v", o)
	}
}

// Every auth.oidc problem is reported at its line, with a fix, in one go.
func TestOIDCProblemsPointAtLines(t *testing.T) {
	in := valid + `  oidc:
    - issuer: http://idp.bank.example
      groups_claim: realm_access..roles
      allowed_algorithms: [RS256, HS256, none]
      clock_skew: 10m
    - issuer: https://kubernetes.default.svc
      audiences: [tollgate]
      group_claim: sub
`
	_, ps, err := Parse("t.yaml", []byte(in))
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		`t.yaml:22:7: auth.oidc[0].issuer: "http://idp.bank.example" is plain http (fix: use https`,
		`t.yaml:22:7: auth.oidc[0].audiences: is missing (fix: list the audience`,
		`t.yaml:23:7: auth.oidc[0].groups_claim: "realm_access..roles" is not a claim path`,
		`t.yaml:24:35: auth.oidc[0].allowed_algorithms[1]: "HS256" is an HMAC (shared-secret) algorithm`,
		`t.yaml:24:42: auth.oidc[0].allowed_algorithms[2]: "none" means unsigned tokens`,
		`t.yaml:25:7: auth.oidc[0].clock_skew: 10m0s is more than 5m0s`,
		`t.yaml:28:7: auth.oidc[1].group_claim: unknown key (fix: valid keys here are: allowed_algorithms, audiences, ca_file, clock_skew, groups_claim, groups_prefix, issuer, jwks_min_refetch_interval, jwks_refresh_interval, max_token_bytes, token_cache_entries, user_claim; did you mean "groups_claim"?)`,
	}
	if len(ps) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(ps), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(ps[i].String(), w) {
			t.Errorf("problem %d:\n got %s\nwant prefix %s", i, ps[i], w)
		}
	}
	if _, _, err := Parse("t.yaml", []byte(valid+"  oidc:\n    - {issuer: https://idp.example, audiences: [x], clock_skew: 30}\n")); err == nil || !strings.Contains(err.Error(), `line 22: "30" is not a duration`) {
		t.Errorf("a duration without unit: %v", err)
	}
}
