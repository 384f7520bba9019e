package promapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// server answers every request with body and status, and records the
// last request.
func server(t *testing.T, status int, body string) (*httptest.Server, *http.Request) {
	t.Helper()
	var last http.Request
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		last = *r.Clone(context.Background())
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(s.Close)
	return s, &last
}

func client(t *testing.T, s *httptest.Server, opts Options) *Client {
	t.Helper()
	u, err := url.Parse(s.URL + "/prefix")
	if err != nil {
		t.Fatal(err)
	}
	opts.URL = u
	return New(opts)
}

// A range query is a form POST under the URL's path prefix, with the
// configured header, org ID and token; its matrix is decoded, points and
// all.
func TestQueryRange(t *testing.T) {
	s, last := server(t, 200, `{"status":"success","data":{"resultType":"matrix","result":[
		{"metric":{"node":"a"},"values":[[1793491200,"4"],[1793494800.5,"NaN"],[1793498400,"x\u0031"]]}]}}`)
	c := client(t, s, Options{OrgID: "team-a", BearerToken: "tok", Header: http.Header{"X-Extra": {"1"}}})
	start := time.Unix(1793491200, 0)
	got, err := c.QueryRange(context.Background(), `up{job="x"}`, start, start.Add(2*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if last.Method != http.MethodPost || last.URL.Path != "/prefix/api/v1/query_range" {
		t.Errorf("sent %s %s", last.Method, last.URL.Path)
	}
	for k, want := range map[string]string{"query": `up{job="x"}`, "start": "1793491200", "end": "1793498400", "step": "3600"} {
		if v := last.PostForm.Get(k); v != want {
			t.Errorf("form %s = %q, want %q", k, v, want)
		}
	}
	for k, want := range map[string]string{"X-Scope-OrgID": "team-a", "Authorization": "Bearer tok", "X-Extra": "1"} {
		if v := last.Header.Get(k); v != want {
			t.Errorf("header %s = %q, want %q", k, v, want)
		}
	}
	if len(got) != 1 || got[0].Metric["node"] != "a" || len(got[0].Values) != 3 {
		t.Fatalf("%+v", got)
	}
	p := got[0].Values[1]
	if !p.Time().Equal(time.UnixMilli(1793494800500)) || p.V != "NaN" || got[0].Values[2].V != "x1" {
		t.Errorf("points %+v", got[0].Values)
	}
}

// Label values are a GET with match[], start and end.
func TestLabelValues(t *testing.T) {
	s, last := server(t, 200, `{"status":"success","data":["b","a"]}`)
	end := time.Unix(1793491200, 0)
	got, err := client(t, s, Options{}).LabelValues(context.Background(), "service", []string{`{job="x"}`}, end.Add(-time.Hour), end)
	if err != nil || strings.Join(got, ",") != "b,a" {
		t.Fatalf("%v %v", got, err)
	}
	if last.Method != http.MethodGet || last.URL.Path != "/prefix/api/v1/label/service/values" ||
		last.Form.Get("match[]") != `{job="x"}` || last.Form.Get("start") != "1793487600" || last.Form.Get("end") != "1793491200" {
		t.Errorf("sent %s %s", last.Method, last.URL)
	}
}

// What is not a successful answer comes back as an *Error whose message
// says what the server said.
func TestErrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		status int
		body   string
		max    int64
		want   string
	}{
		{"API error", 422, `{"status":"error","errorType":"execution","error":"too many samples"}`, 0,
			"Prometheus answered 422 Unprocessable Entity: execution: too many samples"},
		{"not JSON", 502, "<html>bad gateway</html>", 0,
			"Prometheus answered 502 Bad Gateway with something that is not its API's JSON: invalid character '<' looking for beginning of value <html>bad gateway</html>"},
		{"success over an error status", 500, `{"status":"success","data":{"resultType":"vector","result":[]}}`, 0,
			"Prometheus answered 500 Internal Server Error: "},
		{"over the bound", 200, `{"status":"success","data":{"resultType":"vector","result":[]}}`, 20,
			"Prometheus answered 200 OK with more than 20 bytes, more than Tollgate reads"},
		{"wrong result type", 200, `{"status":"success","data":{"resultType":"matrix","result":[]}}`, 0,
			"Prometheus returned a matrix, not a vector"},
	} {
		s, _ := server(t, c.status, c.body)
		_, err := client(t, s, Options{MaxBodyBytes: c.max}).Query(context.Background(), "up")
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		var ae *Error
		if c.name != "wrong result type" && !errors.As(err, &ae) {
			t.Errorf("%s: %T is not an *Error", c.name, err)
		}
	}
}

// A body of exactly the bound is read; the bound applies by default.
func TestBodyBound(t *testing.T) {
	body := `{"status":"success","data":{"resultType":"vector","result":[]}}`
	s, _ := server(t, 200, body)
	if _, err := client(t, s, Options{MaxBodyBytes: int64(len(body))}).Query(context.Background(), "up"); err != nil {
		t.Errorf("a body of exactly the bound: %v", err)
	}
	big := `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"` + strings.Repeat("x", DefaultMaxBodyBytes) + `"}}]}}`
	s, _ = server(t, 200, big)
	var ae *Error
	if _, err := client(t, s, Options{}).Query(context.Background(), "up"); !errors.As(err, &ae) || ae.Limit != DefaultMaxBodyBytes {
		t.Errorf("a body over the default bound: %v", err)
	}
	if _, err := client(t, s, Options{MaxBodyBytes: -1}).Query(context.Background(), "up"); err != nil {
		t.Errorf("without a bound: %v", err)
	}
}
