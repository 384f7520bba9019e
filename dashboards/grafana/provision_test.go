package grafana_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/dashboards"
	"github.com/tollgate-dev/tollgate/dashboards/grafana"
	"github.com/tollgate-dev/tollgate/internal/testkit/grafanatest"
	"github.com/tollgate-dev/tollgate/slo/windows"
)

const token = "glsa_test"

var allTeams = []string{"payments", "checkout", "search", "platform-sre"}

func generate(t *testing.T, mutate ...func([]dashboards.Team)) *dashboards.Set {
	t.Helper()
	ws, err := windows.Default().Get(30 * 24 * time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := dashboards.LookupPreset("prometheus-http")
	teams := []dashboards.Team{
		{Tenant: "payments", GrafanaTeam: "payments", Namespaces: []string{"team-payments-prod"}, Preset: p, Services: []string{"payments-api", "ledger"}},
		{Tenant: "checkout", GrafanaTeam: "checkout", Namespaces: []string{"team-checkout-*"}, Preset: p, Services: []string{"cart"}},
		{Tenant: "search", GrafanaTeam: "search", Namespaces: []string{"team-search-prod"}, Preset: p, Services: []string{"search-api"}},
	}
	for _, m := range mutate {
		m(teams)
	}
	set, err := dashboards.Generate(dashboards.Options{Label: "namespace", SLOWindows: ws, AdminTeams: []string{"platform-sre"}}, teams)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func client(t *testing.T, url string) *grafana.Client {
	t.Helper()
	c, err := grafana.NewClient(grafana.ClientOptions{URL: url, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func provision(t *testing.T, url string, set *dashboards.Set, opts grafana.Options) (grafana.Result, error) {
	t.Helper()
	return grafana.New(client(t, url), opts).Provision(context.Background(), set)
}

func actions(res grafana.Result) []string {
	var out []string
	for _, c := range res.Changes {
		out = append(out, c.Action+" "+c.Object+" "+c.UID)
	}
	return out
}

// TestFakeGrafanaSemantics pins down the documented API behaviour the
// provisioner relies on, through the client: what the fake does is what
// Grafana's HTTP API documentation says Grafana does.
func TestFakeGrafanaSemantics(t *testing.T) {
	g := grafanatest.New(t, token, "payments")
	c := client(t, g.URL)
	ctx := context.Background()

	if _, err := c.Folder(ctx, "nope"); !grafana.IsStatus(err, 404) {
		t.Errorf("unknown folder: %v, want 404", err)
	}
	if _, err := c.CreateFolder(ctx, "f1", "Folder"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateFolder(ctx, "f1", "Again"); !grafana.IsStatus(err, 409) {
		t.Errorf("duplicate folder uid: %v, want 409", err)
	}
	if _, err := c.UpdateFolder(ctx, "f1", "Renamed", 7); !grafana.IsStatus(err, 412) {
		t.Errorf("folder update with a stale version: %v, want 412", err)
	}
	// New folders carry the role defaults; a POST replaces the whole list.
	ps, _ := c.FolderPermissions(ctx, "f1")
	if len(ps) != 2 || ps[0].Role != "Viewer" || ps[1].Role != "Editor" {
		t.Errorf("default permissions %+v", ps)
	}
	if err := c.SetFolderPermissions(ctx, "f1", []grafana.PermissionItem{{TeamID: uint(g.TeamID("payments")), Permission: 1}}); err != nil {
		t.Fatal(err)
	}
	if ps, _ := c.FolderPermissions(ctx, "f1"); len(ps) != 1 || ps[0].TeamId != uint(g.TeamID("payments")) || ps[0].Role != "" {
		t.Errorf("permissions after replacing them: %+v", ps)
	}
	if err := c.SetFolderPermissions(ctx, "nope", nil); !grafana.IsStatus(err, 404) {
		t.Errorf("permissions of an unknown folder: %v, want 404", err)
	}

	model := map[string]any{"uid": "d1", "title": "D", "id": nil}
	for want := 1; want <= 3; want++ {
		sm, err := c.SaveDashboard(ctx, grafana.SaveRequest{Dashboard: model, FolderUID: "f1", Overwrite: true})
		if err != nil || *sm.Version != want {
			t.Fatalf("save %d: version %v, %v", want, sm.Version, err)
		}
	}
	model["version"] = 1
	_, err := c.SaveDashboard(ctx, grafana.SaveRequest{Dashboard: model, FolderUID: "f1"})
	var ge *grafana.Error
	if !grafana.IsStatus(err, 412) || !strings.Contains(err.Error(), "version-mismatch") {
		t.Errorf("save with a stale version: %v, want 412 version-mismatch", err)
	} else if errors.As(err, &ge) && ge.Path != "/api/dashboards/db" {
		t.Errorf("error names %s", ge.Path)
	}
	if _, err := c.SaveDashboard(ctx, grafana.SaveRequest{Dashboard: map[string]any{"uid": "d2", "title": "D"}, FolderUID: "nope"}); !grafana.IsStatus(err, 400) {
		t.Errorf("save into an unknown folder: %v, want 400", err)
	}
	if _, err := c.Dashboard(ctx, "nope"); !grafana.IsStatus(err, 404) {
		t.Errorf("unknown dashboard: %v, want 404", err)
	}
	if err := c.DeleteDashboard(ctx, "nope"); !grafana.IsStatus(err, 404) {
		t.Errorf("deleting an unknown dashboard: %v, want 404", err)
	}
	// Saving without a folder moves the dashboard to General: the SDK's
	// SetRawDashboard trap.
	model["version"] = 3
	if _, err := c.SaveDashboard(ctx, grafana.SaveRequest{Dashboard: model, Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	if st, _ := c.Dashboard(ctx, "d1"); st.Meta.FolderUID != "" {
		t.Errorf("a save without folderUid left the dashboard in %q", st.Meta.FolderUID)
	}
	bad, _ := grafana.NewClient(grafana.ClientOptions{URL: g.URL, Token: "wrong"})
	if _, err := bad.Folder(ctx, "f1"); !grafana.IsStatus(err, 401) {
		t.Errorf("wrong token: %v, want 401", err)
	}
}

// TestProvisionIsIdempotent: the first run creates folders with exactly
// the team's and the admins' permissions and every dashboard in its folder
// with the commit message; the second run makes zero writes.
func TestProvisionIsIdempotent(t *testing.T) {
	g := grafanatest.New(t, token, allTeams...)
	set := generate(t)
	res, err := provision(t, g.URL, set, grafana.Options{Message: "deploy abc123"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.Changes); n != 4+4+10 {
		t.Errorf("first run: %d changes, want 4 folders, 4 permission lists, 10 dashboards:\n%v", n, actions(res))
	}
	f, ok := g.Folder("tg_payments")
	if !ok || f.Title != "payments" {
		t.Fatalf("folder tg_payments: %+v", f)
	}
	want := []grafanatest.Permission{{TeamID: g.TeamID("payments"), Permission: 1}, {TeamID: g.TeamID("platform-sre"), Permission: 2}}
	slices.SortFunc(f.Permissions, func(a, b grafanatest.Permission) int { return a.TeamID - b.TeamID })
	if !slices.Equal(f.Permissions, want) {
		t.Errorf("permissions of tg_payments %+v, want %+v (the role defaults removed)", f.Permissions, want)
	}
	if p, _ := g.Folder(dashboards.PlatformFolderUID); len(p.Permissions) != 1 || p.Permissions[0].TeamID != g.TeamID("platform-sre") {
		t.Errorf("platform folder permissions %+v", p.Permissions)
	}
	for _, d := range set.Dashboards {
		st, ok := g.Dashboard(d.UID)
		if !ok || st.FolderUID != d.Folder || st.Version != 1 || !slices.Equal(st.Messages, []string{"deploy abc123"}) {
			t.Errorf("dashboard %s: %+v", d.UID, st)
		}
	}

	writes := len(g.Writes())
	res, err = provision(t, g.URL, generate(t), grafana.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) != 0 || res.Unchanged != 10 || len(g.Writes()) != writes {
		t.Errorf("second run: changes %v, %d unchanged, %d writes; want none, 10, none", actions(res), res.Unchanged, len(g.Writes())-writes)
	}
}

// TestProvisionUpdatesOnlyWhatChanged: a new service changes the RED
// dashboard alone, which gets version 2; a dashboard a user moved to
// General goes back to its folder; a folder created by hand keeps its UID
// and loses its role defaults.
func TestProvisionUpdatesOnlyWhatChanged(t *testing.T) {
	g := grafanatest.New(t, token, allTeams...)
	g.PutFolder("tg_search", "search")
	if _, err := provision(t, g.URL, generate(t), grafana.Options{}); err != nil {
		t.Fatal(err)
	}
	if f, _ := g.Folder("tg_search"); len(f.Permissions) != 2 || f.Permissions[0].Role != "" {
		t.Errorf("the hand-made folder's permissions were not replaced: %+v", f.Permissions)
	}
	st, _ := g.Dashboard("tg_checkout_slo")
	g.Put("", st.Model) // moved to General by a user
	set := generate(t, func(ts []dashboards.Team) { ts[0].Services = append(ts[0].Services, "refunds") })
	res, err := provision(t, g.URL, set, grafana.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"move dashboard tg_checkout_slo", "update dashboard tg_payments_red"}
	got := actions(res)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("changes %v, want %v", got, want)
	}
	if d, _ := g.Dashboard("tg_payments_red"); d.Version != 2 || !strings.Contains(string(mustJSON(t, d.Model)), "refunds") {
		t.Errorf("tg_payments_red: version %d", d.Version)
	}
	if d, _ := g.Dashboard("tg_checkout_slo"); d.FolderUID != "tg_checkout" {
		t.Errorf("tg_checkout_slo is in %q", d.FolderUID)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestProvisionReportsConflicts: someone saving between our read and our
// write makes Grafana answer 412; the dashboard is reported with its UID
// and the status, not overwritten, and the others are provisioned. A
// folder created between our GET and POST (409) is used as it is.
func TestProvisionReportsConflicts(t *testing.T) {
	g := grafanatest.New(t, token, allTeams...)
	if _, err := provision(t, g.URL, generate(t), grafana.Options{}); err != nil {
		t.Fatal(err)
	}
	var once, hide sync.Once
	race := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/api/dashboards/db":
			once.Do(func() {
				st, _ := g.Dashboard("tg_payments_red")
				st.Model["description"] = "edited by a user meanwhile"
				g.Put("tg_payments", st.Model)
			})
		case r.Method == http.MethodGet && r.URL.Path == "/api/folders/tg_search":
			hidden := false
			hide.Do(func() { hidden = true })
			if hidden { // as if created right after this GET
				http.Error(w, `{"message":"folder not found"}`, http.StatusNotFound)
				return
			}
		}
		g.ServeHTTP(w, r)
	}))
	defer race.Close()
	set := generate(t, func(ts []dashboards.Team) {
		ts[0].Services = []string{"payments-api"}
		ts[2].Services = []string{"search-api", "indexer"}
	})
	res, err := provision(t, race.URL, set, grafana.Options{})
	if err == nil || !strings.Contains(err.Error(), `dashboard tg_payments_red "payments / RED": POST /api/dashboards/db: 412 Precondition Failed: version-mismatch`) {
		t.Fatalf("error %v, want the 412 of tg_payments_red", err)
	}
	if d, _ := g.Dashboard("tg_payments_red"); d.Model["description"] != "edited by a user meanwhile" {
		t.Error("the user's save was overwritten")
	}
	// Only what Grafana accepted is reported as made.
	for _, a := range actions(res) {
		if a == "update dashboard tg_payments_red" || a == "create folder tg_search" {
			t.Errorf("changes list %q, which was not made", a)
		}
	}
	if d, _ := g.Dashboard("tg_search_red"); d.Version != 2 {
		t.Errorf("tg_search_red was not updated after the 409 on its folder (version %d); changes %v", d.Version, actions(res))
	}
}

// TestProvisionMissingTeam: a team Grafana lacks fails its folder, whose
// dashboards are not created; the others are.
func TestProvisionMissingTeam(t *testing.T) {
	g := grafanatest.New(t, token, "payments", "checkout", "platform-sre")
	_, err := provision(t, g.URL, generate(t), grafana.Options{})
	if err == nil || !strings.Contains(err.Error(), `folder tg_search "search" (its 3 dashboards skipped): no such Grafana team "search"`) {
		t.Fatalf("error %v", err)
	}
	if _, ok := g.Dashboard("tg_search_red"); ok {
		t.Error("search's dashboards were created in a folder without permissions")
	}
	if _, ok := g.Dashboard("tg_checkout_red"); !ok {
		t.Error("the other teams were not provisioned")
	}
}

// TestProvisionPrune deletes generated dashboards no longer generated, and
// nothing else: not a user's copy (tagged, other UID), not a dashboard
// without the tag. Without --prune nothing is deleted.
func TestProvisionPrune(t *testing.T) {
	g := grafanatest.New(t, token, allTeams...)
	if _, err := provision(t, g.URL, generate(t), grafana.Options{}); err != nil {
		t.Fatal(err)
	}
	st, _ := g.Dashboard("tg_search_red")
	copyOf := func(uid string, tags ...any) map[string]any {
		m := map[string]any{}
		for k, v := range st.Model {
			m[k] = v
		}
		m["uid"], m["title"], m["tags"] = uid, uid, tags
		return m
	}
	g.Put("tg_search", copyOf("abc123", dashboards.ManagedTag))
	g.Put("", copyOf("tg_handmade", "other"))
	set := generate(t, func(ts []dashboards.Team) { ts[2].Tenant, ts[2].GrafanaTeam = "search2", "search" })

	res, err := provision(t, g.URL, set, grafana.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Changes {
		if c.Action == "delete" {
			t.Errorf("deleted %s without --prune", c.UID)
		}
	}
	res, err = provision(t, g.URL, set, grafana.Options{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"delete dashboard tg_search_cost", "delete dashboard tg_search_red", "delete dashboard tg_search_slo"}
	if got := actions(res); !slices.Equal(got, want) {
		t.Errorf("prune: %v, want %v", got, want)
	}
	for _, uid := range []string{"abc123", "tg_handmade", "tg_search2_red"} {
		if _, ok := g.Dashboard(uid); !ok {
			t.Errorf("%s was deleted", uid)
		}
	}
}

// TestProvisionDryRun reports every change and writes nothing.
func TestProvisionDryRun(t *testing.T) {
	g := grafanatest.New(t, token, allTeams...)
	res, err := provision(t, g.URL, generate(t), grafana.Options{DryRun: true, Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if w := g.Writes(); len(w) != 0 {
		t.Errorf("a dry run wrote %v", w)
	}
	if n := len(res.Changes); n != 18 {
		t.Errorf("dry run: %d changes, want 18: %v", n, actions(res))
	}
	if s := res.Changes[1].String(); s != `permissions folder tg_payments "payments": team payments View, team platform-sre Edit` {
		t.Errorf("change reads %q", s)
	}
	if _, err := provision(t, g.URL, generate(t), grafana.Options{}); err != nil {
		t.Fatal(err)
	}
	writes := len(g.Writes())
	set := generate(t, func(ts []dashboards.Team) { ts[1].Services = nil })
	res, err = provision(t, g.URL, set, grafana.Options{DryRun: true})
	if err != nil || !slices.Equal(actions(res), []string{"update dashboard tg_checkout_red"}) || len(g.Writes()) != writes {
		t.Errorf("dry run after a change: %v, %v, %d writes", actions(res), err, len(g.Writes())-writes)
	}
}

// TestProvisionFolderTitleTaken: Grafana answers 409 to a new folder
// whose title another folder has, as it does to a taken UID. The folder
// fails with the reason, and its dashboards are skipped; the other
// folders go on.
func TestProvisionFolderTitleTaken(t *testing.T) {
	g := grafanatest.New(t, token, allTeams...)
	g.PutFolder("handmade", "payments")
	c := client(t, g.URL)
	if _, err := c.CreateFolder(context.Background(), "other", "payments"); !grafana.IsStatus(err, http.StatusConflict) {
		t.Fatalf("a second folder titled payments: %v, want 409", err)
	}
	res, err := provision(t, g.URL, generate(t), grafana.Options{})
	want := `folder tg_payments "payments" (its 3 dashboards skipped): POST /api/folders: 409 Conflict: a folder with the same name already exists (another folder is titled "payments"`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %s", err, want)
	}
	for _, a := range actions(res) {
		if strings.Contains(a, "tg_payments") {
			t.Errorf("changes list %q, which was not made", a)
		}
	}
	if _, ok := g.Dashboard("tg_checkout_red"); !ok {
		t.Error("the other teams were not provisioned")
	}
	if f, _ := g.Folder("handmade"); len(f.Permissions) != 2 || f.Permissions[0].Role != "Viewer" {
		t.Errorf("the hand-made folder was changed: %+v", f)
	}
}

// TestProvisionPruneOnlyInGeneratedFolders: a dashboard with the managed
// tag and a generated UID is pruned only where provisioning puts it (its
// tenant's tg_ folder, or the platform folder for the overview). One that
// sits in someone else's folder, or in General, is not ours to delete,
// nor one in another tenant's folder.
func TestProvisionPruneOnlyInGeneratedFolders(t *testing.T) {
	g := grafanatest.New(t, token, allTeams...)
	if _, err := provision(t, g.URL, generate(t), grafana.Options{}); err != nil {
		t.Fatal(err)
	}
	st, _ := g.Dashboard("tg_search_red")
	put := func(folder, uid string) {
		m := map[string]any{}
		for k, v := range st.Model {
			m[k] = v
		}
		m["uid"], m["title"] = uid, uid
		g.Put(folder, m)
	}
	g.PutFolder("shared", "Shared")
	put("shared", "tg_gone_red")       // imported by someone into their folder
	put("", "tg_gone_slo")             // in General
	put("tg_checkout", "tg_gone_cost") // in another tenant's folder
	put("tg_search", "tg_search_old")  // stale, where we put it: ours
	res, err := provision(t, g.URL, generate(t), grafana.Options{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := actions(res), []string{"delete dashboard tg_search_old"}; !slices.Equal(got, want) {
		t.Errorf("prune: %v, want %v", got, want)
	}
	for _, uid := range []string{"tg_gone_red", "tg_gone_slo", "tg_gone_cost"} {
		if _, ok := g.Dashboard(uid); !ok {
			t.Errorf("%s, outside the generated folders, was deleted", uid)
		}
	}
}

// TestErrorFromAProxy: an error page that is not Grafana's JSON (a proxy's
// 502) is reported with its status and the start of the page only.
func TestErrorFromAProxy(t *testing.T) {
	page := "<html><body><h1>502 Bad Gateway</h1>\n" + strings.Repeat("<p>upstream unavailable</p>\n", 500) + "</body></html>"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, page, http.StatusBadGateway)
	}))
	defer srv.Close()
	_, err := client(t, srv.URL).Folder(context.Background(), "tg_payments")
	if !grafana.IsStatus(err, http.StatusBadGateway) || !strings.Contains(err.Error(), "GET /api/folders/tg_payments: 502 Bad Gateway: <html><body><h1>502 Bad Gateway</h1> <p>") || len(err.Error()) > 300 {
		t.Errorf("error (%d bytes): %v", len(err.Error()), err)
	}
}
