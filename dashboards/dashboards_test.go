package dashboards_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana-tools/sdk"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/tollgate-dev/tollgate/dashboards"
	"github.com/tollgate-dev/tollgate/dashboards/lint"
	"github.com/tollgate-dev/tollgate/logqlenforce"
	"github.com/tollgate-dev/tollgate/slo/windows"
)

var update = flag.Bool("update", false, "rewrite the golden files (then review every diff by hand: see testdata/README.md)")

// fixture is the demo cluster's three teams, one per preset: payments
// on Prometheus client metrics, checkout on Istio (namespaces by glob),
// search on OpenTelemetry.
func fixture(t testing.TB) (dashboards.Options, []dashboards.Team) {
	t.Helper()
	ws, err := windows.Default().Get(30 * 24 * time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	preset := func(name string) dashboards.Preset {
		p, err := dashboards.LookupPreset(name)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	opts := dashboards.Options{Label: "namespace", SLOWindows: ws, Currency: "USD", AdminTeams: []string{"platform-sre"}}
	teams := []dashboards.Team{
		{Tenant: "payments", GrafanaTeam: "payments", Namespaces: []string{"team-payments-prod", "team-payments-staging"},
			Preset: preset("prometheus-http"), Services: []string{"payments-api", "ledger"}},
		{Tenant: "checkout", GrafanaTeam: "checkout", Namespaces: []string{"team-checkout-*"},
			Preset: preset("istio"), Services: []string{"checkout-web", "cart"}},
		{Tenant: "search", GrafanaTeam: "search", Namespaces: []string{"team-search-prod", "team-search-staging"},
			Preset: preset("otel"), Services: []string{"search-api", "indexer"}},
	}
	return opts, teams
}

func generateFiles(t testing.TB) map[string][]byte {
	t.Helper()
	opts, teams := fixture(t)
	set, err := dashboards.Generate(opts, teams)
	if err != nil {
		t.Fatal(err)
	}
	files, err := dashboards.Files(set, dashboards.FileOptions{TollgateURL: "http://tollgate.observability.svc:9091"})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestGolden compares every generated file with testdata/golden, which was
// reviewed by hand (testdata/README.md says what was checked). After an
// intended change: go test ./dashboards -run TestGolden -update, then
// review the diff as carefully.
func TestGolden(t *testing.T) {
	files := generateFiles(t)
	root := filepath.Join("testdata", "golden")
	if *update {
		if err := os.RemoveAll(root); err != nil {
			t.Fatal(err)
		}
		if _, err := dashboards.WriteDir(root, files); err != nil {
			t.Fatal(err)
		}
	}
	var onDisk []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			onDisk = append(onDisk, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	slices.Sort(onDisk)
	if !slices.Equal(names, onDisk) {
		t.Fatalf("generated files %v, golden files %v", names, onDisk)
	}
	for _, name := range names {
		want, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(files[name], want) {
			t.Errorf("%s differs from testdata/golden/%s (run with -update and review the diff)", name, name)
		}
	}
}

// TestDeterministic: the same input gives the same bytes, whatever ran
// before in the process (the SDK numbers boards and row panels from
// package globals) and however many generations run at once.
func TestDeterministic(t *testing.T) {
	first := generateFiles(t)
	// Move the SDK's global counters, as any other SDK user in the
	// process would.
	b := sdk.NewBoard("unrelated")
	r := b.AddRow("unrelated")
	for range 7 {
		r.Add(sdk.NewGraph("unrelated"))
	}
	var wg sync.WaitGroup
	results := make([]map[string][]byte, 8)
	for i := range results {
		wg.Go(func() { results[i] = generateFiles(t) })
	}
	wg.Wait()
	for i, got := range results {
		for name, want := range first {
			if !bytes.Equal(got[name], want) {
				t.Fatalf("generation %d: %s differs from the first generation", i, name)
			}
		}
	}
}

// TestGeneratedDashboardsPassLint: every generated dashboard passes the
// linter with no problem at all.
func TestGeneratedDashboardsPassLint(t *testing.T) {
	for name, data := range generateFiles(t) {
		if !strings.HasSuffix(name, ".json") {
			continue
		}
		for _, p := range lint.Lint(name, data) {
			t.Errorf("%s", p)
		}
	}
}

// TestDashboardModel checks what Grafana and the issue require of every
// dashboard, on the decoded JSON rather than the bytes.
func TestDashboardModel(t *testing.T) {
	opts, teams := fixture(t)
	set, err := dashboards.Generate(opts, teams)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Dashboards) != 3*3+1 || len(set.Folders) != 3+1 {
		t.Fatalf("%d dashboards in %d folders, want 10 in 4", len(set.Dashboards), len(set.Folders))
	}
	for _, d := range set.Dashboards {
		var m map[string]any
		if err := json.Unmarshal(d.JSON, &m); err != nil {
			t.Fatal(err)
		}
		if m["uid"] != d.UID || len(d.UID) > 40 {
			t.Errorf("%s: uid %v", d.UID, m["uid"])
		}
		if m["schemaVersion"] != float64(dashboards.SchemaVersion) {
			t.Errorf("%s: schemaVersion %v", d.UID, m["schemaVersion"])
		}
		if _, ok := m["id"]; ok {
			t.Errorf("%s: has an id; Grafana assigns it", d.UID)
		}
		if tags, _ := m["tags"].([]any); !slices.Contains(tags, any(dashboards.ManagedTag)) {
			t.Errorf("%s: tags %v lack %s", d.UID, tags, dashboards.ManagedTag)
		}
		var ids []float64
		var walk func(ps []any, inRow bool)
		walk = func(ps []any, inRow bool) {
			for _, p := range ps {
				pm := p.(map[string]any)
				ids = append(ids, pm["id"].(float64))
				switch typ := pm["type"]; typ {
				case "row":
					walk(pm["panels"].([]any), true)
				case "timeseries", "stat", "bargauge":
					unit := pm["fieldConfig"].(map[string]any)["defaults"].(map[string]any)["unit"]
					if pm["title"] == "" || pm["description"] == nil || unit == "" {
						t.Errorf("%s: panel %v lacks a title, description or unit", d.UID, pm["title"])
					}
				default:
					t.Errorf("%s: panel %v has type %v; only timeseries, stat, bargauge and row are generated", d.UID, pm["title"], typ)
				}
				for _, legacy := range []string{"span", "isNew", "renderer", "error"} {
					if _, ok := pm[legacy]; ok {
						t.Errorf("%s: panel %v has the legacy key %s", d.UID, pm["title"], legacy)
					}
				}
			}
		}
		walk(m["panels"].([]any), false)
		want := make([]float64, len(ids))
		for i := range want {
			want[i] = float64(i + 1)
		}
		if !slices.Equal(ids, want) {
			t.Errorf("%s: panel ids %v, want 1..%d in order", d.UID, ids, len(ids))
		}
	}
}

// TestUIDs: stable, at most 40 characters even for 63-character tenant
// names, distinct for tenants sharing a long prefix, and never equal to a
// folder's UID.
func TestUIDs(t *testing.T) {
	if got := dashboards.DashboardUID("payments", dashboards.KindRED); got != "tg_payments_red" {
		t.Errorf("UID %q", got)
	}
	long1 := strings.Repeat("a", 40) + "-team-one-with-a-very-long-name"
	long2 := strings.Repeat("a", 40) + "-team-two-with-a-very-long-name"
	seen := map[string]bool{}
	for _, tenant := range []string{"payments", long1, long2, strings.Repeat("b", 63)} {
		uids := []string{dashboards.FolderUID(tenant)}
		for _, k := range []dashboards.Kind{dashboards.KindRED, dashboards.KindSLO, dashboards.KindChargeback} {
			uids = append(uids, dashboards.DashboardUID(tenant, k))
		}
		for _, u := range uids {
			if len(u) > 40 || seen[u] || !dashboards.IsManagedUID(u) {
				t.Errorf("UID %q for tenant %q: too long, repeated or unmanaged", u, tenant)
			}
			seen[u] = true
		}
	}
	if seen[dashboards.PlatformFolderUID] || seen[dashboards.OverviewUID] {
		t.Error("the platform's UIDs collide with a tenant's")
	}
	// A whole generation with long names stays valid.
	opts, teams := fixture(t)
	teams[0].Tenant, teams[1].Tenant = long1, long2
	if _, err := dashboards.Generate(opts, teams); err != nil {
		t.Fatal(err)
	}
}

// TestLogLinks: every Explore link opens Tollgate's Loki data source on a
// LogQL query that Loki's parser accepts, over the dashboard's time range.
func TestLogLinks(t *testing.T) {
	n := 0
	for name, data := range generateFiles(t) {
		var links []struct{ Title, URL string }
		var walk func(v any)
		walk = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				if u, ok := x["url"].(string); ok && strings.HasPrefix(u, "/explore?") {
					links = append(links, struct{ Title, URL string }{x["title"].(string), u})
				}
				for _, c := range x {
					walk(c)
				}
			case []any:
				for _, c := range x {
					walk(c)
				}
			}
		}
		if !strings.HasSuffix(name, ".json") {
			continue
		}
		var m any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		walk(m)
		for _, l := range links {
			u, err := url.Parse(l.URL)
			if err != nil {
				t.Fatal(err)
			}
			var panes map[string]struct {
				Datasource string
				Queries    []struct{ Expr string }
				Range      struct{ From, To string }
			}
			if err := json.Unmarshal([]byte(u.Query().Get("panes")), &panes); err != nil {
				t.Fatalf("%s: link %q: %v", name, l.Title, err)
			}
			p := panes["tollgate"]
			if p.Datasource != "tollgate-loki" || p.Range.From != "${__from}" || p.Range.To != "${__to}" || len(p.Queries) != 1 {
				t.Errorf("%s: link %q: %+v", name, l.Title, p)
				continue
			}
			if _, err := logqlenforce.Query(p.Queries[0].Expr, labels.MustNewMatcher(labels.MatchEqual, "namespace", "x")); err != nil {
				t.Errorf("%s: link %q: %s: %v", name, l.Title, p.Queries[0].Expr, err)
			}
			n++
		}
	}
	if n < 3*3 {
		t.Errorf("only %d log links", n)
	}
}
