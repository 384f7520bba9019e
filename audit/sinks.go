package audit

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
	"time"
)

// writerSink appends lines to a file or stdout.
type writerSink struct {
	label string
	w     io.Writer
	c     io.Closer // nil for stdout, which is not ours to close
}

func (s *writerSink) name() string { return s.label }

func (s *writerSink) write(_ context.Context, lines [][]byte, _ []time.Time) error {
	n := 0
	for _, l := range lines {
		n += len(l) + 1
	}
	buf := bytes.NewBuffer(make([]byte, 0, n))
	for _, l := range lines {
		buf.Write(l)
		buf.WriteByte('\n')
	}
	// One write per batch: with O_APPEND, lines of concurrent writers
	// (another replica on a shared volume) do not interleave mid-line.
	if _, err := s.w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("writing to %s: %w", s.label, err)
	}
	return nil
}

func (s *writerSink) close() error {
	if s.c == nil {
		return nil
	}
	return s.c.Close()
}

// lokiSink pushes batches to Loki's push API in one org.
type lokiSink struct {
	url    string
	org    string
	client *http.Client
}

// lokiStream is the stream the records are pushed to; auditors select it
// with {job="tollgate-audit"}.
const lokiStream = "tollgate-audit"

func newLokiSink(base *url.URL, org string, rt http.RoundTripper) *lokiSink {
	u := *base
	u.Path = strings.TrimSuffix(u.Path, "/") + "/loki/api/v1/push"
	if rt == nil {
		rt = http.DefaultTransport
	}
	return &lokiSink{url: u.String(), org: org, client: &http.Client{Transport: rt, Timeout: 30 * time.Second}}
}

func (s *lokiSink) name() string { return "loki" }
func (s *lokiSink) close() error { return nil }

// errPermanent marks a refusal that retrying cannot fix: 400 and 413 say
// the batch itself is refused (entries too old, too large). Anything else
// (401, 404, 429, 5xx, no answer) is a sink that is down or misconfigured,
// retried, and with audit.fail_closed refuses requests meanwhile.
var errPermanent = errors.New("refused for good")

func permanent(err error) bool { return errors.Is(err, errPermanent) }

func (s *lokiSink) write(ctx context.Context, lines [][]byte, times []time.Time) error {
	type stream struct {
		Stream map[string]string `json:"stream"`
		Values [][2]string       `json:"values"`
	}
	st := stream{Stream: map[string]string{"job": lokiStream}, Values: make([][2]string, len(lines))}
	for i, l := range lines {
		st.Values[i] = [2]string{strconv.FormatInt(times[i].UnixNano(), 10), string(l)}
	}
	body, err := json.Marshal(struct {
		Streams []stream `json:"streams"`
	}{[]stream{st}})
	if err != nil {
		return fmt.Errorf("encoding the Loki push: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building the Loki push: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Scope-OrgID", s.org)
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("pushing to Loki: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusRequestEntityTooLarge:
		return fmt.Errorf("%w: Loki answered %d: %s", errPermanent, resp.StatusCode, bytes.TrimSpace(msg))
	}
	return fmt.Errorf("pushing to Loki: %d: %s", resp.StatusCode, bytes.TrimSpace(msg))
}
