// Command licenses prints the licence of every module linked into a Go
// program (`make licenses`: bin/tollgate), and the modules Tollgate's
// policy refuses. It exits 1 when there is one.
//
//	go run ./internal/licensecheck/cmd/licenses ./cmd/tollgate
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/tollgate-dev/tollgate/internal/licensecheck"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: licenses PACKAGE   (e.g. ./cmd/tollgate)")
		os.Exit(2)
	}
	refused, err := run(context.Background(), os.Args[1], os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "licenses:", err)
		os.Exit(2)
	}
	if refused {
		os.Exit(1)
	}
}

func run(ctx context.Context, pattern string, w io.Writer) (refused bool, err error) {
	pkgs, err := licensecheck.List(ctx, ".", pattern)
	if err != nil {
		return false, err
	}
	mods, err := licensecheck.Modules(pkgs)
	if err != nil {
		return false, err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MODULE\tVERSION\tLICENCE")
	for _, m := range mods {
		version := m.Version
		if m.Main {
			version = "(this module)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", m.Path, version, licensecheck.LicenceList(m))
	}
	if err := tw.Flush(); err != nil {
		return false, err
	}
	problems := licensecheck.Check(mods)
	denied := licensecheck.DeniedModules(pkgs)
	fmt.Fprintf(w, "\n%d modules linked into %s.\n", len(mods), pattern)
	for _, p := range problems {
		fmt.Fprintln(w, "REFUSED licence:", p)
	}
	for _, d := range denied {
		fmt.Fprintln(w, "DENIED module:", d)
	}
	return len(problems)+len(denied) > 0, nil
}
