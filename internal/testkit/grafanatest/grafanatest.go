// Package grafanatest is an in-memory Grafana HTTP API for tests, since
// Grafana itself cannot be installed where Tollgate is built. It implements
// the parts `tollgate dashboards provision` uses with the semantics of
// Grafana's HTTP API documentation (docs/sources/developers/http_api):
//
//   - POST /api/folders creates a folder and answers 409 when its uid
//     exists or another folder has its title; GET/PUT /api/folders/:uid
//     answer 404 for an unknown uid, and PUT answers 412 when the version
//     sent is not the stored one and 409 for another folder's title;
//   - POST /api/folders/:uid/permissions replaces the whole list: an entry
//     not sent is removed; new folders start with Grafana's defaults
//     (Viewer role View, Editor role Edit);
//   - POST /api/dashboards/db assigns an id on create and increments the
//     version on every save; without overwrite, a version other than the
//     stored one is 412 version-mismatch and another dashboard's title in
//     the same folder 412 name-exists; an unknown folderUid is 400; a save
//     that names no folder puts the dashboard in General, moving it there
//     if it was elsewhere (the trap of grafana-tools/sdk's SetRawDashboard);
//   - GET/DELETE /api/dashboards/uid/:uid answer 404 for an unknown uid;
//   - GET /api/search filters dashboards by every tag given;
//   - GET /api/teams/search?name= matches the name exactly;
//   - every request needs the bearer token, else 401.
//
// It records every request, so tests can count writes.
package grafanatest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Request is one request the server answered.
type Request struct {
	Method, Path string
	Status       int
}

// Write reports whether the request could change state.
func (r Request) Write() bool { return r.Method != http.MethodGet }

// Folder is a stored folder.
type Folder struct {
	ID          int
	UID, Title  string
	Version     int
	Permissions []Permission
}

// Permission is one entry of a folder's permission list.
type Permission struct {
	TeamID     int    `json:"teamId,omitempty"`
	UserID     int    `json:"userId,omitempty"`
	Role       string `json:"role,omitempty"`
	Permission int    `json:"permission"`
}

// Dashboard is a stored dashboard with its version history.
type Dashboard struct {
	ID        int
	UID       string
	FolderUID string // "" is General
	Model     map[string]any
	Version   int
	// Messages are the commit messages of every version, oldest first.
	Messages []string
}

// Server is the fake Grafana.
type Server struct {
	URL   string
	Token string

	mu         sync.Mutex
	nextID     int
	folders    map[string]*Folder
	dashboards map[string]*Dashboard
	teams      map[string]int
	requests   []Request
}

// New starts a fake Grafana accepting token, with the given teams, until
// the test ends.
func New(t testing.TB, token string, teams ...string) *Server {
	s := &Server{Token: token, folders: map[string]*Folder{}, dashboards: map[string]*Dashboard{}, teams: map[string]int{}}
	for _, name := range teams {
		s.AddTeam(name)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// AddTeam adds a Grafana team and returns its ID.
func (s *Server) AddTeam(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	s.teams[name] = s.nextID
	return s.nextID
}

// TeamID returns a team's ID (0 when there is none).
func (s *Server) TeamID(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.teams[name]
}

// Requests returns the requests answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Writes returns the requests that could change state.
func (s *Server) Writes() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Write() {
			out = append(out, r)
		}
	}
	return out
}

// Folder returns a copy of a stored folder.
func (s *Server) Folder(uid string) (Folder, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.folders[uid]
	if !ok {
		return Folder{}, false
	}
	c := *f
	c.Permissions = slices.Clone(f.Permissions)
	return c, true
}

// Dashboard returns a copy of a stored dashboard.
func (s *Server) Dashboard(uid string) (Dashboard, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.dashboards[uid]
	if !ok {
		return Dashboard{}, false
	}
	c := *d
	c.Messages = slices.Clone(d.Messages)
	return c, true
}

// DashboardUIDs returns every stored dashboard's UID, sorted.
func (s *Server) DashboardUIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for uid := range s.dashboards {
		out = append(out, uid)
	}
	slices.Sort(out)
	return out
}

