// Package grafana provisions generated dashboards through Grafana's HTTP
// API: a folder per team with its permissions, dashboards upserted into
// their folder by UID with a commit message and only when their content
// changed, and generated dashboards that are no longer generated pruned.
//
// The payloads are grafana-tools/sdk's types where they fit (sdk.Folder,
// sdk.FolderPermission, sdk.FoundBoard, sdk.Team, sdk.StatusMessage); the
// HTTP calls are this package's own. The SDK's client cannot send
// folderUid nor message when saving a dashboard (SetRawDashboard always
// sends folderId 0, which silently moves an existing dashboard to the
// General folder), its GET does not return the dashboard's folderUid, and
// it reports every failure as the string "HTTP error N", so that 404 and
// 409 cannot be told apart.
package grafana

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/grafana-tools/sdk"
)

// Client calls Grafana's HTTP API with a service account token.
type Client struct {
	base  *url.URL
	token string
	orgID int
	http  *http.Client
	agent string
}

// ClientOptions configure NewClient.
type ClientOptions struct {
	// URL is Grafana's base URL (a sub-path such as /grafana is kept).
	URL string
	// Token is a service account token (glsa_...) or API key.
	Token string
	// OrgID, if set, selects the organisation (X-Grafana-Org-Id).
	OrgID int
	// HTTP is the client to use (default: a client with no timeout; give
	// the context a deadline).
	HTTP *http.Client
	// UserAgent identifies the caller in Grafana's logs.
	UserAgent string
}

// NewClient returns a client for the Grafana at opts.URL.
func NewClient(opts ClientOptions) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(opts.URL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("grafana URL %q: give it like https://grafana.example.com", opts.URL)
	}
	if u.User != nil {
		return nil, fmt.Errorf("grafana URL %q carries credentials, which would be logged: give a token instead", u.Redacted())
	}
	c := &Client{base: u, token: opts.Token, orgID: opts.OrgID, http: opts.HTTP, agent: opts.UserAgent}
	if c.http == nil {
		c.http = &http.Client{}
	}
	if c.agent == "" {
		c.agent = "tollgate"
	}
	return c, nil
}

// Error is an answer from Grafana other than 200: the request and what
// Grafana said about it.
type Error struct {
	Method, Path string
	Status       int
	// Message is Grafana's "message"; Reason its "status", such as
	// version-mismatch or name-exists on a 412.
	Message, Reason string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// maxPlainMessage is the most of a non-JSON error body an Error keeps.
const maxPlainMessage = 200

// IsStatus reports whether err is a Grafana answer with the status code.
func IsStatus(err error, code int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == code
}

func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	u := *c.base
	u.Path += path
	u.RawQuery = query.Encode()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: encoding the request: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.orgID != 0 {
		req.Header.Set("X-Grafana-Org-Id", strconv.Itoa(c.orgID))
	}
	req.Header.Set("User-Agent", c.agent)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		e := &Error{Method: method, Path: path, Status: resp.StatusCode}
		var m struct{ Message, Status string }
		if json.Unmarshal(data, &m) == nil {
			e.Message, e.Reason = m.Message, m.Status
		} else {
			// Not Grafana's JSON: a proxy's error page, say. Its start
			// is enough to tell which, without the whole page.
			e.Message = strings.Join(strings.Fields(string(data)), " ")
			if len(e.Message) > maxPlainMessage {
				e.Message = strings.ToValidUTF8(e.Message[:maxPlainMessage], "") + "…"
			}
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decoding the answer: %w", method, path, err)
	}
	return nil
}

// Folder returns a folder by UID (a 404 *Error when there is none).
func (c *Client) Folder(ctx context.Context, uid string) (sdk.Folder, error) {
	var f sdk.Folder
	err := c.do(ctx, http.MethodGet, "/api/folders/"+url.PathEscape(uid), nil, nil, &f)
	return f, err
}

// CreateFolder creates a folder with a given UID (409 if it exists).
func (c *Client) CreateFolder(ctx context.Context, uid, title string) (sdk.Folder, error) {
	var f sdk.Folder
	err := c.do(ctx, http.MethodPost, "/api/folders", nil, map[string]string{"uid": uid, "title": title}, &f)
	return f, err
}

// UpdateFolder renames a folder; version is the folder's current version
// (412 if someone changed it meanwhile).
func (c *Client) UpdateFolder(ctx context.Context, uid, title string, version int) (sdk.Folder, error) {
	var f sdk.Folder
	err := c.do(ctx, http.MethodPut, "/api/folders/"+url.PathEscape(uid), nil, map[string]any{"title": title, "version": version}, &f)
	return f, err
}

