package licensecheck

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The fixtures in testdata/licences hold only the headings and phrases that
// tell the licences apart (and the ones that must not mislead), written
// for these tests, not whole licence texts.
func TestClassify(t *testing.T) {
	for file, want := range map[string][]Licence{
		"apache-2.0.txt":      {Apache2},
		"apache-notice.txt":   {Apache2},
		"asf-header.txt":      {Apache2},
		"mit.md":              {MIT},
		"bsd-2-clause.txt":    {BSD2},
		"bsd-3-clause.txt":    {BSD3},
		"bsd-4-clause.txt":    {BSD4},
		"isc.txt":             {ISC},
		"mpl-2.0.txt":         {MPL2}, // names the GPL, LGPL and AGPL as Secondary Licenses
		"agpl-3.0.txt":        {AGPL}, // names the GPL in section 13
		"agpl-notice.txt":     {AGPL},
		"gpl-2.0.txt":         {GPL},
		"gpl-3.0-notice.txt":  {GPL},
		"spdx-gpl.txt":        {GPL},
		"lgpl-3.0.txt":        {LGPL}, // incorporates the GPL's terms
		"lgpl-2.1.txt":        {LGPL},
		"sspl.txt":            {SSPL},
		"busl.txt":            {BUSL},
		"commons-clause.txt":  {Apache2, CommonsClause},
		"dual-mit-apache.txt": {Apache2, MIT},
		"cc0.txt":             nil,
		"boost.txt":           nil, // its grant starts like MIT's but is not MIT
		"permitted-words.txt": nil, // "mit" and "gpl" inside other words
	} {
		b, err := os.ReadFile(filepath.Join("testdata", "licences", file))
		if err != nil {
			t.Fatal(err)
		}
		if got := Classify(string(b)); !slices.Equal(got, want) {
			t.Errorf("%s: Classify = %v, want %v", file, got, want)
		}
	}
}

func TestVerdict(t *testing.T) {
	for _, l := range []Licence{Apache2, MIT, BSD2, BSD3, ISC, MPL2} {
		if ok, why := Verdict(l); !ok {
			t.Errorf("%s refused: %s", l, why)
		}
	}
	for l, reason := range map[Licence]string{
		AGPL:          "copyleft",
		GPL:           "copyleft",
		LGPL:          "copyleft",
		SSPL:          "SSPL",
		BUSL:          "BUSL",
		CommonsClause: "Commons Clause",
		BSD4:          "allow list",
		"WTFPL":       "allow list",
	} {
		ok, why := Verdict(l)
		if ok {
			t.Errorf("%s allowed", l)
		} else if !strings.Contains(why, reason) {
			t.Errorf("%s refused with %q, which does not say %q", l, why, reason)
		}
	}
}

func TestIsLicenceFile(t *testing.T) {
	for name, want := range map[string]bool{
		"LICENSE":               true,
		"LICENSE.md":            true,
		"LICENSE.txt":           true,
		"license":               true,
		"LICENCE":               true,
		"LICENSE-APACHE":        true,
		"LICENSE-MIT":           true,
		"LICENSE_APACHE2":       true,
		"COPYING":               true,
		"COPYING.LESSER":        true,
		"UNLICENSE":             true,
		"LICENSING.md":          false,
		"operator_license.go":   false,
		"license.go":            false,
		"license-check.yml":     false,
		"LICENSE-3rdparty.csv":  false,
		"licenses":              false,
		"README.md":             false,
		"NOTICE":                false,
		"licensecheck_test.txt": false,
	} {
		if got := IsLicenceFile(name); got != want {
			t.Errorf("IsLicenceFile(%q) = %v, want %v", name, got, want)
		}
	}
}
