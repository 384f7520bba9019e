// Package licensecheck finds the licence of every module linked into a Go
// program and checks it against Tollgate's policy: Tollgate is Apache-2.0,
// and a bank's legal review must be able to sign what bin/tollgate links.
// It also holds the modules a query gateway must not link at all, with the
// reason for each.
//
// Licences are recognised by phrases that only their own texts (or their
// standard notices) contain, never by a file's name. A text that matches
// none is unclassified, and an unclassified licence fails the check like a
// refused one: the policy fails closed.
package licensecheck

import (
	"slices"
	"strings"
)

// Licence is an SPDX-style licence name.
type Licence string

// The licences the classifier recognises.
const (
	Apache2       Licence = "Apache-2.0"
	MIT           Licence = "MIT"
	BSD2          Licence = "BSD-2-Clause"
	BSD3          Licence = "BSD-3-Clause"
	BSD4          Licence = "BSD-4-Clause"
	ISC           Licence = "ISC"
	MPL2          Licence = "MPL-2.0"
	AGPL          Licence = "AGPL-3.0"
	GPL           Licence = "GPL"
	LGPL          Licence = "LGPL"
	SSPL          Licence = "SSPL-1.0"
	BUSL          Licence = "BUSL-1.1"
	CommonsClause Licence = "Commons-Clause"
)

// Verdict says whether Tollgate may link code under l, and why not.
func Verdict(l Licence) (allowed bool, why string) {
	switch l {
	case Apache2, MIT, BSD2, BSD3, ISC, MPL2:
		return true, ""
	case AGPL, GPL, LGPL:
		return false, "copyleft: linking it would put bin/tollgate under " + string(l)
	case SSPL:
		return false, "SSPL: offering the gateway as a service would oblige publishing the whole service stack"
	case BUSL:
		return false, "BUSL: not open source until its change date; production use is restricted"
	case CommonsClause:
		return false, "Commons Clause: forbids selling the software or services based on it"
	}
	return false, "not on Tollgate's allow list (Apache-2.0, MIT, BSD-2-Clause, BSD-3-Clause, ISC, MPL-2.0); a licence needs a legal review before it is added"
}

// recogniser identifies one licence: any one of anyOf, all of whose
// phrases the text contains, and none of noneOf.
type recogniser struct {
	licence Licence
	anyOf   [][]string
	noneOf  []string
}

// recognisers are written in normalised form (see normalise): lower case,
// words separated by single spaces, punctuation dropped. Each phrase is
// one that only the licence's own text or its standard notice holds; the
// headings of the GNU licences carry their dates because other licences
// (MPL-2.0's "Secondary License") name them with their versions.
func recognisers() []recogniser {
	const (
		bsdGrant      = "redistribution and use in source and binary forms with or without modification are permitted provided that"
		bsdEndorse    = "endorse or promote products derived from this software"
		bsdAdvertise  = "all advertising materials mentioning features or use of this software"
		gnuGrant      = "under the terms of the gnu general public license"
		agplGrant     = "under the terms of the gnu affero general public license"
		lgplGrant     = "under the terms of the gnu lesser general public license"
		lgplLibGrant  = "under the terms of the gnu library general public license"
		spdxID        = "spdx license identifier "
		apacheHeading = "apache license version 2 0"
	)
	return []recogniser{
		{licence: Apache2, anyOf: [][]string{
			{apacheHeading, "terms and conditions for use reproduction and distribution"},
			// The notice of its appendix, and the ASF's own file header.
			{"under the apache license version 2 0 the license", "you may not use this file except in compliance with the license"},
			{spdxID + "apache 2 0"},
		}},
		{licence: MIT, anyOf: [][]string{
			{"permission is hereby granted free of charge to any person obtaining a copy", "the above copyright notice and this permission notice shall be included"},
			{spdxID + "mit"},
		}},
		{licence: BSD4, anyOf: [][]string{{bsdGrant, bsdAdvertise}}},
		{licence: BSD3, anyOf: [][]string{{bsdGrant, bsdEndorse}, {spdxID + "bsd 3 clause"}}, noneOf: []string{bsdAdvertise}},
		{licence: BSD2, anyOf: [][]string{{bsdGrant}, {spdxID + "bsd 2 clause"}}, noneOf: []string{bsdEndorse, bsdAdvertise}},
		{licence: ISC, anyOf: [][]string{
			{"permission to use copy modify and or distribute this software for any purpose with or without fee is hereby granted"},
			{"permission to use copy modify and distribute this software for any purpose with or without fee is hereby granted"},
			{spdxID + "isc"},
		}},
		{licence: MPL2, anyOf: [][]string{
			{"mozilla public license version 2 0"},
			{"mozilla public license v 2 0"},
			{spdxID + "mpl 2 0"},
		}},
		{licence: AGPL, anyOf: [][]string{
			{"gnu affero general public license version 3 19 november 2007"},
			{agplGrant},
			{spdxID + "agpl"},
		}},
		{licence: LGPL, anyOf: [][]string{
			{"gnu lesser general public license version 3 29 june 2007"},
			{"gnu lesser general public license version 2 1 february 1999"},
			{"gnu library general public license version 2 june 1991"},
			{lgplGrant}, {lgplLibGrant},
			{spdxID + "lgpl"},
		}},
		{licence: GPL, anyOf: [][]string{
			{"gnu general public license version 3 29 june 2007"},
			{"gnu general public license version 2 june 1991"},
			{"gnu general public license version 1 february 1989"},
			{gnuGrant},
			{spdxID + "gpl"},
		}},
		{licence: SSPL, anyOf: [][]string{{"server side public license"}, {spdxID + "sspl"}}},
		{licence: BUSL, anyOf: [][]string{{"business source license"}, {spdxID + "busl"}}},
		{licence: CommonsClause, anyOf: [][]string{{"commons clause"}}},
	}
}

// Classify returns the licences whose characteristic phrases text holds,
// sorted; none when it recognises nothing. A file holding several (an
// Apache-2.0 text with the Commons Clause, a dual MIT and Apache-2.0
// licence) yields all of them.
func Classify(text string) []Licence {
	norm := " " + normalise(text) + " "
	var found []Licence
	for _, r := range recognisers() {
		if matches(norm, r) {
			found = append(found, r.licence)
		}
	}
	// The AGPL and LGPL texts cite the GPL they build on; that citation is
	// not a second licence.
	if slices.Contains(found, AGPL) || slices.Contains(found, LGPL) {
		found = slices.DeleteFunc(found, func(l Licence) bool { return l == GPL })
	}
	slices.Sort(found)
	return found
}

func matches(norm string, r recogniser) bool {
	for _, p := range r.noneOf {
		if containsPhrase(norm, p) {
			return false
		}
	}
	for _, all := range r.anyOf {
		if !slices.ContainsFunc(all, func(p string) bool { return !containsPhrase(norm, p) }) {
			return true
		}
	}
	return false
}

// containsPhrase matches whole words only: "mit" is not in "permitted".
func containsPhrase(norm, phrase string) bool {
	return strings.Contains(norm, " "+phrase+" ")
}

// normalise lower-cases text and reduces it to its words, so that line
// breaks, comment markers, Markdown and punctuation do not matter.
func normalise(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	space := true
	for _, r := range strings.ToLower(text) {
		if ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') {
			b.WriteRune(r)
			space = false
			continue
		}
		if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimSpace(b.String())
}
