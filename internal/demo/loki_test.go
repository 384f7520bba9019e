package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tollgate-dev/tollgate/internal/demo"
)

// The logs part of the demo runs a real Loki. Its binary is built by `make
// deps`, which `make test` runs first; without it these tests fail rather
// than skip, since a skipped test would pass a demo whose logs were never
// tried.

var (
	paymentsNamespaces = []string{"team-payments-prod", "team-payments-staging"}
	allNamespaces      = []string{"kube-system", "monitoring", "team-checkout-prod", "team-payments-prod", "team-payments-staging", "team-search-prod", "team-search-staging"}
)

// startLokiDemo runs the whole demo, Loki included, with live log lines
// every 200ms, and checks when the test ends that Stop left neither a
// directory nor a listening Loki behind.
func startLokiDemo(t *testing.T) *demo.Demo {
	t.Helper()
	bin := lokiBinary(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := demo.New(demo.Options{Listen: "127.0.0.1:0", PrometheusBinary: prometheusBinary(t), LokiBinary: bin, LogInterval: 200 * time.Millisecond, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	began := time.Now()
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("the demo with Loki started in %s", time.Since(began).Round(time.Millisecond))
	lokiURL := d.Loki().URL()
	if !strings.HasPrefix(lokiURL, "http://127.0.0.1:") {
		t.Fatalf("Loki URL %q", lokiURL)
	}
	t.Cleanup(func() {
		if err := d.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
		if resp, err := http.Get(lokiURL + "/ready"); err == nil {
			resp.Body.Close()
			t.Errorf("Loki still answers at %s after Stop", lokiURL)
		}
		checkEmptyDir(t, tmp)
	})
	return d
}

// send runs an example and returns the status and the body.
func send(t *testing.T, e demo.Example) (int, []byte) {
	t.Helper()
	req, err := e.Request(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", e.ID, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: reading the body: %v", e.ID, err)
	}
	return resp.StatusCode, body
}

// lokiData decodes Loki's success envelope.
func lokiData(t *testing.T, body []byte) json.RawMessage {
	t.Helper()
	var r struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Status != "success" {
		t.Fatalf("not a successful Loki answer (%v): %s", err, body)
	}
	return r.Data
}

type logStream struct {
	Labels map[string]string
	Lines  []string
}

// logStreams decodes a log query's result.
func logStreams(t *testing.T, body []byte) []logStream {
	t.Helper()
	var d struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Stream map[string]string `json:"stream"`
			Values [][2]string       `json:"values"`
		} `json:"result"`
	}
	if err := json.Unmarshal(lokiData(t, body), &d); err != nil {
		t.Fatal(err)
	}
	if d.ResultType != "streams" {
		t.Fatalf("result type %q, want streams", d.ResultType)
	}
	var out []logStream
	for _, r := range d.Result {
		s := logStream{Labels: r.Stream}
		for _, v := range r.Values {
			s.Lines = append(s.Lines, v[1])
		}
		out = append(out, s)
	}
	return out
}

// namespacesOf returns the sorted, distinct namespaces of the streams.
func namespacesOf(ss []logStream) []string {
	var out []string
	for _, s := range ss {
		if ns := s.Labels["namespace"]; !slices.Contains(out, ns) {
			out = append(out, ns)
		}
	}
	slices.Sort(out)
	return out
}

// countByNamespace checks a metric query's result: a positive count for
// exactly the namespaces wanted.
func countByNamespace(t *testing.T, body []byte, want []string) {
	t.Helper()
	got := vector(t, lokiData(t, body))
	if ns := slices.Sorted(maps.Keys(got)); !slices.Equal(ns, want) {
		t.Errorf("namespaces %v, want %v", ns, want)
	}
	for ns, v := range got {
		// An hour of a line every 10s is 360 per service.
		if v < 300 {
			t.Errorf("%s: %v lines in the last hour, want at least 300", ns, v)
		}
	}
}

