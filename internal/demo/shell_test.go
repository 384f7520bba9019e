package demo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/demo"
)

// shellSplit splits a command line into words as a POSIX shell does, for
// the subset of the syntax the banner may use: spaces, single quotes and
// backslashes. Any other character that a shell would interpret outside
// quotes is an error, since the command would not do what it says.
func shellSplit(s string) ([]string, error) {
	var (
		words  []string
		cur    strings.Builder
		inWord bool
	)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '\\':
			if i+1 == len(s) {
				return nil, errors.New("trailing backslash")
			}
			i++
			cur.WriteByte(s[i])
			inWord = true
		case strings.IndexByte("\"$`|&;<>()*?[]#~{}!\t\n", c) >= 0:
			return nil, fmt.Errorf("unquoted %q at offset %d", c, i)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

func TestCurlQuotesAwkwardValues(t *testing.T) {
	e := demo.Example{
		ID:      "awkward",
		URL:     "http://127.0.0.1:9091/api/v1/query",
		Headers: []string{"X-Forwarded-User: o'brien"},
		Params:  []demo.Param{{Name: "query", Value: `sum by (namespace) ({__name__=~"a|b", x!='$HOME'})`}},
		Status:  200,
	}
	args, err := shellSplit(e.Curl())
	if err != nil {
		t.Fatalf("%v\n%s", err, e.Curl())
	}
	want := []string{"curl", "-s", "-G", "-w", `\n`, "-H", "X-Forwarded-User: o'brien", e.URL,
		"--data-urlencode", `query=sum by (namespace) ({__name__=~"a|b", x!='$HOME'})`}
	if !slices.Equal(args, want) {
		t.Errorf("got  %q\nwant %q", args, want)
	}
}

func TestShellSplitRejectsUnquotedMetacharacters(t *testing.T) {
	for _, s := range []string{`curl http://x/?a=1&b=2`, `curl 'unterminated`, `curl $HOME`, `curl a"b"`} {
		if _, err := shellSplit(s); err == nil {
			t.Errorf("shellSplit(%q) accepted it", s)
		}
	}
}

// shellWords has sh parse a command line, expansions included, and returns
// the words a command would receive: a shell function named curl takes the
// place of curl and prints its arguments. It runs in an empty directory,
// so that a glob could not match anything by chance.
func shellWords(t *testing.T, cmd string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	script := `curl() { for a in "$@"; do printf '%s\0' "$a"; done; }; ` + cmd
	c := exec.CommandContext(ctx, "sh", "-c", script)
	c.Dir = t.TempDir()
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("sh -c %q: %v\n%s", cmd, err, stderr.String())
	}
	words := strings.Split(string(out), "\x00")
	return append([]string{"curl"}, words[:len(words)-1]...)
}

// checkBody checks that body is the template with every demo.Now replaced
// by the current time in Unix nanoseconds.
func checkBody(t *testing.T, id, body, template string) {
	t.Helper()
	parts := strings.Split(template, demo.Now)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	m := regexp.MustCompile(`^` + strings.Join(parts, `(\d+)`) + `$`).FindStringSubmatch(body)
	if m == nil {
		t.Errorf("%s: body %q does not match %q", id, body, template)
		return
	}
	for _, ts := range m[1:] {
		ns, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			t.Errorf("%s: timestamp %q: %v", id, ts, err)
			continue
		}
		if d := time.Since(time.Unix(0, ns)); d < -time.Minute || d > time.Minute {
			t.Errorf("%s: timestamp %s is %s away from now", id, ts, d)
		}
	}
}

func TestCurlSendsBodyWithCurrentTime(t *testing.T) {
	e := demo.Example{
		ID:      "push",
		URL:     "http://127.0.0.1:9091/loki/api/v1/push",
		Headers: []string{"Content-Type: application/json"},
		Body:    `{"streams":[{"stream":{"app":"o'brien"},"values":[["` + demo.Now + `","$HOME \"x\" @file"]]}]}`,
		Status:  http.StatusNoContent,
	}
	args := shellWords(t, e.Curl())
	want := []string{"curl", "-s", "-w", `\nHTTP %{http_code}\n`, "-H", "Content-Type: application/json", e.URL, "--data-raw"}
	if len(args) != len(want)+1 || !slices.Equal(args[:len(want)], want) {
		t.Fatalf("got  %q\nwant %q and the body", args, want)
	}
	checkBody(t, e.ID, args[len(want)], e.Body)

	req, err := e.Request(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != http.MethodPost || req.URL.String() != e.URL || req.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %s %s %v", req.Method, req.URL, req.Header)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	checkBody(t, e.ID, string(body), e.Body)
}

func TestRequestRefusesParamsWithBody(t *testing.T) {
	e := demo.Example{ID: "both", URL: "http://127.0.0.1:9091/x", Params: []demo.Param{{Name: "a", Value: "b"}}, Body: "{}"}
	if _, err := e.Request(t.Context()); err == nil {
		t.Error("an example with parameters and a body built a request")
	}
}
