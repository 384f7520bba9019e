package demo_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

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
