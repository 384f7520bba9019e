package amproxy

import (
	"regexp"
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

// FuzzSilenceConfinement: a regex matcher Tollgate takes as confined to a
// tenant's namespaces never matches, as Alertmanager compiles it, a value
// outside them.
func FuzzSilenceConfinement(f *testing.F) {
	for _, seed := range [][2]string{
		{"team-a-prod|team-a-dev", "team-a-prod"},
		{"team-a-(prod|dev)", "team-a-dev"},
		{`^team\-a\-prod$`, "team-a-prod"},
		{"team-a-pro[d-e]", "team-a-proe"},
		{"team-a-prod)|(.*", "x"},
		{"(?i)team-a-prod", "TEAM-A-PROD"},
		{"team-b-x?", "team-b-"},
		{"team-(a|b)-(prod|x)", "team-b-prod"},
	} {
		f.Add(seed[0], seed[1])
	}
	scope := tenancy.NewScope("namespace", []string{"team-a-prod", "team-a-dev", "team-b-*"})
	f.Fuzz(func(t *testing.T, value, probe string) {
		if !confines(matcher{Name: "namespace", Value: value, IsRegex: true}, scope) {
			return
		}
		re, err := regexp.Compile("^(?:" + value + ")$")
		if err != nil {
			t.Fatalf("%q was taken as confined but does not compile", value)
		}
		if re.MatchString(probe) && !scope.Matches(probe) {
			t.Fatalf("%q was taken as confined but matches %q", value, probe)
		}
		values, _ := regexValues(value)
		for _, v := range values {
			if re.MatchString(v) && !scope.Matches(v) {
				t.Fatalf("%q was taken as confined but matches %q", value, v)
			}
		}
	})
}
