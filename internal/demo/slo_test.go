package demo

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/testkit/slotest"
	"github.com/tollgate-dev/tollgate/internal/testkit/testenv"
	"github.com/tollgate-dev/tollgate/slo/spec"
)

// The demo writes the catalogue's rules, a team's spec and confined rules,
// and the Alertmanager configuration; the banner names them and the
// commands that check them, and those commands pass.
func TestDemoWritesSLOFiles(t *testing.T) {
	s := NewSLOs(t.TempDir(), demoTenancy(), nil)
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	f := s.Files()
	for _, role := range []string{"catalogue-rules", "team-spec", "team-rules", "routing", "alertmanager"} {
		if _, err := os.Stat(f[role]); err != nil {
			t.Errorf("%s: %v", role, err)
		}
	}
	slotest.CheckRules(t, f["catalogue-rules"], f["team-rules"])
	if out, err := exec.Command(testenv.Binary(t, "TOLLGATE_AMTOOL", "amtool"), "check-config", f["alertmanager"]).CombinedOutput(); err != nil {
		t.Fatalf("amtool: %v\n%s", err, out)
	}
	if _, ps, err := spec.Load(f["team-spec"]); err != nil {
		t.Errorf("the team's spec does not load: %v", ps)
	}
	team, _ := os.ReadFile(f["team-rules"])
	if !strings.Contains(string(team), `namespace=~"team-payments-prod|team-payments-staging"`) || !strings.Contains(string(team), "namespace: team-payments-prod") {
		t.Errorf("the team's rules are not confined to its namespaces")
	}
	var banner strings.Builder
	if err := WriteBanner(&banner, []Section{s.Section()}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{s.Dir(), "promtool check rules " + f["catalogue-rules"] + " " + f["team-rules"], "amtool check-config " + f["alertmanager"], "10 SLOs"} {
		if !strings.Contains(banner.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, banner.String())
		}
	}
}
