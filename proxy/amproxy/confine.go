package amproxy

import (
	"fmt"
	"regexp/syntax"
	"slices"
	"strings"

	"github.com/tollgate-dev/tollgate/proxy"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// matcher is a silence matcher as Alertmanager's API v2 writes it.
// IsEqual is a pointer because Alertmanager reads a missing one as true.
type matcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	IsEqual *bool  `json:"isEqual,omitempty"`
}

func (m matcher) equal() bool { return m.IsEqual == nil || *m.IsEqual }

func (m matcher) String() string {
	op := map[[2]bool]string{{false, true}: "=", {false, false}: "!=", {true, true}: "=~", {true, false}: "!~"}[[2]bool{m.IsRegex, m.equal()}]
	return fmt.Sprintf("%s%s%q", m.Name, op, m.Value)
}

// maxAlternatives bounds the strings a regex matcher may be expanded to
// when it is checked: a namespace list, not a language.
const maxAlternatives = 256

// confines reports whether m, on the enforced label, selects only
// namespaces of the scope: an equality matcher on one of them, or a regex
// matcher every string of whose language is one of them. Negative matchers
// confine nothing.
func confines(m matcher, scope tenancy.Scope) bool {
	if !m.equal() {
		return false
	}
	if !m.IsRegex {
		return scope.Matches(m.Value)
	}
	values, ok := regexValues(m.Value)
	if !ok || len(values) == 0 {
		return false
	}
	for _, v := range values {
		if !scope.Matches(v) {
			return false
		}
	}
	return true
}

// silenceConfined reports whether a silence is the scope's: one of its
// matchers confines the label to the scope's namespaces. Matchers are
// ANDed, so one such matcher is enough whatever the others say.
func silenceConfined(ms []matcher, label string, scope tenancy.Scope) bool {
	return slices.ContainsFunc(ms, func(m matcher) bool { return m.Name == label && confines(m, scope) })
}

// silenceMine reports whether a silence is the caller's: it confines the
// namespace label to the caller's namespaces and, for a tenant confined to
// clusters, the cluster label to its clusters too. A silence without a
// cluster matcher would silence the namespace in every cluster.
func silenceMine(ms []matcher, label string, a tenancy.Access) bool {
	if !silenceConfined(ms, label, a.Scope) {
		return false
	}
	return !a.ClusterConfined() || silenceConfined(ms, a.Clusters.Label(), a.Clusters)
}

// confineSilence checks the matchers of a silence a tenant creates or
// updates, on the namespace label and, for a tenant confined to clusters,
// on the cluster label (see confineNew).
func confineSilence(ms []matcher, label string, a tenancy.Access) ([]matcher, *proxy.Error) {
	ms, err := confineNew(ms, label, a.Scope, "namespace")
	if err != nil || !a.ClusterConfined() {
		return ms, err
	}
	return confineNew(ms, a.Clusters.Label(), a.Clusters, "cluster")
}

// confineNew checks the matchers of a silence on one label (what names
// its values: "namespace" or "cluster"). It has exactly one matcher on the
// label and that matcher confines it; a silence without one gets the
// tenant's value when the tenant has exactly one. Anything else is
// refused: a wider or negative matcher, the label twice (which one would
// count?).
func confineNew(ms []matcher, label string, scope tenancy.Scope, what string) ([]matcher, *proxy.Error) {
	var on []matcher
	for _, m := range ms {
		if m.Name == label {
			on = append(on, m)
		}
	}
	mine := strings.Join(scope.Namespaces(), ", ")
	switch {
	case len(on) > 1:
		return nil, proxy.Forbidden("the silence has %d matchers on %q; give it exactly one, on one of your %ss (%s)", len(on), label, what, mine)
	case len(on) == 1 && !on[0].equal():
		return nil, proxy.Forbidden("the silence's matcher %s is negative: it would silence every other %s's alerts; match your %ss (%s) with = or =~", on[0], what, what, mine)
	case len(on) == 1 && !confines(on[0], scope):
		return nil, proxy.Forbidden("the silence's matcher %s is not confined to your %ss (%s): use %s=\"<%s>\" or %s=~\"<%s>|<%s>\" with your %ss only", on[0], what, mine, label, what, label, what, what, what)
	case len(on) == 1:
		return ms, nil
	}
	vals := scope.Namespaces()
	if len(vals) != 1 || strings.Contains(vals[0], "*") {
		return nil, proxy.Forbidden("the silence has no matcher on %q, and you have several %ss (%s): add one, e.g. %s=\"%s\"", label, what, mine, label, strings.ReplaceAll(vals[0], "*", "x"))
	}
	t := true
	return append(slices.Clone(ms), matcher{Name: label, Value: vals[0], IsEqual: &t}), nil
}

// regexValues returns every string a regex matcher's value can match, as
// Alertmanager compiles it (^(?:value)$), or false when they are not a
// short finite list of literals: any repetition without a bound, any
// "any character", case folding, or more than maxAlternatives strings.
// Anchors and empty-width assertions count as empty strings, which can
// only add strings that the regex would not match: the list is a superset,
// so checking every string of it is safe.
func regexValues(value string) ([]string, bool) {
	re, err := syntax.Parse("^(?:"+value+")$", syntax.Perl)
	if err != nil {
		return nil, false
	}
	return language(re)
}

func language(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		return []string{string(re.Rune)}, true
	case syntax.OpEmptyMatch, syntax.OpBeginText, syntax.OpEndText, syntax.OpBeginLine, syntax.OpEndLine:
		return []string{""}, true
	case syntax.OpCapture:
		return language(re.Sub[0])
	case syntax.OpConcat:
		return concat(re.Sub)
	case syntax.OpAlternate:
		return alternate(re.Sub)
	case syntax.OpQuest:
		return alternate([]*syntax.Regexp{re.Sub[0], {Op: syntax.OpEmptyMatch}})
	case syntax.OpCharClass:
		return charClass(re.Rune)
	}
	// Star, plus, unbounded or large repeats, any character, word
	// boundaries: not a list of namespaces.
	return nil, false
}

func concat(subs []*syntax.Regexp) ([]string, bool) {
	out := []string{""}
	for _, sub := range subs {
		vs, ok := language(sub)
		if !ok || len(out)*len(vs) > maxAlternatives {
			return nil, false
		}
		next := make([]string, 0, len(out)*len(vs))
		for _, prefix := range out {
			for _, v := range vs {
				next = append(next, prefix+v)
			}
		}
		out = next
	}
	return out, true
}

func alternate(subs []*syntax.Regexp) ([]string, bool) {
	var out []string
	for _, sub := range subs {
		vs, ok := language(sub)
		if !ok || len(out)+len(vs) > maxAlternatives {
			return nil, false
		}
		out = append(out, vs...)
	}
	return out, true
}

func charClass(ranges []rune) ([]string, bool) {
	var out []string
	for i := 0; i+1 < len(ranges); i += 2 {
		if int(ranges[i+1]-ranges[i])+1+len(out) > maxAlternatives {
			return nil, false
		}
		for r := ranges[i]; r <= ranges[i+1]; r++ {
			out = append(out, string(r))
		}
	}
	return out, true
}
