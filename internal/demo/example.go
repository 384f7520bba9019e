package demo

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Now stands for the current time in a Body, as Unix nanoseconds: a push
// needs a fresh timestamp, which a pasted command can only get from the
// shell. The curl command computes it with `date +%s` followed by nine
// zeros, which BSD date (macOS) understands too, unlike GNU's %N; Request
// uses the same second-resolution value.
const Now = "${now}"

// nowShell is what Now becomes in a curl command: a command substitution in
// double quotes, so that its output stays one word.
const nowShell = `"$(date +%s)000000000"`

// Example is one request the banner suggests trying. It is data rather than
// a command line so that the tests send exactly what the banner prints: the
// curl command and the Go request are both rendered from it.
type Example struct {
	// ID names the example for tests; it is not printed.
	ID string
	// Title says what the example shows, printed as a comment above it.
	Title string
	// URL is absolute and carries no query string; parameters go in Params.
	URL string
	// Headers are "Name: value", as curl's -H takes them.
	Headers []string
	// Params are sent URL-encoded in the query string, in this order.
	Params []Param
	// Body, if set, is POSTed as is (curl --data-raw), with every Now
	// replaced by the current time. An example has Params or a Body, not
	// both; a Content-Type goes in Headers.
	Body string
	// Status is the HTTP status the example answers with. Anything but 200
	// makes curl print it, since the point of such an example is the refusal.
	Status int
}

// Param is one query parameter.
type Param struct {
	Name, Value string
}

// Curl renders the example as a single-line POSIX shell command.
func (e Example) Curl() string {
	args := []string{"curl", "-s"}
	if len(e.Params) > 0 && e.Body == "" {
		// -G turns the --data-urlencode pairs into a query string, which
		// keeps the method GET like a browser or Grafana would send.
		args = append(args, "-G")
	}
	// API responses end without a newline; -w adds one, and the status
	// where the status is the point.
	if e.Status != http.StatusOK {
		args = append(args, "-w", shellQuote(`\nHTTP %{http_code}\n`))
	} else {
		args = append(args, "-w", shellQuote(`\n`))
	}
	for _, h := range e.Headers {
		args = append(args, "-H", shellQuote(h))
	}
	args = append(args, shellQuote(e.URL))
	for _, p := range e.Params {
		args = append(args, "--data-urlencode", shellQuote(p.Name+"="+p.Value))
	}
	if e.Body != "" {
		// Quoted pieces and the substitution between them are adjacent,
		// so the shell joins them into the one argument of --data-raw
		// (which, unlike -d, does not read files named after an @).
		parts := strings.Split(e.Body, Now)
		for i, p := range parts {
			parts[i] = shellQuote(p)
		}
		args = append(args, "--data-raw", strings.Join(parts, nowShell))
	}
	return strings.Join(args, " ")
}

// Request builds the request the curl command sends.
func (e Example) Request(ctx context.Context) (*http.Request, error) {
	u, err := url.Parse(e.URL)
	if err != nil {
		return nil, fmt.Errorf("example %s: parsing URL: %w", e.ID, err)
	}
	if len(e.Params) > 0 && e.Body != "" {
		// curl would send the parameters as the body too, or with -G the
		// body as parameters: neither is what the example says.
		return nil, fmt.Errorf("example %s: has both parameters and a body", e.ID)
	}
	if len(e.Params) > 0 {
		q := make([]string, 0, len(e.Params))
		for _, p := range e.Params {
			q = append(q, url.QueryEscape(p.Name)+"="+url.QueryEscape(p.Value))
		}
		u.RawQuery = strings.Join(q, "&")
	}
	method, body := http.MethodGet, io.Reader(nil)
	if e.Body != "" {
		now := strconv.FormatInt(time.Now().Unix(), 10) + "000000000"
		method, body = http.MethodPost, strings.NewReader(strings.ReplaceAll(e.Body, Now, now))
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("example %s: building request: %w", e.ID, err)
	}
	for _, h := range e.Headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			return nil, fmt.Errorf("example %s: header %q has no colon", e.ID, h)
		}
		req.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	return req, nil
}

// shellQuote single-quotes s for a POSIX shell. Inside single quotes nothing
// is special except the quote itself, which is closed, escaped and reopened.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Section is what one component contributes to the banner.
type Section struct {
	// Title heads the section.
	Title string
	// Lines are facts worth knowing: addresses, credentials.
	Lines []string
	// Examples are requests to try.
	Examples []Example
}

// WriteBanner prints the sections: a heading, the facts, then each example
// as a comment and a command that can be pasted into a shell.
func WriteBanner(w io.Writer, sections []Section) error {
	var b strings.Builder
	b.WriteString("Tollgate demo is running. Stop it with Ctrl-C.\n")
	for _, s := range sections {
		fmt.Fprintf(&b, "\n== %s ==\n", s.Title)
		for _, l := range s.Lines {
			fmt.Fprintf(&b, "  %s\n", l)
		}
		for _, e := range s.Examples {
			fmt.Fprintf(&b, "\n# %s\n%s\n", e.Title, e.Curl())
		}
	}
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("writing the banner: %w", err)
	}
	return nil
}
