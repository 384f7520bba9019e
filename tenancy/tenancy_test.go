package tenancy

import (
	"strings"
	"testing"
)

func testTenancy(t *testing.T) *Tenancy {
	t.Helper()
	tn, err := New(Config{
		Label:       "namespace",
		AdminGroups: []string{"platform-sre"},
		Tenants: []TenantConfig{
			{Name: "payments", Groups: []string{"team-payments", "finance"}, Namespaces: []string{"team-payments-prod", "team-payments-staging"}, CostCenter: "CC-4521"},
			{Name: "checkout", Groups: []string{"team-checkout", "finance"}, Namespaces: []string{"team-checkout-*"}},
			{Name: "search", Groups: []string{"team-search"}, Namespaces: []string{"team-search-prod"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

func TestResolve(t *testing.T) {
	tn := testTenancy(t)
	cases := []struct {
		name    string
		groups  []string
		admin   bool
		tenants string
		matcher string
	}{
		{"single namespace uses equality", []string{"team-search"}, false, "search", `namespace="team-search-prod"`},
		{"several namespaces use an escaped alternation", []string{"team-payments"}, false, "payments", `namespace=~"team-payments-prod|team-payments-staging"`},
		{"glob compiles to an anchored regex part", []string{"team-checkout"}, false, "checkout", `namespace=~"team-checkout-.*"`},
		{"several groups give the union", []string{"team-search", "team-payments"}, false, "payments,search", `namespace=~"team-payments-prod|team-payments-staging|team-search-prod"`},
		{"one group in two tenants", []string{"finance"}, false, "checkout,payments", `namespace=~"team-payments-prod|team-payments-staging|team-checkout-.*"`},
		{"admin", []string{"team-search", "platform-sre"}, true, "search", ""},
		{"no tenant", []string{"interns"}, false, "", ""},
		{"case matters", []string{"Team-Search", "PLATFORM-SRE"}, false, "", ""},
		{"no groups", nil, false, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := tn.Resolve(tc.groups)
			if a.Admin != tc.admin {
				t.Errorf("Admin = %v", a.Admin)
			}
			if got := strings.Join(a.TenantNames(), ","); got != tc.tenants {
				t.Errorf("tenants = %q, want %q", got, tc.tenants)
			}
			got := ""
			if m := a.Scope.Matcher(); m != nil {
				got = m.String()
			}
			if got != tc.matcher {
				t.Errorf("matcher = %s, want %s", got, tc.matcher)
			}
			if a.Allowed() != (tc.admin || tc.tenants != "") {
				t.Errorf("Allowed = %v", a.Allowed())
			}
		})
	}
}

func TestScopeMatches(t *testing.T) {
	s := NewScope("namespace", []string{"team-a", "team-b-*", "x*y"})
	for ns, want := range map[string]bool{
		"team-a": true, "team-b-prod": true, "team-b-": true, "xy": true, "x-anything-y": true,
		"": false, "team-a2": false, "team-ab": false, "pre-team-a": false, "team-b": false,
		"team-a|team-c": false, "team.a": false, "xyz": false,
	} {
		if got := s.Matches(ns); got != want {
			t.Errorf("Matches(%q) = %v, want %v", ns, got, want)
		}
		// The Prometheus matcher must agree with Matches: both decide
		// visibility, one for queries and one for filtered responses.
		if got := s.Matcher().Matches(ns); got != want {
			t.Errorf("Matcher().Matches(%q) = %v, want %v", ns, got, want)
		}
	}
	var empty Scope
	if !empty.Empty() || empty.Matches("team-a") || empty.Matcher() != nil {
		t.Error("zero Scope must match nothing")
	}
}

func TestValidate(t *testing.T) {
	cfg := Config{
		Label: "__name__",
		Tenants: []TenantConfig{
			{Name: "a", Groups: []string{"g"}, Namespaces: []string{"ns-1", "team-[a-z]+", "**", ""}},
			{Name: "a", Groups: []string{" g"}, Namespaces: []string{"ns-1"}},
			{Name: "B_c", Namespaces: nil},
			{Name: "d", Groups: []string{"g"}, Namespaces: []string{"ns-1"}},
		},
	}
	ps := cfg.Validate()
	var got []string
	for _, p := range ps {
		got = append(got, p.Path)
	}
	want := []string{
		"tenancy.label",
		"tenancy.tenants[0].namespaces[1]", "tenancy.tenants[0].namespaces[2]", "tenancy.tenants[0].namespaces[3]",
		"tenancy.tenants[1].name", "tenancy.tenants[1].groups[0]",
		"tenancy.tenants[2].name", "tenancy.tenants[2].groups", "tenancy.tenants[2].namespaces",
		"tenancy.tenants[3].namespaces[0]",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("problem paths:\n got %v\nwant %v", got, want)
	}
	if len(ps.Errors()) != len(want)-1 || len(ps.Warnings()) != 1 || ps.Warnings()[0].Path != "tenancy.tenants[3].namespaces[0]" {
		t.Errorf("the shared namespace should be the only warning: %v", ps.Warnings())
	}
	if _, err := New(cfg); err == nil {
		t.Error("New accepted an invalid configuration")
	}
}

func TestLokiOrgsOwnersAndDefaults(t *testing.T) {
	tn, err := New(Config{
		Label:       "namespace",
		AdminGroups: []string{"platform-sre"},
		Tenants: []TenantConfig{
			{Name: "payments", Groups: []string{"team-payments", "finance"}, Namespaces: []string{"team-payments-prod", "team-payments-*"}, DefaultNamespace: "team-payments-prod"},
			{Name: "checkout", Groups: []string{"team-checkout", "finance"}, Namespaces: []string{"team-checkout-prod"}, LokiOrgID: "shop"},
			{Name: "cart", Groups: []string{"team-cart"}, Namespaces: []string{"team-cart-prod", "team-checkout-prod"}, LokiOrgID: "shop", DefaultNamespace: "team-cart-prod"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for groups, want := range map[string]string{
		"team-payments":           "payments",
		"finance":                 "payments,shop",
		"team-checkout,team-cart": "shop",
		"platform-sre":            "payments,shop",
	} {
		if got := strings.Join(tn.Resolve(strings.Split(groups, ",")).LokiOrgIDs, ","); got != want {
			t.Errorf("%s: org IDs %s, want %s", groups, got, want)
		}
	}
	owners := func(a Access, ns string) string {
		var names []string
		for _, o := range a.Owners(ns) {
			names = append(names, o.Name)
		}
		return strings.Join(names, ",")
	}
	finance := tn.Resolve([]string{"finance"})
	if got := owners(finance, "team-checkout-prod"); got != "checkout" {
		t.Errorf("finance owners of team-checkout-prod: %q (cart is not finance's)", got)
	}
	if got := owners(tn.Resolve([]string{"platform-sre"}), "team-checkout-prod"); got != "checkout,cart" {
		t.Errorf("admin owners: %q", got)
	}
	if got := owners(finance, "kube-system"); got != "" {
		t.Errorf("nobody owns kube-system: %q", got)
	}
	for groups, want := range map[string]string{"team-payments": "team-payments-prod", "finance": "team-payments-prod", "team-payments,team-cart": "", "team-checkout": ""} {
		got, ok := tn.Resolve(strings.Split(groups, ",")).DefaultNamespace()
		if got != want || ok != (want != "") {
			t.Errorf("%s: default namespace %q %v, want %q", groups, got, ok, want)
		}
	}
}

func TestValidateLokiFields(t *testing.T) {
	ps := Config{
		Label:           "namespace",
		AdminLokiOrgIDs: []string{"a|b"},
		Tenants: []TenantConfig{
			{Name: "a", Groups: []string{"g"}, Namespaces: []string{"ns-1", "ns-*"}, LokiOrgID: "..", DefaultNamespace: "ns-*"},
			{Name: "b", Groups: []string{"g"}, Namespaces: []string{"ns-2"}, DefaultNamespace: "ns-3"},
		},
	}.Validate()
	var got []string
	for _, p := range ps.Errors() {
		got = append(got, p.Path)
	}
	want := "tenancy.admin_loki_org_ids[0] tenancy.tenants[0].loki_org_id tenancy.tenants[0].default_namespace tenancy.tenants[1].default_namespace"
	if strings.Join(got, " ") != want {
		t.Errorf("problems %v, want %s", got, want)
	}
}

// A group whose name holds a NUL byte is one group, not two: resolving the
// list ["a", "b"] first must not hand its access to ["a\x00b"] through the
// memo, nor the other way round.
func TestResolveMemoKeepsGroupListsApart(t *testing.T) {
	tn, err := New(Config{
		Label:       "namespace",
		AdminGroups: []string{"b"},
		Tenants:     []TenantConfig{{Name: "payments", Groups: []string{"a"}, Namespaces: []string{"team-payments-prod"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if a := tn.Resolve([]string{"a", "b"}); !a.Admin || !a.Allowed() {
		t.Fatalf(`["a","b"]: got admin=%v allowed=%v, want an admin`, a.Admin, a.Allowed())
	}
	if a := tn.Resolve([]string{"a\x00b"}); a.Admin || a.Allowed() {
		t.Fatalf(`["a\x00b"] after ["a","b"]: got admin=%v tenants=%v, want no access`, a.Admin, a.TenantNames())
	}
	// And in the other order, on a fresh memo.
	tn2, _ := New(Config{Label: "namespace", AdminGroups: []string{"b"}, Tenants: []TenantConfig{{Name: "payments", Groups: []string{"a"}, Namespaces: []string{"x"}}}})
	if a := tn2.Resolve([]string{"a\x00b"}); a.Allowed() {
		t.Fatalf(`["a\x00b"]: got tenants=%v, want none`, a.TenantNames())
	}
	if a := tn2.Resolve([]string{"a", "b"}); !a.Admin {
		t.Fatalf(`["a","b"] after ["a\x00b"]: got admin=%v, want an admin`, a.Admin)
	}
	// Lengths are part of the key: ["ab"] and ["a","b"] differ too.
	if a := tn2.Resolve([]string{"ab"}); a.Allowed() {
		t.Fatalf(`["ab"]: got tenants=%v, want none`, a.TenantNames())
	}
}
