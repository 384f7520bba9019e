// Package promapi is Tollgate's one client of the Prometheus HTTP API, for
// the parts of Tollgate that read from Prometheus rather than proxy it:
// the cost source (range queries), dashboard discovery (label values) and
// the SLO bucket check (instant queries). It speaks to whatever serves
// that API: Prometheus, Thanos Query, Mimir or Cortex (with an org ID), or
// Tollgate itself (with a bearer token).
//
// Every request carries the caller's context, the configured headers, org
// ID and token; every answer is read through a size bound and decoded as
// it streams, so a large matrix is not held twice. Failures the server
// reports come back as *Error, whose message quotes the API's errorType
// and error.
package promapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxBodyBytes bounds an answer when Options.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 16 << 20

// Options configure a Client.
type Options struct {
	// URL is the API's base URL, the part before /api/v1; a path prefix
	// (http://mimir/prometheus) is kept.
	URL *url.URL
	// Client sends the requests; nil means http.DefaultClient.
	Client *http.Client
	// Header is added to every request.
	Header http.Header
	// OrgID, when set, is sent as X-Scope-OrgID (Mimir, Cortex).
	OrgID string
	// BearerToken, when set, is sent as Authorization: Bearer.
	BearerToken string
	// MaxBodyBytes bounds an answer's body: 0 means DefaultMaxBodyBytes,
	// a negative value no bound.
	MaxBodyBytes int64
}

// Client asks one Prometheus-compatible API.
type Client struct {
	opts Options
}

// New builds a Client.
func New(opts Options) *Client {
	if opts.Client == nil {
		opts.Client = http.DefaultClient
	}
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	return &Client{opts: opts}
}

// Series is one series of a range query's matrix.
type Series struct {
	Metric map[string]string `json:"metric"`
	Values []Point           `json:"values"`
}

// Sample is one series of an instant query's vector.
type Sample struct {
	Metric map[string]string `json:"metric"`
	Value  Point             `json:"value"`
}

// QueryRange evaluates query from start to end every step
// (/api/v1/query_range) and returns the matrix.
func (c *Client) QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) ([]Series, error) {
	form := url.Values{
		"query": {query},
		"start": {strconv.FormatInt(start.Unix(), 10)},
		"end":   {strconv.FormatInt(end.Unix(), 10)},
		"step":  {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
	}
	var data struct {
		ResultType string   `json:"resultType"`
		Result     []Series `json:"result"`
	}
	if err := c.post(ctx, "query_range", form, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "matrix" {
		return nil, fmt.Errorf("Prometheus returned a %s, not a matrix", data.ResultType)
	}
	return data.Result, nil
}

// Query evaluates query at the server's current time (/api/v1/query) and
// returns the vector.
func (c *Client) Query(ctx context.Context, query string) ([]Sample, error) {
	var data struct {
		ResultType string   `json:"resultType"`
		Result     []Sample `json:"result"`
	}
	if err := c.post(ctx, "query", url.Values{"query": {query}}, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" {
		return nil, fmt.Errorf("Prometheus returned a %s, not a vector", data.ResultType)
	}
	return data.Result, nil
}

// LabelValues returns the values of a label on the series matching any of
// matches between start and end (/api/v1/label/<name>/values), in the
// server's order.
func (c *Client) LabelValues(ctx context.Context, label string, matches []string, start, end time.Time) ([]string, error) {
	q := url.Values{
		"match[]": matches,
		"start":   {strconv.FormatInt(start.Unix(), 10)},
		"end":     {strconv.FormatInt(end.Unix(), 10)},
	}
	u := c.opts.URL.JoinPath("api", "v1", "label", label, "values")
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	var values []string
	if err := c.do(req, &values); err != nil {
		return nil, err
	}
	return values, nil
}

// post sends a form to /api/v1/<endpoint>, as Prometheus's own clients
// do, so that long queries do not meet URL length limits.
func (c *Client) post(ctx context.Context, endpoint string, form url.Values, data any) error {
	u := c.opts.URL.JoinPath("api", "v1", endpoint)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req, data)
}

// do sends req with the configured headers and decodes the answer's data
// into data. Transport errors are returned as they are (they name the
// method and URL); everything the server says otherwise is an *Error.
func (c *Client) do(req *http.Request, data any) error {
	for k, vs := range c.opts.Header {
		req.Header[k] = append([]string(nil), vs...)
	}
	if c.opts.OrgID != "" {
		req.Header.Set("X-Scope-OrgID", c.opts.OrgID)
	}
	if c.opts.BearerToken != "" {
		req.Header.Set("Authorization", "Bearer "+c.opts.BearerToken)
	}
	resp, err := c.opts.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body := &boundedReader{r: resp.Body, left: c.opts.MaxBodyBytes}
	env := envelope{Data: data}
	err = json.NewDecoder(body).Decode(&env)
	switch {
	case errors.Is(err, errTooLarge):
		return &Error{Status: resp.Status, StatusCode: resp.StatusCode, Limit: c.opts.MaxBodyBytes}
	case err != nil:
		return &Error{Status: resp.Status, StatusCode: resp.StatusCode, Decode: err, Head: body.head()}
	case env.Status != "success" || resp.StatusCode/100 != 2:
		return &Error{Status: resp.Status, StatusCode: resp.StatusCode, Type: env.ErrorType, Msg: env.Error, Head: body.head()}
	}
	// What the decoder left (a newline, say) is read so that the
	// connection can carry the next query.
	_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	return nil
}

// envelope is the API's answer around its data.
type envelope struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      any    `json:"data"`
}