// Put stores a dashboard as a user saving it in the UI would: a new
// version in folderUID (General if ""), with its model as given.
func (s *Server) Put(folderUID string, model map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	uid, _ := model["uid"].(string)
	d := s.dashboards[uid]
	if d == nil {
		s.nextID++
		d = &Dashboard{ID: s.nextID, UID: uid}
		s.dashboards[uid] = d
	}
	d.Version++
	d.FolderUID = folderUID
	d.Model = stamp(model, d.ID, d.Version)
	d.Messages = append(d.Messages, "saved by a user")
}

// PutFolder stores a folder with Grafana's default permissions.
func (s *Server) PutFolder(uid, title string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.createFolder(uid, title)
}

func (s *Server) createFolder(uid, title string) *Folder {
	s.nextID++
	f := &Folder{ID: s.nextID, UID: uid, Title: title, Version: 1, Permissions: []Permission{
		{Role: "Viewer", Permission: 1}, {Role: "Editor", Permission: 2},
	}}
	s.folders[uid] = f
	return f
}

// stamp returns a copy of the model with Grafana's id and version.
func stamp(model map[string]any, id, version int) map[string]any {
	m := make(map[string]any, len(model)+2)
	for k, v := range model {
		m[k] = v
	}
	m["id"], m["version"] = id, version
	return m
}

