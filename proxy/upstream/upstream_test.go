package upstream_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/proxy/upstream"
)

// newUpstream serves a backend handler behind an Upstream whose confined
// answers are proxied by the returned gateway URL.
func newUpstream(t *testing.T, backend http.HandlerFunc, stream bool) string {
	t.Helper()
	be := httptest.NewServer(backend)
	t.Cleanup(be.Close)
	base, _ := url.Parse(be.URL)
	u := upstream.New(upstream.Options{Base: base, Name: "backend", Transport: &http.Transport{}})
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out, err := u.Request(r.Context(), http.MethodGet, r.URL.Path, r.URL.Query(), r.Header, upstream.Forwarded())
		if err != nil {
			t.Error(err)
			return
		}
		if stream {
			u.ProxyStream(w, out)
		} else {
			u.ProxyConfined(w, out)
		}
	}))
	t.Cleanup(gw.Close)
	return gw.URL
}

func gzipped(t *testing.T, s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(s))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A client that accepts gzip gets the backend's gzip bytes as they are; a
// client that does not gets identity, and the backend is asked for it.
func TestAnswerKeepsTheClientsEncoding(t *testing.T) {
	body := `{"status":"success","data":{"resultType":"matrix","result":[]}}`
	zipped := gzipped(t, body)
	var asked []string
	gw := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.Header.Get("Accept-Encoding"))
		if r.Header.Get("Accept-Encoding") == "gzip" {
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(zipped)
			return
		}
		_, _ = w.Write([]byte(body))
	}, false)
	tr := &http.Transport{DisableCompression: true}
	for _, enc := range []string{"gzip", ""} {
		req, _ := http.NewRequest(http.MethodGet, gw+"/api/v1/query_range", nil)
		if enc != "" {
			req.Header.Set("Accept-Encoding", enc)
		}
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := []byte(body)
		if enc == "gzip" {
			want = zipped
		}
		if !bytes.Equal(got, want) || resp.Header.Get("Content-Encoding") != enc {
			t.Errorf("Accept-Encoding %q: got %q (Content-Encoding %q), want %q", enc, got, resp.Header.Get("Content-Encoding"), want)
		}
	}
	if len(asked) != 2 || asked[0] != "gzip" || asked[1] != "identity" {
		t.Errorf("the backend was asked for %q, want [gzip identity]", asked)
	}
}

// A stream (live tail) reaches the client line by line while the backend
// is still writing.
func TestStreamIsFlushedAsItComes(t *testing.T) {
	release := make(chan struct{})
	gw := newUpstream(t, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("first\n"))
		w.(http.Flusher).Flush()
		<-release
		_, _ = w.Write([]byte("second\n"))
	}, true)
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, gw+"/tail", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first line before the backend finished: %q, %v", line, err)
	}
}
