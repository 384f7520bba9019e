package amproxy

import (
	"testing"

	"github.com/tollgate-dev/tollgate/tenancy"
)

func TestConfines(t *testing.T) {
	scope := tenancy.NewScope("namespace", []string{"team-a-prod", "team-a-dev", "team-b-*"})
	f := false
	for _, tc := range []struct {
		m    matcher
		want bool
	}{
		{matcher{Value: "team-a-prod"}, true},
		{matcher{Value: "team-b-anything"}, true},
		{matcher{Value: "team-c-prod"}, false},
		{matcher{Value: ""}, false},
		{matcher{Value: "team-a-prod", IsEqual: &f}, false},
		{matcher{Value: "team-a-prod|team-a-dev", IsRegex: true}, true},
		{matcher{Value: "team-a-(prod|dev)", IsRegex: true}, true},
		{matcher{Value: "team-a-pro[d]", IsRegex: true}, true},
		{matcher{Value: "team-a-prod?", IsRegex: true}, false}, // team-a-pro
		{matcher{Value: `^team\-a\-prod$`, IsRegex: true}, true},
		{matcher{Value: "team-a-prod|team-c-prod", IsRegex: true}, false},
		{matcher{Value: ".*", IsRegex: true}, false},
		{matcher{Value: "team-b-.*", IsRegex: true}, false}, // a glob, but not a list of namespaces
		{matcher{Value: "team-a-prod|", IsRegex: true}, false},
		{matcher{Value: "(?i)team-a-prod", IsRegex: true}, false},
		{matcher{Value: "team-a-prod)|(.*", IsRegex: true}, false},
		{matcher{Value: "team-a-prod{1,2}", IsRegex: true}, false},
		{matcher{Value: "[a-z]{63}", IsRegex: true}, false},
		{matcher{Value: "team-a-prod", IsRegex: true, IsEqual: &f}, false},
	} {
		if got := confines(tc.m, scope); got != tc.want {
			t.Errorf("%s: confines %v, want %v", tc.m, got, tc.want)
		}
	}
}