// logChecks hold what each printed Logs example must show beyond its
// status. Every example of the Logs section needs one.
var logChecks = map[string]func(t *testing.T, body []byte){
	"logs-errors": func(t *testing.T, body []byte) {
		ss := logStreams(t, body)
		n := 0
		for _, s := range ss {
			n += len(s.Lines)
			for _, l := range s.Lines {
				if !strings.HasPrefix(l, "level=error ") {
					t.Errorf("not an error line: %s", l)
				}
			}
		}
		if n == 0 || n > 5 {
			t.Errorf("%d lines, want 1 to 5 (limit=5)", n)
		}
		for _, ns := range namespacesOf(ss) {
			if !slices.Contains(paymentsNamespaces, ns) {
				t.Errorf("alice got lines of namespace %s", ns)
			}
		}
	},
	"logs-count-payments": func(t *testing.T, body []byte) {
		countByNamespace(t, body, paymentsNamespaces)
	},
	"logs-count-checkout": func(t *testing.T, body []byte) {
		countByNamespace(t, body, []string{"team-checkout-prod"})
	},
	"logs-count-admin": func(t *testing.T, body []byte) {
		countByNamespace(t, body, allNamespaces)
	},
	"logs-label-values": func(t *testing.T, body []byte) {
		var got []string
		if err := json.Unmarshal(lokiData(t, body), &got); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, paymentsNamespaces) {
			t.Errorf("got %v, want %v", got, paymentsNamespaces)
		}
	},
	"logs-push-foreign": func(t *testing.T, body []byte) {
		if !bytes.Contains(body, []byte("nothing was written")) || !bytes.Contains(body, []byte("team-checkout-prod")) {
			t.Errorf("the refusal does not explain itself: %s", body)
		}
	},
	"logs-push-own": func(t *testing.T, body []byte) {
		if len(body) != 0 {
			t.Errorf("body %q, want none", body)
		}
	},
	"logs-read-pushed": func(t *testing.T, body []byte) {
		ss := logStreams(t, body)
		if len(ss) != 1 || ss[0].Labels["namespace"] != "team-payments-prod" || len(ss[0].Lines) == 0 ||
			!strings.Contains(ss[0].Lines[0], "user=alice msg=hello") {
			t.Errorf("got %+v, want alice's line in team-payments-prod", ss)
		}
	},
}

func logsSection(t *testing.T, d *demo.Demo) demo.Section {
	t.Helper()
	for _, s := range d.Sections() {
		if strings.HasPrefix(s.Title, "Logs") {
			return s
		}
	}
	t.Fatal("the banner has no Logs section")
	return demo.Section{}
}

func TestDemoLogs(t *testing.T) {
	d := startLokiDemo(t)
	banner := checkBanner(t, d)
	if strings.Contains(banner, "not built") {
		t.Errorf("the banner says Loki is not built although it runs:\n%s", banner)
	}
	sec := logsSection(t, d)
	var ids []string
	// In the banner's order, as a reader would paste them: the read-back
	// follows the pushes.
	for _, e := range sec.Examples {
		ids = append(ids, e.ID)
		t.Run(e.ID, func(t *testing.T) {
			check, ok := logChecks[e.ID]
			if !ok {
				t.Fatalf("example %s has no check in this test", e.ID)
			}
			status, body := send(t, e)
			if status != e.Status {
				t.Fatalf("status %d, want %d: %s", status, e.Status, body)
			}
			check(t, body)
		})
	}
	for id := range logChecks {
		if !slices.Contains(ids, id) {
			t.Errorf("check %s has no example in the banner", id)
		}
	}

	gw := d.Gateway().URL()
	admin := []string{"Authorization: Bearer " + d.Gateway().Token()}
	alice := []string{"X-Forwarded-User: alice", "X-Forwarded-Groups: team-payments"}
	query := func(t *testing.T, headers []string, q string) []logStream {
		t.Helper()
		e := demo.Example{ID: q, URL: gw + "/loki/api/v1/query_range", Headers: headers, Params: []demo.Param{{Name: "query", Value: q}, {Name: "limit", Value: "1000"}}}
		status, body := send(t, e)
		if status != http.StatusOK {
			t.Fatalf("%s: %d %s", q, status, body)
		}
		return logStreams(t, body)
	}

	t.Run("foreign push wrote nothing", func(t *testing.T) {
		// The admin reads every org: alice's refused line must be nowhere,
		// her accepted one in the payments org only.
		for _, s := range query(t, admin, `{service="curl"}`) {
			if s.Labels["namespace"] != "team-payments-prod" || s.Labels["__tenant_id__"] != "payments" {
				t.Errorf("stream %v after alice's pushes, want only team-payments-prod in org payments", s.Labels)
			}
			for _, l := range s.Lines {
				if strings.Contains(l, "into-checkout") {
					t.Errorf("the refused line was written: %v %s", s.Labels, l)
				}
			}
		}
	})

	t.Run("push without namespace goes to default_namespace", func(t *testing.T) {
		e := demo.Example{
			ID:      "push-default",
			URL:     gw + "/loki/api/v1/push",
			Headers: append(slices.Clone(alice), "Content-Type: application/json"),
			Body:    `{"streams":[{"stream":{"service":"curl-default"},"values":[["` + demo.Now + `","level=info msg=defaulted"]]}]}`,
		}
		if status, body := send(t, e); status != http.StatusNoContent {
			t.Fatalf("status %d: %s", status, body)
		}
		ss := query(t, alice, `{service="curl-default"}`)
		if got := namespacesOf(ss); !slices.Equal(got, []string{"team-payments-prod"}) {
			t.Errorf("defaulted stream in namespaces %v, want team-payments-prod", got)
		}
	})

	t.Run("live tail", func(t *testing.T) {
		checkTail(t, gw, alice)
	})
}

