package logql_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/tollgate-dev/tollgate/logql"
	"github.com/tollgate-dev/tollgate/querybounds"
)

// FuzzParse checks the parser and the printer together: nothing panics;
// every error is one the proxy answers with 400; and a query that parses
// prints to a query that parses to the same tree (the tree has no
// positions) and prints the same again. The corpus of the differential
// test is the seed.
func FuzzParse(f *testing.F) {
	for _, q := range readCorpus(f) {
		f.Add(q.text)
	}
	f.Fuzz(func(t *testing.T, q string) {
		e, err := logql.ParseExpr(q)
		if err != nil {
			if !isInvalid(err) {
				t.Fatalf("ParseExpr(%q): an error of unexpected kind: %v", q, err)
			}
			return
		}
		printed := e.String()
		again, err := logql.ParseExpr(printed)
		if err != nil {
			// Printing may lengthen a query, past the size bound or past
			// what Loki's lexer reads cheaply; nothing else may fail.
			var ex *querybounds.Exceeded
			if errors.As(err, &ex) && ex.Key == querybounds.KeyMaxBytes || errors.Is(err, logql.ErrLokiLexCost) {
				return
			}
			t.Fatalf("%q prints as %q, which does not parse: %v", q, printed, err)
		}
		if !reflect.DeepEqual(e, again) {
			t.Fatalf("%q prints as %q, which parses to another tree", q, printed)
		}
		if p2 := again.String(); p2 != printed {
			t.Fatalf("%q prints as %q, then as %q", q, printed, p2)
		}
	})
}
