package licensecheck_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/licensecheck"
)

// These tests check bin/tollgate, the binary a container image ships, as
// `make build` builds it. They run in `make test` with every other test.

const gateway = "github.com/tollgate-dev/tollgate/cmd/tollgate"

var linked = sync.OnceValues(func() ([]licensecheck.Package, error) {
	return licensecheck.List(context.Background(), ".", gateway)
})

// linkedPackages lists what bin/tollgate links, once per test binary, and
// checks that the list is the gateway's (so that an empty or wrong list
// cannot pass the tests below).
func linkedPackages(t *testing.T) []licensecheck.Package {
	t.Helper()
	pkgs, err := linked()
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 100 || pkgs[len(pkgs)-1].ImportPath != gateway {
		t.Fatalf("go list -deps %s listed %d packages ending with %v: not the gateway's", gateway, len(pkgs), pkgs[len(pkgs)-1:])
	}
	return pkgs
}

// TestGatewayLicences fails on every module linked into bin/tollgate whose
// licence is refused (AGPL, GPL, LGPL, SSPL, BUSL, Commons Clause) or
// cannot be classified. `make licenses` prints the whole table.
func TestGatewayLicences(t *testing.T) {
	mods, err := licensecheck.Modules(linkedPackages(t))
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(mods, func(m licensecheck.Module) bool { return m.Main })
	if i < 0 || licensecheck.LicenceList(mods[i]) != "Apache-2.0" {
		t.Errorf("Tollgate's own module is not found Apache-2.0 (LICENSE at the repository root): %+v", mods[i:i+1])
	}
	for _, p := range licensecheck.Check(mods) {
		t.Errorf("bin/tollgate links %s", p)
	}
	t.Logf("%d modules linked into bin/tollgate; `make licenses` prints their licences", len(mods))
}

// TestGatewayDeniedModules fails on every module of licensecheck.Denials
// that bin/tollgate links, naming the imports that bring it in.
func TestGatewayDeniedModules(t *testing.T) {
	for _, d := range licensecheck.DeniedModules(linkedPackages(t)) {
		t.Errorf("bin/tollgate links %s", d)
	}
}

// TestGatewayBinarySize builds bin/tollgate as `make build` does and fails
// when the stripped binary is over licensecheck.MaxGatewayBytes.
func TestGatewayBinarySize(t *testing.T) {
	out := filepath.Join(t.TempDir(), "tollgate")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, gateway)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	mb := func(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
	if fi.Size() > licensecheck.MaxGatewayBytes {
		t.Errorf("bin/tollgate is %s (%d bytes) stripped, over the %s bound (licensecheck.MaxGatewayBytes): something linked a large dependency; see `go list -deps ./cmd/tollgate` and `make licenses`",
			mb(fi.Size()), fi.Size(), mb(licensecheck.MaxGatewayBytes))
	}
	t.Logf("bin/tollgate: %d bytes stripped", fi.Size())
}
