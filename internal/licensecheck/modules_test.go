package licensecheck

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tree writes files (path → fixture in testdata/licences, or "" for an
// empty Go file) under a new directory and returns it.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for path, fixture := range files {
		content := []byte("package p\n")
		if fixture != "" {
			b, err := os.ReadFile(filepath.Join("testdata", "licences", fixture))
			if err != nil {
				t.Fatal(err)
			}
			content = b
		}
		full := filepath.Join(root, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func pkg(mod *ModuleRef, rel string) Package {
	return Package{ImportPath: mod.Path + "/" + rel, Dir: filepath.Join(mod.Dir, filepath.FromSlash(rel)), Module: mod}
}

func modulesOf(t *testing.T, pkgs ...Package) []Module {
	t.Helper()
	mods, err := Modules(pkgs)
	if err != nil {
		t.Fatal(err)
	}
	return mods
}

// A repository licensed AGPL-3.0 by default, with Apache-2.0 directories
// that carry their own licence file, as Loki's LICENSING.md describes: the
// module counts as AGPL-3.0 even when only an Apache-2.0 directory is
// linked.
func TestPerDirectoryLicencesKeepTheRootLicence(t *testing.T) {
	root := tree(t, map[string]string{
		"LICENSE":                       "agpl-3.0.txt",
		"LICENSING.md":                  "apache-notice.txt",
		"pkg/push/LICENSE_APACHE2":      "apache-notice.txt",
		"pkg/push/push.go":              "",
		"pkg/logql/syntax/syntax.go":    "",
		"pkg/logproto/LICENSE_APACHE2":  "apache-notice.txt",
		"pkg/logproto/sub/logproto.go":  "",
		"pkg/logql/syntax/ast/types.go": "",
	})
	mod := &ModuleRef{Path: "example.com/loki/v3", Version: "v3.7.8", Dir: root}
	for name, pkgs := range map[string][]Package{
		"AGPL package linked":        {pkg(mod, "pkg/logql/syntax"), pkg(mod, "pkg/push")},
		"only Apache dirs linked":    {pkg(mod, "pkg/push"), pkg(mod, "pkg/logproto/sub")},
		"AGPL package in a sub-tree": {pkg(mod, "pkg/logql/syntax/ast")},
	} {
		mods := modulesOf(t, pkgs...)
		if len(mods) != 1 || !slices.Contains(mods[0].Licences, AGPL) {
			t.Fatalf("%s: modules %+v, want one with AGPL-3.0", name, mods)
		}
		problems := Check(mods)
		if len(problems) != 1 || problems[0].Module != mod.Path || !strings.Contains(problems[0].Why, "AGPL-3.0 refused") {
			t.Errorf("%s: problems %v, want example.com/loki/v3 refused for AGPL-3.0", name, problems)
		}
	}
	// The per-directory files are read: LICENSING.md is not.
	mods := modulesOf(t, pkg(mod, "pkg/push"))
	if want := []string{"LICENSE", "pkg/push/LICENSE_APACHE2"}; !slices.Equal(mods[0].Files, want) {
		t.Errorf("files read %v, want %v", mods[0].Files, want)
	}
}

func TestCheck(t *testing.T) {
	permissive := &ModuleRef{Path: "example.com/ok", Version: "v1.0.0", Dir: tree(t, map[string]string{"LICENSE.md": "mit.md", "a/b/b.go": ""})}
	mpl := &ModuleRef{Path: "example.com/mpl", Version: "v1.0.0", Dir: tree(t, map[string]string{"LICENSE": "mpl-2.0.txt", "x.go": ""})}
	forked := &ModuleRef{Path: "example.com/forked", Version: "v0.1.0", Dir: tree(t, map[string]string{
		"LICENSE": "apache-2.0.txt", "internal/third_party/go/LICENSE": "bsd-3-clause.txt", "internal/third_party/go/f.go": "", "y.go": "",
	})}
	unlicensed := &ModuleRef{Path: "example.com/none", Version: "v0.0.1", Dir: tree(t, map[string]string{"z.go": ""})}
	unknown := &ModuleRef{Path: "example.com/cc0", Version: "v1.2.3", Dir: tree(t, map[string]string{"LICENSE": "cc0.txt", "z.go": ""})}
	extra := &ModuleRef{Path: "example.com/docs", Version: "v1.0.0", Dir: tree(t, map[string]string{"LICENSE": "mit.md", "LICENSE.docs": "cc0.txt", "z.go": ""})}
	partial := &ModuleRef{Path: "example.com/partial", Version: "v1.0.0", Dir: tree(t, map[string]string{"lib/LICENSE": "isc.txt", "lib/l.go": "", "tool/t.go": ""})}
	clause := &ModuleRef{Path: "example.com/clause", Version: "v2.0.0", Dir: tree(t, map[string]string{"LICENSE": "commons-clause.txt", "c.go": ""})}
	replaced := &ModuleRef{Path: "example.com/replaced", Version: "v1.0.0", Dir: tree(t, map[string]string{"LICENSE": "gpl-2.0.txt", "r.go": ""}),
		Replace: &ModuleRef{Path: "example.com/fork", Version: "v1.0.1", Dir: tree(t, map[string]string{"LICENSE": "bsd-2-clause.txt", "r.go": ""})}}

	mods := modulesOf(t,
		Package{ImportPath: "fmt", Standard: true},
		pkg(permissive, "a/b"), pkg(mpl, "."), pkg(forked, "internal/third_party/go"), pkg(forked, "."),
		pkg(unlicensed, "."), pkg(unknown, "."), pkg(extra, "."),
		pkg(partial, "lib"), pkg(partial, "tool"), pkg(clause, "."),
		Package{ImportPath: "example.com/replaced", Dir: filepath.Join(replaced.Replace.Dir), Module: replaced},
	)
	licences := map[string]string{}
	for _, m := range mods {
		licences[m.Path] = LicenceList(m)
	}
	wantLicences := map[string]string{
		"example.com/ok": "MIT", "example.com/mpl": "MPL-2.0", "example.com/forked": "Apache-2.0, BSD-3-Clause",
		"example.com/none": "unknown", "example.com/cc0": "unknown", "example.com/docs": "MIT",
		"example.com/partial": "ISC", "example.com/clause": "Apache-2.0, Commons-Clause", "example.com/fork": "BSD-2-Clause",
	}
	for path, want := range wantLicences {
		if licences[path] != want {
			t.Errorf("%s: licences %q, want %q", path, licences[path], want)
		}
	}
	if len(licences) != len(wantLicences) {
		t.Errorf("modules %v, want those of %v (the standard library left out)", licences, wantLicences)
	}

	got := map[string]string{}
	for _, p := range Check(mods) {
		got[p.Module] = p.Why
	}
	for path, want := range map[string]string{
		"example.com/none":    "no licence file",
		"example.com/cc0":     "no licence recognised in LICENSE",
		"example.com/docs":    "no licence recognised in LICENSE.docs",
		"example.com/partial": "no licence file covers example.com/partial/tool",
		"example.com/clause":  "Commons-Clause refused",
	} {
		if !strings.Contains(got[path], want) {
			t.Errorf("%s: problem %q, want one saying %q", path, got[path], want)
		}
		delete(got, path)
	}
	for path, why := range got {
		t.Errorf("%s refused: %s", path, why)
	}
}

func TestDenied(t *testing.T) {
	for path, want := range map[string]bool{
		"github.com/aws/aws-sdk-go-v2":                               true,
		"github.com/aws/smithy-go":                                   true,
		"github.com/Azure/azure-sdk-for-go/sdk/azcore":               true,
		"github.com/AzureAD/microsoft-authentication-library-for-go": true,
		"cloud.google.com/go/auth":                                   true,
		"google.golang.org/api":                                      true,
		"github.com/hashicorp/consul/api":                            true,
		"k8s.io/client-go":                                           true,
		"github.com/awslabs/something":                               false,
		"k8s.io/apimachinery":                                        false,
		"google.golang.org/protobuf":                                 false,
		"github.com/hashicorp/golang-lru/v2":                         false,
	} {
		d, got := Denied(path)
		if got != want {
			t.Errorf("Denied(%q) = %v, want %v", path, got, want)
		}
		if got && d.Reason == "" {
			t.Errorf("Denied(%q) gives no reason", path)
		}
	}
}

func TestDeniedModulesNamesTheImportChain(t *testing.T) {
	aws := &ModuleRef{Path: "github.com/aws/aws-sdk-go-v2", Version: "v1.0.0"}
	app := &ModuleRef{Path: "example.com/app", Main: true}
	lib := &ModuleRef{Path: "example.com/lib", Version: "v1.0.0"}
	pkgs := []Package{
		{ImportPath: "github.com/aws/aws-sdk-go-v2/aws", Module: aws},
		{ImportPath: "github.com/aws/aws-sdk-go-v2/aws/signer", Module: aws, Imports: []string{"github.com/aws/aws-sdk-go-v2/aws"}},
		{ImportPath: "example.com/lib/sigv4", Module: lib, Imports: []string{"github.com/aws/aws-sdk-go-v2/aws/signer"}},
		{ImportPath: "example.com/app/config", Module: app, Imports: []string{"example.com/lib/sigv4", "github.com/aws/aws-sdk-go-v2/aws"}},
		{ImportPath: "example.com/app/cmd", Module: app, Imports: []string{"example.com/app/config"}},
	}
	got := DeniedModules(pkgs)
	want := "github.com/aws/aws-sdk-go-v2: AWS SDK"
	chain := "linked by github.com/aws/aws-sdk-go-v2/aws <- example.com/app/config <- example.com/app/cmd"
	if len(got) != 1 || !strings.HasPrefix(got[0], want) || !strings.HasSuffix(got[0], chain) {
		t.Errorf("DeniedModules = %q, want one line starting %q and ending %q", got, want, chain)
	}
	if got := DeniedModules(pkgs[2:3]); len(got) != 0 {
		t.Errorf("DeniedModules without a denied module = %q", got)
	}
}
