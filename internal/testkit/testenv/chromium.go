package testenv

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tollgate-dev/tollgate/internal/childproc"
)

// Chromium is a headless Chromium driven over the Chrome DevTools
// protocol: one page, navigated, evaluated and photographed by the test.
// Only the handful of protocol methods the tests use are spoken here.
type Chromium struct {
	t       testing.TB
	conn    *websocket.Conn
	session string

	mu      sync.Mutex
	nextID  int
	pending map[int]chan cdpMessage
	events  chan cdpMessage
	done    chan struct{}
	// DownloadDir receives the page's downloads.
	DownloadDir string
}

type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// StartChromium starts headless Chromium with a fresh profile and opens a
// blank page. A missing browser fails the test with the install command.
// It is stopped when the test ends.
func StartChromium(t testing.TB) *Chromium {
	t.Helper()
	bin := os.Getenv("TOLLGATE_CHROMIUM")
	if bin == "" {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				bin = p
				break
			}
		}
	}
	if bin == "" {
		t.Fatalf("chromium is not installed: run `make deps` (Debian packages chromium and chromium-driver), or set TOLLGATE_CHROMIUM")
	}
	dir := t.TempDir()
	profile := filepath.Join(dir, "profile")
	c := &Chromium{t: t, pending: map[int]chan cdpMessage{}, events: make(chan cdpMessage, 4096), done: make(chan struct{}), DownloadDir: filepath.Join(dir, "downloads")}
	if err := os.MkdirAll(c.DownloadDir, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir="+profile, "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1", "--window-size=1280,1000", "about:blank")
	p, err := childproc.Start(cmd, childproc.Options{Name: "chromium", TermGroup: true})
	if err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	t.Cleanup(func() {
		if c.conn != nil {
			c.conn.Close()
		}
		_ = p.Stop(5 * time.Second)
		if t.Failed() {
			t.Logf("chromium log:\n%s", p.Output())
		}
	})
	ws := devToolsURL(t, p, profile)
	conn, _, err := websocket.DefaultDialer.Dial(ws, nil)
	if err != nil {
		t.Fatalf("connecting to chromium's DevTools at %s: %v", ws, err)
	}
	conn.SetReadLimit(64 << 20)
	c.conn = conn
	go c.read()

	var target struct {
		TargetID string `json:"targetId"`
	}
	c.call("", "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	c.call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached)
	c.session = attached.SessionID
	c.call(c.session, "Page.enable", nil, nil)
	c.call("", "Browser.setDownloadBehavior", map[string]any{"behavior": "allow", "downloadPath": c.DownloadDir, "eventsEnabled": true}, nil)
	return c
}

// devToolsURL waits for the DevTools address, which Chromium writes to
// DevToolsActivePort in its profile (the port and browser path it chose).
func devToolsURL(t testing.TB, p *childproc.Process, profile string) string {
	t.Helper()
	var ws string
	probe := func(context.Context) bool {
		b, err := os.ReadFile(filepath.Join(profile, "DevToolsActivePort"))
		if lines := strings.Split(string(b), "\n"); err == nil && len(lines) >= 2 && lines[1] != "" {
			ws = "ws://127.0.0.1:" + strings.TrimSpace(lines[0]) + strings.TrimSpace(lines[1])
			return true
		}
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	switch err := p.WaitReady(ctx, 50*time.Millisecond, probe, 0, nil); {
	case errors.Is(err, childproc.ErrExited):
		t.Fatalf("chromium exited before serving DevTools:\n%s", p.Output())
	case err != nil:
		t.Fatalf("chromium did not open its DevTools port in 30s:\n%s", p.Output())
	}
	return ws
}

func (c *Chromium) read() {
	defer close(c.done)
	for {
		var m cdpMessage
		if err := c.conn.ReadJSON(&m); err != nil {
			return
		}
		if m.ID != 0 {
			c.mu.Lock()
			ch := c.pending[m.ID]
			delete(c.pending, m.ID)
			c.mu.Unlock()
			if ch != nil {
				ch <- m
			}
			continue
		}
		select {
		case c.events <- m:
		default: // nobody waits for that many events
		}
	}
}

// call sends a command and decodes its result into out (if not nil).
func (c *Chromium) call(session, method string, params any, out any) {
	c.t.Helper()
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	ch := make(chan cdpMessage, 1)
	c.pending[id] = ch
	c.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	c.mu.Lock()
	err := c.conn.WriteJSON(msg)
	c.mu.Unlock()
	if err != nil {
		c.t.Fatalf("%s: %v", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			c.t.Fatalf("%s: %s", method, m.Error.Message)
		}
		if out != nil {
			if err := json.Unmarshal(m.Result, out); err != nil {
				c.t.Fatalf("%s: decoding the result: %v", method, err)
			}
		}
	case <-c.done:
		c.t.Fatalf("%s: chromium closed the connection", method)
	case <-time.After(60 * time.Second):
		c.t.Fatalf("%s: no answer from chromium in 60s", method)
	}
}

// waitEvent waits for an event of the given method for which match
// (optional) is true.
func (c *Chromium) waitEvent(ctx context.Context, method string, match func(json.RawMessage) bool) error {
	for {
		select {
		case m := <-c.events:
			if m.Method == method && (match == nil || match(m.Params)) {
				return nil
			}
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", method, ctx.Err())
		}
	}
}

// Navigate loads a URL and waits for its load event.
func (c *Chromium) Navigate(url string) {
	c.t.Helper()
	// Events of an earlier page must not be taken for this one's.
	for len(c.events) > 0 {
		<-c.events
	}
	var r struct {
		ErrorText string `json:"errorText"`
	}
	c.call(c.session, "Page.navigate", map[string]any{"url": url}, &r)
	if r.ErrorText != "" {
		c.t.Fatalf("navigating to %s: %s", url, r.ErrorText)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.waitEvent(ctx, "Page.loadEventFired", nil); err != nil {
		c.t.Fatalf("%s: %v", url, err)
	}
}

// Eval evaluates a JavaScript expression in the page and decodes its
// value into out.
func (c *Chromium) Eval(expr string, out any) {
	c.t.Helper()
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	c.call(c.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &r)
	if r.ExceptionDetails != nil {
		c.t.Fatalf("evaluating %s: %s %s", expr, r.ExceptionDetails.Text, r.ExceptionDetails.Exception.Description)
	}
	if out != nil {
		if err := json.Unmarshal(r.Result.Value, out); err != nil {
			c.t.Fatalf("evaluating %s: decoding %s: %v", expr, r.Result.Value, err)
		}
	}
}

// Screenshot saves a PNG of the page to path.
func (c *Chromium) Screenshot(path string) {
	c.t.Helper()
	var r struct {
		Data string `json:"data"`
	}
	c.call(c.session, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true}, &r)
	b, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		c.t.Fatalf("decoding the screenshot: %v", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		c.t.Fatal(err)
	}
}

// WaitDownload waits for a download to complete and returns its path.
func (c *Chromium) WaitDownload(timeout time.Duration) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var guid string
	err := c.waitEvent(ctx, "Browser.downloadProgress", func(p json.RawMessage) bool {
		var d struct {
			GUID  string `json:"guid"`
			State string `json:"state"`
		}
		_ = json.Unmarshal(p, &d)
		if d.State == "canceled" {
			c.t.Fatalf("the download was canceled")
		}
		guid = d.GUID
		return d.State == "completed"
	})
	if err != nil {
		c.t.Fatal(err)
	}
	// Chromium names the file after the download's GUID or its suggested
	// name, depending on the version; either way it is the only file.
	p := filepath.Join(c.DownloadDir, guid)
	if _, err := os.Stat(p); err != nil {
		entries, _ := os.ReadDir(c.DownloadDir)
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".crdownload") {
				p = filepath.Join(c.DownloadDir, e.Name())
			}
		}
	}
	if _, err := os.Stat(p); err != nil {
		c.t.Fatalf("the completed download is not in %s: %v", c.DownloadDir, err)
	}
	return p
}