// checkTail follows alice's logs through the gateway's websocket until a
// line newer than the connection arrives, and checks that every line is
// from her namespaces.
func checkTail(t *testing.T, gw string, headers []string) {
	t.Helper()
	u := "ws" + strings.TrimPrefix(gw, "http") + "/loki/api/v1/tail?" + url.Values{"query": {`{service=~".+"}`}}.Encode()
	h := http.Header{}
	for _, kv := range headers {
		k, v, _ := strings.Cut(kv, ": ")
		h.Set(k, v)
	}
	dialer := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	conn, resp, err := dialer.DialContext(t.Context(), u, h)
	if err != nil {
		var body []byte
		if resp != nil {
			body, _ = io.ReadAll(resp.Body)
		}
		t.Fatalf("tail: %v %s", err, body)
	}
	defer conn.Close()
	connected := time.Now()
	deadline := connected.Add(20 * time.Second)
	if err := conn.SetReadDeadline(deadline); err != nil {
		t.Fatal(err)
	}
	for {
		var msg struct {
			Streams []struct {
				Stream map[string]string `json:"stream"`
				Values [][2]string       `json:"values"`
			} `json:"streams"`
		}
		if err := conn.ReadJSON(&msg); err != nil {
			t.Fatalf("no live line within 20s of connecting: %v", err)
		}
		live := false
		for _, s := range msg.Streams {
			if !slices.Contains(paymentsNamespaces, s.Stream["namespace"]) {
				t.Errorf("tail sent alice a line of %v", s.Stream)
			}
			for _, v := range s.Values {
				ns, err := strconv.ParseInt(v[0], 10, 64)
				if err != nil {
					t.Fatalf("timestamp %q: %v", v[0], err)
				}
				live = live || time.Unix(0, ns).After(connected)
			}
		}
		if live {
			return
		}
	}
}

func TestDemoWithLokiStartFailsCleanly(t *testing.T) {
	d := startLokiDemo(t)
	// The gateway's address is taken: Start must fail after Loki started,
	// and stop it (startLokiDemo's cleanup checks that its directory, in
	// the same TMPDIR, is gone).
	busy, err := demo.New(demo.Options{Listen: d.Gateway().Addr(), PrometheusBinary: prometheusBinary(t), LokiBinary: lokiBinary(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := busy.Start(ctx); err == nil {
		_ = busy.Stop()
		t.Fatal("Start succeeded on an address in use")
	} else if !strings.Contains(err.Error(), "gateway") {
		t.Errorf("error does not say what failed: %v", err)
	}
	if u := busy.Loki().URL(); u != "" {
		t.Errorf("the failed demo's Loki still has a URL, %s", u)
	}
}

// lokiBinary finds Loki as `tollgate demo` does, from the package's
// directory inside the checkout.
func lokiBinary(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := demo.FindLoki(demo.LokiLookup{Getenv: os.Getenv, Workdir: wd})
	if err != nil {
		t.Fatalf("no Loki to run the demo's logs on: %v\nrun make deps (it builds Loki into .cache/bin/loki), or set %s", err, demo.LokiEnv)
	}
	return bin
}