var (
	folderPath      = regexp.MustCompile(`^/api/folders/([^/]+)$`)
	permissionsPath = regexp.MustCompile(`^/api/folders/([^/]+)/permissions$`)
	dashboardPath   = regexp.MustCompile(`^/api/dashboards/uid/([^/]+)$`)
	uidRE           = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,40}$`)
)

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Status: rec.status})
	}()
	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		reply(rec, http.StatusUnauthorized, map[string]string{"message": "Unauthorized"})
		return
	}
	p := r.URL.Path
	switch {
	case r.Method == http.MethodPost && p == "/api/folders":
		s.postFolder(rec, r)
	case folderPath.MatchString(p) && (r.Method == http.MethodGet || r.Method == http.MethodPut):
		s.folder(rec, r, folderPath.FindStringSubmatch(p)[1])
	case permissionsPath.MatchString(p):
		s.permissions(rec, r, permissionsPath.FindStringSubmatch(p)[1])
	case r.Method == http.MethodPost && p == "/api/dashboards/db":
		s.saveDashboard(rec, r)
	case dashboardPath.MatchString(p) && (r.Method == http.MethodGet || r.Method == http.MethodDelete):
		s.dashboard(rec, r, dashboardPath.FindStringSubmatch(p)[1])
	case r.Method == http.MethodGet && p == "/api/search":
		s.search(rec, r)
	case r.Method == http.MethodGet && p == "/api/teams/search":
		s.searchTeams(rec, r)
	default:
		reply(rec, http.StatusNotFound, map[string]string{"message": "Not found"})
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		reply(w, http.StatusBadRequest, map[string]string{"message": "bad request data: " + err.Error()})
		return false
	}
	return true
}

func folderJSON(f *Folder) map[string]any {
	return map[string]any{"id": f.ID, "uid": f.UID, "title": f.Title, "url": "/dashboards/f/" + f.UID + "/", "version": f.Version}
}

func (s *Server) postFolder(w http.ResponseWriter, r *http.Request) {
	var body struct{ UID, Title string }
	if !decodeBody(w, r, &body) {
		return
	}
	switch {
	case body.Title == "":
		reply(w, http.StatusBadRequest, map[string]string{"message": "folder title cannot be empty"})
	case body.UID != "" && !uidRE.MatchString(body.UID):
		reply(w, http.StatusBadRequest, map[string]string{"message": "uid contains illegal characters or is too long"})
	case s.folders[body.UID] != nil:
		reply(w, http.StatusConflict, map[string]string{"message": "a folder with the same uid already exists"})
	case s.titleTaken(body.Title, ""):
		reply(w, http.StatusConflict, map[string]string{"message": "a folder with the same name already exists"})
	default:
		reply(w, http.StatusOK, folderJSON(s.createFolder(body.UID, body.Title)))
	}
}

// titleTaken reports whether a folder other than uid has the title:
// Grafana refuses two folders of one name at the same level with 409.
func (s *Server) titleTaken(title, uid string) bool {
	for _, f := range s.folders {
		if f.UID != uid && f.Title == title {
			return true
		}
	}
	return false
}

func (s *Server) folder(w http.ResponseWriter, r *http.Request, uid string) {
	f := s.folders[uid]
	if f == nil {
		reply(w, http.StatusNotFound, map[string]string{"message": "folder not found", "status": "not-found"})
		return
	}
	if r.Method == http.MethodGet {
		reply(w, http.StatusOK, folderJSON(f))
		return
	}
	var body struct {
		Title     string
		Version   int
		Overwrite bool
	}
	if !decodeBody(w, r, &body) {
		return
	}
	if !body.Overwrite && body.Version != f.Version {
		reply(w, http.StatusPreconditionFailed, map[string]string{"message": "the folder has been changed by someone else", "status": "version-mismatch"})
		return
	}
	if s.titleTaken(body.Title, uid) {
		reply(w, http.StatusConflict, map[string]string{"message": "a folder with the same name already exists"})
		return
	}
	f.Title = body.Title
	f.Version++
	reply(w, http.StatusOK, folderJSON(f))
}

func (s *Server) permissions(w http.ResponseWriter, r *http.Request, uid string) {
	f := s.folders[uid]
	if f == nil {
		reply(w, http.StatusNotFound, map[string]string{"message": "folder not found", "status": "not-found"})
		return
	}
	switch r.Method {
	case http.MethodGet:
		out := make([]map[string]any, 0, len(f.Permissions))
		for _, p := range f.Permissions {
			m := map[string]any{"folderId": f.ID, "uid": f.UID, "permission": p.Permission, "permissionName": permissionName(p.Permission), "inherited": false}
			if p.TeamID != 0 {
				m["teamId"] = p.TeamID
				for name, id := range s.teams {
					if id == p.TeamID {
						m["team"] = name
					}
				}
			}
			if p.UserID != 0 {
				m["userId"] = p.UserID
			}
			if p.Role != "" {
				m["role"] = p.Role
			}
			out = append(out, m)
		}
		reply(w, http.StatusOK, out)
	case http.MethodPost:
		var body struct{ Items []Permission }
		if !decodeBody(w, r, &body) {
			return
		}
		for _, it := range body.Items {
			if it.Permission != 1 && it.Permission != 2 && it.Permission != 4 {
				reply(w, http.StatusBadRequest, map[string]string{"message": fmt.Sprintf("permission %d is not 1, 2 or 4", it.Permission)})
				return
			}
			if it.TeamID != 0 && !slices.Contains(teamIDs(s.teams), it.TeamID) {
				reply(w, http.StatusBadRequest, map[string]string{"message": fmt.Sprintf("team %d not found", it.TeamID)})
				return
			}
		}
		// The whole list is replaced: what was not sent is gone.
		f.Permissions = slices.Clone(body.Items)
		reply(w, http.StatusOK, map[string]string{"message": "Folder permissions updated"})
	default:
		reply(w, http.StatusMethodNotAllowed, map[string]string{"message": "method not allowed"})
	}
}

func teamIDs(teams map[string]int) []int {
	var ids []int
	for _, id := range teams {
		ids = append(ids, id)
	}
	return ids
}

func permissionName(p int) string {
	switch p {
	case 1:
		return "View"
	case 2:
		return "Edit"
	case 4:
		return "Admin"
	}
	return ""
}

func (s *Server) saveDashboard(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Dashboard map[string]any `json:"dashboard"`
		FolderUID string         `json:"folderUid"`
		FolderID  json.Number    `json:"folderId"`
		Message   string         `json:"message"`
		Overwrite bool           `json:"overwrite"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	model := body.Dashboard
	uid, _ := model["uid"].(string)
	title, _ := model["title"].(string)
	switch {
	case model == nil:
		reply(w, http.StatusBadRequest, map[string]string{"message": "dashboard is missing"})
		return
	case title == "":
		reply(w, http.StatusBadRequest, map[string]string{"message": "Dashboard title cannot be empty", "status": "empty-name"})
		return
	case uid != "" && !uidRE.MatchString(uid):
		reply(w, http.StatusBadRequest, map[string]string{"message": "uid contains illegal characters or is longer than 40", "status": "bad-uid"})
		return
	case body.FolderUID != "" && s.folders[body.FolderUID] == nil:
		reply(w, http.StatusBadRequest, map[string]string{"message": "folder not found", "status": "folder-not-found"})
		return
	}
	d := s.dashboards[uid]
	if !body.Overwrite {
		if d != nil && fmt.Sprint(model["version"]) != fmt.Sprint(d.Version) {
			reply(w, http.StatusPreconditionFailed, map[string]string{"status": "version-mismatch", "message": "The dashboard has been changed by someone else"})
			return
		}
		for _, o := range s.dashboards {
			if o.UID != uid && o.FolderUID == body.FolderUID && o.Model["title"] == title {
				reply(w, http.StatusPreconditionFailed, map[string]string{"status": "name-exists", "message": "A dashboard with the same name in the folder already exists"})
				return
			}
		}
	}
	if d == nil {
		s.nextID++
		d = &Dashboard{ID: s.nextID, UID: uid}
		s.dashboards[uid] = d
	}
	d.Version++
	// Neither folderUid nor folderId: Grafana saves into General, moving
	// a dashboard that was in a folder.
	d.FolderUID = body.FolderUID
	d.Model = stamp(model, d.ID, d.Version)
	d.Messages = append(d.Messages, body.Message)
	reply(w, http.StatusOK, map[string]any{"id": d.ID, "uid": uid, "url": "/d/" + uid, "status": "success", "version": d.Version, "slug": strings.ToLower(strings.ReplaceAll(title, " ", "-"))})
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request, uid string) {
	d := s.dashboards[uid]
	if d == nil {
		reply(w, http.StatusNotFound, map[string]string{"message": "Dashboard not found", "status": "not-found"})
		return
	}
	if r.Method == http.MethodDelete {
		delete(s.dashboards, uid)
		reply(w, http.StatusOK, map[string]any{"title": d.Model["title"], "message": fmt.Sprintf("Dashboard %v deleted", d.Model["title"]), "id": d.ID})
		return
	}
	meta := map[string]any{"version": d.Version, "folderUid": d.FolderUID, "folderId": 0, "folderTitle": "General", "slug": uid, "canSave": true}
	if f := s.folders[d.FolderUID]; f != nil {
		meta["folderId"], meta["folderTitle"] = f.ID, f.Title
	}
	reply(w, http.StatusOK, map[string]any{"dashboard": d.Model, "meta": meta})
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	tags := r.URL.Query()["tag"]
	out := []map[string]any{}
	for _, d := range s.dashboards {
		var have []string
		if ts, ok := d.Model["tags"].([]any); ok {
			for _, t := range ts {
				if s, ok := t.(string); ok {
					have = append(have, s)
				}
			}
		}
		match := true
		for _, t := range tags {
			match = match && slices.Contains(have, t)
		}
		if match {
			out = append(out, map[string]any{"id": d.ID, "uid": d.UID, "title": d.Model["title"], "tags": have, "type": "dash-db", "folderUid": d.FolderUID, "url": "/d/" + d.UID})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i]["uid"].(string) < out[j]["uid"].(string) })
	reply(w, http.StatusOK, out)
}

func (s *Server) searchTeams(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	teams := []map[string]any{}
	if id, ok := s.teams[name]; ok {
		teams = append(teams, map[string]any{"id": id, "name": name, "orgId": 1})
	}
	reply(w, http.StatusOK, map[string]any{"totalCount": len(teams), "teams": teams, "page": 1, "perPage": 1000})
}
