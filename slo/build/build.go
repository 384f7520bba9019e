// Package build reads SLO specs, from files and the built-in catalogue, and
// builds their Prometheus rules in memory: the work behind tollgate slo
// validate, generate and diff, which differ only in what they do with the
// result.
package build

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/problem"
	"github.com/tollgate-dev/tollgate/promenforce"
	"github.com/tollgate-dev/tollgate/slo/catalog"
	"github.com/tollgate-dev/tollgate/slo/rules"
	"github.com/tollgate-dev/tollgate/slo/spec"
)

// Sources are the specs of a build.
type Sources struct {
	// Catalog includes the built-in platform SLOs, adapted by the
	// catalogue configuration file CatalogConfig when it is set.
	Catalog       bool
	CatalogConfig string
	// Paths are spec files and directories (read recursively).
	Paths []string
}

// Build holds the specs read and the rules generated from them.
type Build struct {
	Set      *spec.Set
	Files    []rules.File
	Problems problem.List

	// stopped is set when the catalogue did not load: there is nothing to
	// generate, whether or not its problems are errors.
	stopped bool
	// compat is the SlothCompat the rules were generated with.
	compat bool
}

// Read reads the specs. Their problems are in the build, with a nil error;
// an error means that nothing could be read (a missing path, say).
func Read(src Sources) (*Build, error) {
	b := &Build{Set: &spec.Set{}}
	if src.Catalog {
		if err := b.readCatalog(src.CatalogConfig); err != nil {
			return nil, err
		}
		if b.stopped {
			return b, nil
		}
	}
	if len(src.Paths) > 0 {
		set, ps, err := spec.Load(src.Paths...)
		if set == nil {
			return nil, err
		}
		b.Problems = append(b.Problems, ps...)
		b.Set.Documents = append(b.Set.Documents, set.Documents...)
		if src.Catalog {
			b.Problems = append(b.Problems, catalogDuplicates(b.Set)...)
		}
	}
	return b, nil
}

// readCatalog adds the catalogue's specs. Problems of the configuration or
// of the catalogue stop the build; an error means that the configuration
// could not be read at all.
func (b *Build) readCatalog(configPath string) error {
	cfg := catalog.Config{}
	if configPath != "" {
		c, ps, err := catalog.LoadConfig(configPath)
		b.Problems = append(b.Problems, ps...)
		if err != nil {
			b.stopped = true
			if len(ps) == 0 {
				return err
			}
			return nil
		}
		cfg = c
	}
	docs, ps, err := catalog.Load(cfg)
	b.Problems = append(b.Problems, ps...)
	if err != nil {
		b.stopped = true
		return nil
	}
	b.Set.Documents = append(b.Set.Documents, docs...)
	return nil
}

// catalogDuplicates are the IDs of the set's specs that a catalogue SLO
// already has. Duplicates among the files themselves were reported when
// they were read.
func catalogDuplicates(set *spec.Set) problem.List {
	var out problem.List
	for _, p := range set.CheckIDs() {
		if strings.Contains(p.Msg, catalog.Source) {
			out = append(out, p)
		}
	}
	return out
}

// Failed reports whether the specs cannot be generated: they have errors,
// or the catalogue did not load.
func (b *Build) Failed() bool {
	return b.stopped || len(b.Problems.Errors()) > 0
}

// Generate generates the rules of the specs. Problems of the specs are
// added to the build; an error means that the options are wrong.
func (b *Build) Generate(opts rules.Options) error {
	g, err := rules.New(opts)
	if err != nil {
		return err
	}
	files, ps := g.Generate(b.Set)
	b.Files = files
	b.Problems = append(b.Problems, ps...)
	b.compat = opts.SlothCompat
	return nil
}

// Verify parses every generated expression again. The generator's output
// is valid by construction; parsing it is cheap and turns a generator bug
// into a clear error.
func (b *Build) Verify() error {
	p := promenforce.New().Parser()
	for _, file := range b.Files {
		for _, g := range file.Groups() {
			for _, rule := range g.Rules {
				if _, err := p.ParseExpr(rule.Expr); err != nil {
					return fmt.Errorf("generated rule %s in group %s does not parse (a Tollgate bug; please report it): %w", rule.Record+rule.Alert, g.Name, err)
				}
			}
		}
	}
	return nil
}

// Print writes the problems, one a line, and reports whether any is an
// error.
func (b *Build) Print(w io.Writer) bool {
	for _, p := range b.Problems {
		fmt.Fprintln(w, p.String())
	}
	return len(b.Problems.Errors()) > 0
}

// Render writes the generated rules in a format. Rules generated in Sloth
// compatibility say that Sloth manages them, as Sloth's own would.
func (b *Build) Render(format rules.Format) ([]byte, error) {
	managedBy := "tollgate"
	if b.compat {
		managedBy = "sloth"
	}
	var out bytes.Buffer
	if err := rules.Write(&out, b.Files, rules.WriteOptions{Format: format, ManagedBy: managedBy}); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Summary counts the SLOs and rule groups generated: "1 SLO, 3 rule groups".
func (b *Build) Summary() string {
	n, groups := 0, 0
	for _, f := range b.Files {
		n += len(f.SLOs)
		groups += len(f.Groups())
	}
	return count(n, "SLO") + ", " + count(groups, "rule group")
}

// ErrorCount counts the errors among the problems: "1 error", "2 errors".
func (b *Build) ErrorCount() string {
	return count(len(b.Problems.Errors()), "error")
}

// count writes "1 SLO", "2 SLOs".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
