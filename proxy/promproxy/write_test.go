package promproxy

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"

	"github.com/tollgate-dev/tollgate/proxy/ingest"
	"github.com/tollgate-dev/tollgate/proxy/remotewrite"
)

// TestRemoteWriteHeadersAndTarget: a checked write goes to
// upstreams.remote_write with Tollgate's org ID, never the client's, and
// with remote write 1.0's headers; the client's other headers stay behind.
func TestRemoteWriteHeadersAndTarget(t *testing.T) {
	up := &fakeUpstream{respond: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }}
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	query, _ := url.Parse("http://127.0.0.1:1") // queries would fail: writes must not go there
	target, _ := url.Parse(srv.URL + "/api/v1/push")
	h := New(Options{Upstream: query, Timeout: 5 * time.Second, OrgID: "mimir-tenant", Write: WriteOptions{
		URL: target, Label: "namespace", MaxBytes: 1 << 20, Concurrent: 1,
		Limits: remotewrite.Limits{
			Decompressed: ingest.Limit{Max: 1 << 20}, Series: ingest.Limit{Max: 10},
			Samples: ingest.Limit{Max: 10}, Labels: ingest.Limit{Max: 100},
		},
	}})
	raw, err := (&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{
		Labels:  []prompb.Label{{Name: "__name__", Value: "up"}, {Name: "namespace", Value: "team-a"}},
		Samples: []prompb.Sample{{Value: 1, Timestamp: 1}},
	}}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/api/v1/write", bytes.NewReader(snappy.Encode(nil, raw)))
	r.Header.Set("Content-Type", "application/x-protobuf")
	r.Header.Set("Content-Encoding", "snappy")
	r.Header.Set("X-Scope-OrgID", "someone-else")
	r.Header.Set("X-Forwarded-User", "alice")
	w, _ := serve(h, r, tenantAccess("team-a"))
	if w.Code != http.StatusNoContent {
		t.Fatalf("write: %d %s", w.Code, w.Body)
	}
	got := up.last(t)
	if got.path != "/api/v1/push" || got.header.Get("X-Scope-Orgid") != "mimir-tenant" || got.header.Get("X-Forwarded-User") != "" ||
		got.header.Get("Content-Encoding") != "snappy" || got.header.Get("X-Prometheus-Remote-Write-Version") != "0.1.0" {
		t.Errorf("forwarded to %s with headers %v", got.path, got.header)
	}
	sent, err := snappy.Decode(nil, []byte(got.body))
	if err != nil || !bytes.Equal(sent, raw) {
		t.Errorf("forwarded body differs from the plain request sent (%v)", err)
	}
}
