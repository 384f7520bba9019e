// Package problem collects configuration problems with the path of the key
// that caused them, so that a loader can point the user at a file and line.
package problem

import (
	"fmt"
	"strings"
)

// Severity tells whether a problem stops Tollgate from starting.
type Severity int

const (
	SeverityError Severity = iota
	SeverityWarning
)

// Problem is one finding about a configuration value.
type Problem struct {
	// Path is the dotted key path, with list indexes: "tenancy.tenants[0].name".
	Path     string
	Msg      string
	Fix      string
	Severity Severity
	// Pos is filled in by the loader: "tollgate.yaml:12:7".
	Pos string
	// Line and Col are the numeric position, for sorting.
	Line, Col int
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Pos != "" {
		b.WriteString(p.Pos)
		b.WriteString(": ")
	}
	if p.Severity == SeverityWarning {
		b.WriteString("warning: ")
	}
	b.WriteString(p.Path)
	b.WriteString(": ")
	b.WriteString(p.Msg)
	if p.Fix != "" {
		b.WriteString(" (fix: ")
		b.WriteString(p.Fix)
		b.WriteString(")")
	}
	return b.String()
}

// List accumulates problems in the order they were found.
type List []Problem

// Add records an error.
func (l *List) Add(path, msg, fix string) {
	*l = append(*l, Problem{Path: path, Msg: msg, Fix: fix, Severity: SeverityError})
}

// Warn records a problem that does not stop Tollgate from starting.
func (l *List) Warn(path, msg, fix string) {
	*l = append(*l, Problem{Path: path, Msg: msg, Fix: fix, Severity: SeverityWarning})
}

// Errors returns only the problems of severity Error.
func (l List) Errors() List { return l.only(SeverityError) }

// Warnings returns only the problems of severity Warning.
func (l List) Warnings() List { return l.only(SeverityWarning) }

func (l List) only(sev Severity) List {
	var out List
	for _, p := range l {
		if p.Severity == sev {
			out = append(out, p)
		}
	}
	return out
}

// Err returns nil when the list holds no errors, else an error listing them.
func (l List) Err() error {
	errs := l.Errors()
	if len(errs) == 0 {
		return nil
	}
	return &Error{List: errs}
}

// Error is the error returned by List.Err; its message has one problem per line.
type Error struct{ List List }

func (e *Error) Error() string {
	lines := make([]string, 0, len(e.List)+1)
	if len(e.List) == 1 {
		return e.List[0].String()
	}
	lines = append(lines, fmt.Sprintf("%d configuration problems:", len(e.List)))
	for _, p := range e.List {
		lines = append(lines, "  "+p.String())
	}
	return strings.Join(lines, "\n")
}
