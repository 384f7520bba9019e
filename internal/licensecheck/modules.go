package licensecheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// Package is one package linked into the program, as `go list -deps -json`
// reports it.
type Package struct {
	ImportPath string
	Dir        string
	Standard   bool
	Imports    []string
	Module     *ModuleRef
}

// ModuleRef is the module a package belongs to.
type ModuleRef struct {
	Path    string
	Version string
	Dir     string
	Main    bool
	Replace *ModuleRef
}

// List returns the packages linked into the program pattern names (such as
// "./cmd/tollgate"), from `go list -deps -json` run in dir. Every module
// must be in the module cache, as it is after a build.
func List(ctx context.Context, dir, pattern string) ([]Package, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-deps", "-json=ImportPath,Dir,Standard,Imports,Module", pattern)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps %s: %w\n%s", pattern, err, stderr.Bytes())
	}
	var pkgs []Package
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p Package
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("reading go list's output for %s: %w", pattern, err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

// Module is one module linked into the program and the licences found for
// the parts of it that are linked.
type Module struct {
	Path, Version string
	// Dir is where the module's files are (the module cache, or the
	// replacement's directory).
	Dir  string
	Main bool
	// Licences are those of the licence files at the module's root and of
	// the licence file nearest to each linked package, sorted. The root
	// counts even when every linked package has a licence file of its own:
	// a repository licensed AGPL-3.0 by default (Loki) is refused whole.
	Licences []Licence
	// Files are the licence files read, relative to Dir.
	Files []string
	// Unclassified are licence files in which no licence was recognised.
	Unclassified []string
	// Unlicensed are linked packages with no licence file in their
	// directory or any parent up to the module root.
	Unlicensed []string
}

// Modules groups the non-standard packages by module (the replacement, if
// any) and reads their licences. The result is sorted by module path.
func Modules(pkgs []Package) ([]Module, error) {
	byPath := map[string]*Module{}
	reads := map[string]dirLicences{}
	for _, p := range pkgs {
		if p.Standard || p.Module == nil {
			continue
		}
		ref := *p.Module
		if ref.Replace != nil {
			ref = *ref.Replace
		}
		if ref.Dir == "" {
			return nil, fmt.Errorf("module %s of package %s has no directory: is it downloaded (go mod download)?", ref.Path, p.ImportPath)
		}
		m, ok := byPath[ref.Path]
		if !ok {
			m = &Module{Path: ref.Path, Version: ref.Version, Dir: ref.Dir, Main: ref.Main}
			byPath[ref.Path] = m
			if err := m.add(reads, ref.Dir); err != nil {
				return nil, err
			}
		}
		dir, found, err := nearestLicenceDir(reads, ref.Dir, p.Dir)
		if err != nil {
			return nil, err
		}
		if !found {
			m.Unlicensed = append(m.Unlicensed, p.ImportPath)
			continue
		}
		if err := m.add(reads, dir); err != nil {
			return nil, err
		}
	}
	out := make([]Module, 0, len(byPath))
	for _, m := range byPath {
		slices.Sort(m.Licences)
		m.Licences = slices.Compact(m.Licences)
		slices.Sort(m.Files)
		m.Files = slices.Compact(m.Files)
		slices.Sort(m.Unclassified)
		m.Unclassified = slices.Compact(m.Unclassified)
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b Module) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// add records the licence files of dir.
func (m *Module) add(reads map[string]dirLicences, dir string) error {
	dl, err := readDir(reads, dir)
	if err != nil {
		return err
	}
	for _, f := range dl {
		rel, err := filepath.Rel(m.Dir, f.path)
		if err != nil {
			rel = f.path
		}
		rel = filepath.ToSlash(rel)
		m.Files = append(m.Files, rel)
		if len(f.licences) == 0 {
			m.Unclassified = append(m.Unclassified, rel)
		}
		m.Licences = append(m.Licences, f.licences...)
	}
	return nil
}

// licenceFile is one licence file read and classified.
type licenceFile struct {
	path     string
	licences []Licence
}

type dirLicences []licenceFile

// nearestLicenceDir walks up from pkgDir to moduleDir and returns the first
// directory holding a licence file.
func nearestLicenceDir(reads map[string]dirLicences, moduleDir, pkgDir string) (string, bool, error) {
	root := filepath.Clean(moduleDir)
	dir := filepath.Clean(pkgDir)
	if rel, err := filepath.Rel(root, dir); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false, fmt.Errorf("package directory %s is outside its module %s", pkgDir, moduleDir)
	}
	for {
		dl, err := readDir(reads, dir)
		if err != nil {
			return "", false, err
		}
		if len(dl) > 0 {
			return dir, true, nil
		}
		if dir == root {
			return "", false, nil
		}
		dir = filepath.Dir(dir)
	}
}

// readDir reads and classifies the licence files of dir, once.
func readDir(reads map[string]dirLicences, dir string) (dirLicences, error) {
	if dl, ok := reads[dir]; ok {
		return dl, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading licence files: %w", err)
	}
	dl := dirLicences{}
	for _, e := range entries {
		if !e.Type().IsRegular() || !IsLicenceFile(e.Name()) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading licence file: %w", err)
		}
		dl = append(dl, licenceFile{path: path, licences: Classify(string(b))})
	}
	reads[dir] = dl
	return dl, nil
}

// IsLicenceFile reports whether a file name is one that licences are kept
// under: LICENSE, LICENCE, COPYING and UNLICENSE, with any extension or
// suffix (LICENSE.md, LICENSE-APACHE, LICENSE_APACHE2, COPYING.LESSER), but
// not code or data about licences (operator_license.go, license-check.yml,
// LICENSE-3rdparty.csv) nor prose about licensing (LICENSING.md, which
// Loki's per-directory licence files make redundant).
func IsLicenceFile(name string) bool {
	lower := strings.ToLower(name)
	switch filepath.Ext(lower) {
	case ".go", ".json", ".yml", ".yaml", ".csv", ".toml", ".xml", ".html", ".sh", ".py", ".js", ".tmpl":
		return false
	}
	for _, stem := range []string{"license", "licence", "copying", "unlicense"} {
		rest, ok := strings.CutPrefix(lower, stem)
		if ok && (rest == "" || strings.ContainsRune(".-_", rune(rest[0]))) {
			return true
		}
	}
	return false
}
