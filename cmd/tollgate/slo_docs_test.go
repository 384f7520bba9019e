package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tollgate-dev/tollgate/slo/catalog"
)

var docRef = regexp.MustCompile(`docs/[A-Za-z0-9_./-]+\.md`)

// The slo commands' help sends readers to docs/: every file it names must
// exist.
func TestSloHelpNamesExistingDocs(t *testing.T) {
	var texts []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		texts = append(texts, c.Short, c.Long, c.Example)
		c.Flags().VisitAll(func(f *pflag.Flag) { texts = append(texts, f.Usage) })
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newSloCmd())
	seen := map[string]bool{}
	for _, ref := range docRef.FindAllString(strings.Join(texts, "\n"), -1) {
		if seen[ref] {
			continue
		}
		seen[ref] = true
		if _, err := os.Stat(filepath.Join("..", "..", ref)); err != nil {
			t.Errorf("the slo help names %s, which does not exist: %v", ref, err)
		}
	}
	for _, want := range []string{"docs/slo.md", "docs/slo-catalog.md"} {
		if !seen[want] {
			t.Errorf("the slo help no longer names %s; keep this test in step with it", want)
		}
	}
}

// Every catalogue SLO is documented in docs/slo-catalog.md under a heading
// that is its ID: the runbook_url annotation of its alerts points at
// docs/slo-catalog.md#<id>. The documented example configuration loads.
func TestSloCatalogDocumented(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "slo-catalog.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	for _, e := range catalog.Entries() {
		if !strings.Contains(doc, "\n## "+e.ID()+"\n") {
			t.Errorf("docs/slo-catalog.md has no section \"## %s\" (its alerts' runbook_url points there)", e.ID())
		}
		for _, m := range []string{e.Metric, e.Errors, e.Total} {
			if m != "" && !strings.Contains(doc, strings.ReplaceAll(m, "|", `\|`)) && !strings.Contains(doc, m) {
				t.Errorf("docs/slo-catalog.md does not name %s's metric %s", e.ID(), m)
			}
		}
	}
	const start = "```yaml\n# slo-catalog.yaml"
	i := strings.Index(doc, start)
	if i < 0 {
		t.Fatal("docs/slo-catalog.md has no example configuration")
	}
	example := doc[i+len("```yaml\n"):]
	example = example[:strings.Index(example, "```")]
	cfg, ps, err := catalog.ParseConfig("docs/slo-catalog.md example", []byte(example))
	if err != nil {
		t.Fatalf("the documented example configuration is not valid: %v", ps)
	}
	if _, ps, err := catalog.Load(cfg); err != nil {
		t.Errorf("the catalogue does not load with the documented example: %v", ps)
	}
	for _, e := range catalog.Entries() {
		if _, ok := cfg.SLOs[e.ID()]; !ok {
			t.Errorf("the documented example configuration does not show how to override %s", e.ID())
		}
	}
}

// The command diff prints to regenerate stale rules is the one that
// generates them: a flag set to false stays false, and extra labels are
// given one per flag (their printed form, "[k=v]", does not parse back).
func TestSloDiffRegenerateCommand(t *testing.T) {
	dir := t.TempDir()
	specs := writeFile(t, dir, "specs/payments.yaml", paymentsSpec)
	out := filepath.Join(dir, "slos.yml")
	args := []string{"--team", "payments", "-l", "tier=1", "--label", "env=prod", "--disable-alerts=false", "--out", out, specs}
	if _, _, err := run(t, "", append([]string{"slo", "generate"}, args...)...); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(out)
	if err := os.WriteFile(out, []byte("stale\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := run(t, "", append([]string{"slo", "diff"}, args...)...)
	if exitStatus(err) != 1 {
		t.Fatalf("diff of stale rules: %v", err)
	}
	_, regen, ok := strings.Cut(err.Error(), "regenerate it: ")
	if !ok {
		t.Fatalf("no command in %q", err)
	}
	if want := "tollgate slo generate --disable-alerts=false --label env=prod --label tier=1 --out " + out + " --team payments " + specs; regen != want {
		t.Errorf("regenerate command\n got  %s\n want %s", regen, want)
	}
	fields := strings.Fields(regen)
	if _, _, err := run(t, "", fields[1:]...); err != nil {
		t.Fatalf("running %s: %v", regen, err)
	}
	if got, _ := os.ReadFile(out); string(got) != string(want) {
		t.Errorf("the printed command does not regenerate the same rules")
	}
}