// Permission is a folder permission as GET returns it. Inherited ones
// (from a parent folder) cannot be changed on this folder.
type Permission struct {
	sdk.FolderPermission
	Inherited bool `json:"inherited"`
}

// PermissionItem is one entry of the list POSTed to set permissions.
type PermissionItem struct {
	TeamID     uint               `json:"teamId,omitempty"`
	UserID     uint               `json:"userId,omitempty"`
	Role       string             `json:"role,omitempty"`
	Permission sdk.PermissionType `json:"permission"`
}

// FolderPermissions returns a folder's permissions.
func (c *Client) FolderPermissions(ctx context.Context, uid string) ([]Permission, error) {
	var ps []Permission
	err := c.do(ctx, http.MethodGet, "/api/folders/"+url.PathEscape(uid)+"/permissions", nil, nil, &ps)
	return ps, err
}

// SetFolderPermissions replaces a folder's whole permission list: any
// entry not sent is removed.
func (c *Client) SetFolderPermissions(ctx context.Context, uid string, items []PermissionItem) error {
	return c.do(ctx, http.MethodPost, "/api/folders/"+url.PathEscape(uid)+"/permissions", nil, map[string]any{"items": items}, nil)
}

// ErrNoTeam is returned by TeamID for a team Grafana does not have.
var ErrNoTeam = errors.New("no such Grafana team")

// TeamID returns the ID of the team with exactly this name.
func (c *Client) TeamID(ctx context.Context, name string) (uint, error) {
	var page sdk.PageTeams
	if err := c.do(ctx, http.MethodGet, "/api/teams/search", url.Values{"name": {name}}, nil, &page); err != nil {
		return 0, err
	}
	for _, t := range page.Teams {
		if t.Name == name {
			return t.ID, nil
		}
	}
	return 0, fmt.Errorf("%w %q", ErrNoTeam, name)
}

// Stored is a dashboard as Grafana holds it.
type Stored struct {
	// Model is the dashboard JSON, numbers as json.Number.
	Model map[string]any
	Meta  Meta
}

// Meta is the dashboard's metadata: the SDK's BoardProperties, which lack
// the folder's UID.
type Meta struct {
	sdk.BoardProperties
	FolderUID string `json:"folderUid"`
}

// Dashboard returns a dashboard by UID (a 404 *Error when there is none).
func (c *Client) Dashboard(ctx context.Context, uid string) (Stored, error) {
	var raw struct {
		Dashboard json.RawMessage `json:"dashboard"`
		Meta      Meta            `json:"meta"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/dashboards/uid/"+url.PathEscape(uid), nil, nil, &raw); err != nil {
		return Stored{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw.Dashboard))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return Stored{}, fmt.Errorf("GET /api/dashboards/uid/%s: decoding the dashboard: %w", uid, err)
	}
	return Stored{Model: m, Meta: raw.Meta}, nil
}

// SaveRequest is POST /api/dashboards/db's body, with the folderUid and
// message the SDK's SetDashboardParams lacks.
type SaveRequest struct {
	Dashboard map[string]any `json:"dashboard"`
	FolderUID string         `json:"folderUid"`
	Message   string         `json:"message,omitempty"`
	// Overwrite false makes Grafana check dashboard.version against the
	// stored one (412 version-mismatch when someone saved meanwhile).
	Overwrite bool `json:"overwrite"`
}

// SaveDashboard creates or updates a dashboard.
func (c *Client) SaveDashboard(ctx context.Context, r SaveRequest) (sdk.StatusMessage, error) {
	var sm sdk.StatusMessage
	err := c.do(ctx, http.MethodPost, "/api/dashboards/db", nil, r, &sm)
	return sm, err
}

// DeleteDashboard deletes a dashboard by UID.
func (c *Client) DeleteDashboard(ctx context.Context, uid string) error {
	return c.do(ctx, http.MethodDelete, "/api/dashboards/uid/"+url.PathEscape(uid), nil, nil, nil)
}

// searchPage is the most /api/search returns at once.
const searchPage = 5000

// DashboardsWithTag returns every dashboard carrying the tag.
func (c *Client) DashboardsWithTag(ctx context.Context, tag string) ([]sdk.FoundBoard, error) {
	var all []sdk.FoundBoard
	for page := 1; ; page++ {
		var hits []sdk.FoundBoard
		q := url.Values{"type": {"dash-db"}, "tag": {tag}, "limit": {strconv.Itoa(searchPage)}, "page": {strconv.Itoa(page)}}
		if err := c.do(ctx, http.MethodGet, "/api/search", q, nil, &hits); err != nil {
			return nil, err
		}
		all = append(all, hits...)
		if len(hits) < searchPage {
			return all, nil
		}
	}
}