// Error is an answer other than a successful one: the API's error, a body
// that is not the API's JSON, or one over the size bound.
type Error struct {
	Status     string // "400 Bad Request"
	StatusCode int
	// Type and Msg are the API's errorType and error.
	Type, Msg string
	// Decode is why the body is not the API's JSON; Head is its start.
	Decode error
	Head   []byte
	// Limit is the bound the body went over (0 when it did not).
	Limit int64
}

func (e *Error) Error() string {
	switch {
	case e.Limit > 0:
		return fmt.Sprintf("Prometheus answered %s with more than %d bytes, more than Tollgate reads; ask for fewer series or a shorter range", e.Status, e.Limit)
	case e.Decode != nil:
		return fmt.Sprintf("Prometheus answered %s with something that is not its API's JSON: %v %s", e.Status, e.Decode, e.Head)
	case e.Type == "" && e.Msg == "":
		// A success status over a non-2xx code, or an empty envelope.
		return fmt.Sprintf("Prometheus answered %s: %s", e.Status, e.Head)
	}
	return fmt.Sprintf("Prometheus answered %s: %s: %s", e.Status, e.Type, e.Msg)
}

// headBytes is how much of a body an Error quotes.
const headBytes = 512

var errTooLarge = errors.New("answer over the size bound")

// boundedReader reads at most left bytes (none when left < 0) and keeps
// the first headBytes for error messages.
type boundedReader struct {
	r     io.Reader
	left  int64
	first []byte
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left >= 0 {
		if b.left == 0 {
			// One byte more tells a body of exactly the bound from a
			// longer one.
			var one [1]byte
			if n, _ := io.ReadFull(b.r, one[:]); n > 0 {
				return 0, errTooLarge
			}
			return 0, io.EOF
		}
		if int64(len(p)) > b.left {
			p = p[:b.left]
		}
	}
	n, err := b.r.Read(p)
	if b.left >= 0 {
		b.left -= int64(n)
	}
	if room := headBytes - len(b.first); room > 0 {
		b.first = append(b.first, p[:min(n, room)]...)
	}
	return n, err
}

// head is the start of the body, trimmed for a message.
func (b *boundedReader) head() []byte {
	return []byte(strings.TrimSpace(string(b.first)))
}
