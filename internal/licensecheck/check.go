package licensecheck

import (
	"fmt"
	"strings"
)

// Problem is one module the licence policy refuses.
type Problem struct {
	Module, Version string
	Why             string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s %s: %s", p.Module, p.Version, p.Why)
}

// Check applies the licence policy to every module: each must carry at
// least one recognised licence, every licence found must be allowed, every
// licence file must be recognised, and every linked package must be
// covered by a licence file.
func Check(mods []Module) []Problem {
	var out []Problem
	for _, m := range mods {
		var why []string
		for _, l := range m.Licences {
			if ok, reason := Verdict(l); !ok {
				why = append(why, fmt.Sprintf("%s refused (%s)", l, reason))
			}
		}
		if len(m.Files) == 0 {
			why = append(why, "no licence file (LICENSE, LICENCE, COPYING...) at its root or in a linked package's directory")
		} else if len(m.Licences) == 0 {
			why = append(why, "no licence recognised in "+strings.Join(m.Files, ", "))
		}
		if len(m.Unclassified) > 0 && len(m.Licences) > 0 {
			why = append(why, "no licence recognised in "+strings.Join(m.Unclassified, ", ")+"; review it and teach the classifier")
		}
		if len(m.Unlicensed) > 0 {
			why = append(why, "no licence file covers "+strings.Join(m.Unlicensed, ", "))
		}
		if len(why) > 0 {
			out = append(out, Problem{Module: m.Path, Version: m.Version, Why: strings.Join(why, "; ")})
		}
	}
	return out
}

// LicenceList is how a table shows a module's licences: "Apache-2.0,
// BSD-3-Clause", or "unknown".
func LicenceList(m Module) string {
	if len(m.Licences) == 0 {
		return "unknown"
	}
	parts := make([]string, len(m.Licences))
	for i, l := range m.Licences {
		parts[i] = string(l)
	}
	return strings.Join(parts, ", ")
}
