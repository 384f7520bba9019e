package lokiproxy

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/grafana/loki/pkg/push"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/tollgate-dev/tollgate/tenancy"
)

// newPushHandler returns a handler with the given push bounds in front of
// a fake Loki.
func newPushHandler(t *testing.T, l limits) (*Handler, *fakeLoki) {
	t.Helper()
	f := &fakeLoki{}
	return newPushHandlerTo(t, l, f), f
}

func newPushHandlerTo(t *testing.T, l limits, loki http.Handler) *Handler {
	t.Helper()
	srv := httptest.NewServer(loki)
	t.Cleanup(srv.Close)
	base, _ := url.Parse(srv.URL)
	o := Options{Upstream: base, Label: "namespace", MaxBodyBytes: 1 << 12, Timeout: 5 * time.Second}
	applyLimits(&o, l)
	return New(o)
}

// protoPush builds a protobuf+snappy push of streams given as label
// strings, one entry each.
func protoPush(streams ...string) []byte {
	var req push.PushRequest
	for _, s := range streams {
		req.Streams = append(req.Streams, push.Stream{Labels: s, Entries: []push.Entry{{Timestamp: time.Unix(1, 0), Line: "line of " + s}}})
	}
	return protoBody(&req)
}

func protoBody(req *push.PushRequest) []byte {
	raw, err := req.Marshal()
	if err != nil {
		panic(err)
	}
	return snappy.Encode(nil, raw)
}

func pushReq(body []byte, contentType string, headers ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/loki/api/v1/push", bytes.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	return r
}

func jsonReq(body string) *http.Request { return pushReq([]byte(body), "application/json") }

func decodeForwarded(t *testing.T, body []byte) push.PushRequest {
	t.Helper()
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		t.Fatal(err)
	}
	var req push.PushRequest
	if err := req.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	return req
}

func gzipped(parts ...[]byte) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	for _, p := range parts {
		_, _ = zw.Write(p)
	}
	_ = zw.Close()
	return b.Bytes()
}

type pushCase struct {
	name    string
	access  tenancy.Access
	req     *http.Request
	status  int
	substr  string
	org     string
	streams string // forwarded stream labels, joined with " "
}

// runPushCases serves each case on a fresh handler with the given limits
// and checks the answer, that nothing reached Loki for a refusal, and
// what was forwarded otherwise.
func runPushCases(t *testing.T, l limits, cases []pushCase) {
	t.Helper()
	for _, tc := range cases {
		h, f := newPushHandler(t, l)
		w := serve(h, tc.req, tc.access)
		if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.substr) {
			t.Errorf("%s: %d %q, want %d mentioning %q", tc.name, w.Code, w.Body, tc.status, tc.substr)
			continue
		}
		if tc.status != 204 || tc.org == "" {
			if f.count() != 0 {
				t.Errorf("%s: a refused or empty push reached Loki", tc.name)
			}
			continue
		}
		got := f.last(t)
		if org := got.header.Values(OrgHeader); len(org) != 1 || org[0] != tc.org {
			t.Errorf("%s: X-Scope-OrgID %q, want %q", tc.name, org, tc.org)
		}
		if got.header.Get("Content-Type") != "application/x-protobuf" {
			t.Errorf("%s: forwarded as %q", tc.name, got.header.Get("Content-Type"))
		}
		if tc.streams == "" {
			continue
		}
		var labels []string
		for _, s := range decodeForwarded(t, got.body).Streams {
			labels = append(labels, s.Labels)
		}
		if strings.Join(labels, " ") != tc.streams {
			t.Errorf("%s: forwarded streams %q, want %q", tc.name, labels, tc.streams)
		}
	}
}

func TestPush(t *testing.T) {
	tn := testTenancy(t)
	payments := tn.Resolve([]string{"team-payments"})
	runPushCases(t, smallLimits(), []pushCase{
		{"own namespace, labels forwarded in canonical form", payments, pushReq(protoPush(`{namespace="team-payments-staging", app="a"}`), "application/x-protobuf", "X-Scope-OrgID", "checkout-org"), 204, "", "payments", `{app="a", namespace="team-payments-staging"}`},
		{"default namespace", payments, pushReq(protoPush(`{app="a"}`), "application/x-protobuf"), 204, "", "payments", `{app="a", namespace="team-payments-prod"}`},
		{"foreign namespace", payments, pushReq(protoPush(`{namespace="team-checkout-prod", app="a"}`), "application/x-protobuf"), 403, `{app="a", namespace="team-checkout-prod"} (namespace "team-checkout-prod" is not yours)`, "", ""},
		{"mixed is refused whole", payments, pushReq(protoPush(`{namespace="team-payments-prod"}`, `{namespace="kube-system"}`), "application/x-protobuf"), 403, "1 of 2 streams", "", ""},
		{"no default namespace", tn.Resolve([]string{"team-checkout"}), pushReq(protoPush(`{app="a"}`), "application/x-protobuf"), 403, "default_namespace", "", ""},
		{"two defaults are no single default", tn.Resolve([]string{"team-payments", "team-search"}), pushReq(protoPush(`{app="a"}`), "application/x-protobuf"), 403, "default_namespace", "", ""},
		{"streams of two orgs", tn.Resolve([]string{"finance"}), pushReq(protoPush(`{namespace="team-payments-prod"}`, `{namespace="team-checkout-web"}`), "application/x-protobuf"), 400, "different Loki tenants", "", ""},
		{"two tenants, one org", tn.Resolve([]string{"team-checkout", "team-search"}), pushReq(protoPush(`{namespace="team-search-prod"}`, `{namespace="team-checkout-web"}`), "application/x-protobuf"), 204, "", "checkout-org", `{namespace="team-search-prod"} {namespace="team-checkout-web"}`},
		{"admin pushes as the owning tenant", tn.Resolve([]string{"platform-sre"}), pushReq(protoPush(`{namespace="team-checkout-web"}`), "application/x-protobuf"), 204, "", "checkout-org", `{namespace="team-checkout-web"}`},
		{"admin cannot push to an unowned namespace", tn.Resolve([]string{"platform-sre"}), pushReq(protoPush(`{namespace="kube-system"}`), "application/x-protobuf"), 403, "not yours", "", ""},
		{"json", payments, jsonReq(`{"streams":[{"stream":{"namespace":"team-payments-prod","app":"j"},"values":[["1000","hello",{"trace_id":"abc"}]]}]}`), 204, "", "payments", `{app="j", namespace="team-payments-prod"}`},
		{"json, gzip", payments, pushReq(gzipped([]byte(`{"streams":[{"stream":{"app":"z"},"values":[["1000","hello"]]}]}`)), "application/json", "Content-Encoding", "gzip"), 204, "", "payments", `{app="z", namespace="team-payments-prod"}`},
		{"json foreign", payments, jsonReq(`{"streams":[{"stream":{"namespace":"victim"},"values":[["1000","x"]]}]}`), 403, "victim", "", ""},
		{"json bad timestamp", payments, jsonReq(`{"streams":[{"stream":{"namespace":"team-payments-prod"},"values":[[1000,"x"]]}]}`), 400, "streams[0].values[0]: the timestamp must be a string", "", ""},
		{"json label named twice", payments, jsonReq(`{"streams":[{"stream":{"namespace":"team-payments-prod","namespace":"victim"},"values":[["1","x"]]}]}`), 400, `streams[0].stream: the stream names label "namespace" twice`, "", ""},
		{"enforced label named twice", payments, pushReq(protoPush(`{namespace="team-payments-prod", namespace="victim"}`), "application/x-protobuf"), 400, `names label "namespace" twice`, "", ""},
		{"enforced label named twice, foreign first", payments, pushReq(protoPush(`{namespace="victim", namespace="team-payments-prod"}`), "application/x-protobuf"), 400, "twice", "", ""},
		{"another label named twice", payments, pushReq(protoPush(`{namespace="team-payments-prod", app="a", app="b"}`), "application/x-protobuf"), 400, "twice", "", ""},
		{"invalid labels", payments, pushReq(protoPush(`{namespace=`), "application/x-protobuf"), 400, "invalid labels", "", ""},
		{"not snappy", payments, pushReq([]byte("plain"), "application/x-protobuf"), 400, "snappy", "", ""},
		{"unsupported content type", payments, pushReq(protoPush(`{namespace="team-payments-prod"}`), "text/plain"), 415, "application/x-protobuf", "", ""},
		{"missing content type", payments, pushReq(protoPush(`{namespace="team-payments-prod"}`), ""), 415, "Content-Type", "", ""},
		{"too large", payments, pushReq(bytes.Repeat([]byte("x"), 5000), "application/x-protobuf"), 413, "proxy.max_push_bytes", "", ""},
		{"unsupported encoding", payments, pushReq(protoPush(`{namespace="team-payments-prod"}`), "application/x-protobuf", "Content-Encoding", "br"), 415, "br", "", ""},
		{"gzip bomb", payments, pushReq(gzipped([]byte(`{"streams":[{"stream":{},"values":[["1","`), bytes.Repeat([]byte("a"), 1<<16), []byte(`"]]}]}`)), "application/json", "Content-Encoding", "gzip"), 413, "decompressed bytes (proxy.max_push_decompressed_bytes)", "", ""},
	})
}

func TestPushKeepsStructuredMetadata(t *testing.T) {
	h, f := newPushHandler(t, smallLimits())
	a := testTenancy(t).Resolve([]string{"team-payments"})
	body := `{"streams":[{"stream":{"namespace":"team-payments-prod"},"values":[["1700000000000000001","hello",{"user":"u1","trace_id":"abc"}]]}]}`
	if w := serve(h, jsonReq(body), a); w.Code != 204 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	e := decodeForwarded(t, f.last(t).body).Streams[0].Entries[0]
	if e.Line != "hello" || e.Timestamp.UnixNano() != 1700000000000000001 || fmt.Sprint(e.StructuredMetadata) != "[{trace_id abc} {user u1}]" {
		t.Errorf("entry %+v", e)
	}
}

// Loki's JSON push format has "streams", and streams have "stream" and
// "values". Anything else was meant to do something Tollgate would not
// do, so it is refused by name rather than dropped.
func TestPushJSONIsStrict(t *testing.T) {
	payments := testTenancy(t).Resolve([]string{"team-payments"})
	const ns = `"stream":{"namespace":"team-payments-prod"}`
	runPushCases(t, smallLimits(), []pushCase{
		{"unknown top-level key", payments, jsonReq(`{"streams":[],"tenant":"checkout-org"}`), 400, `the push has the key "tenant"`, "", ""},
		{"unknown stream key", payments, jsonReq(`{"streams":[{` + ns + `,"labels":"{a=\"b\"}","values":[]}]}`), 400, `streams[0]: the stream has the key "labels"`, "", ""},
		{"streams twice", payments, jsonReq(`{"streams":[],"streams":[{` + ns + `,"values":[["1","x"]]}]}`), 400, `"streams" twice`, "", ""},
		{"values twice", payments, jsonReq(`{"streams":[{` + ns + `,"values":[],"values":[["1","x"]]}]}`), 400, `"values" twice`, "", ""},
		{"values null", payments, jsonReq(`{"streams":[{` + ns + `,"values":null}]}`), 400, "expected an array, found null", "", ""},
		{"entry of four", payments, jsonReq(`{"streams":[{` + ns + `,"values":[["1","x",{},"y"]]}]}`), 400, "streams[0].values[0]: an entry is", "", ""},
		{"entry without line", payments, jsonReq(`{"streams":[{` + ns + `,"values":[["1"]]}]}`), 400, "the line is missing", "", ""},
		{"metadata not strings", payments, jsonReq(`{"streams":[{` + ns + `,"values":[["1","x",{"a":1}]]}]}`), 400, `structured metadata "a"`, "", ""},
		{"metadata named twice", payments, jsonReq(`{"streams":[{` + ns + `,"values":[["1","x",{"a":"1","a":"2"}]]}]}`), 400, `names "a" twice`, "", ""},
		{"label value not a string", payments, jsonReq(`{"streams":[{"stream":{"namespace":["team-payments-prod"]},"values":[]}]}`), 400, `label "namespace"`, "", ""},
		{"a second object", payments, jsonReq(`{"streams":[]} {"streams":[]}`), 400, "more after the push object", "", ""},
		{"malformed", payments, jsonReq(`{"streams":[{` + ns + `,"values":[["1","x"]}]}`), 400, "malformed", "", ""},
		{"truncated", payments, jsonReq(`{"streams":[{` + ns), 400, "ends too early", "", ""},
		{"empty", payments, jsonReq(``), 400, "ends too early", "", ""},
		{"stream without labels gets the default namespace", payments, jsonReq(`{"streams":[{"values":[["1","x"]]}]}`), 204, "", "payments", `{namespace="team-payments-prod"}`},
		{"no streams", payments, jsonReq(`{"streams":[]}`), 204, "", "", ""},
	})
}

// A protobuf field push.proto does not have would be dropped by the
// re-encoding; it is refused instead.
func TestPushProtobufUnknownFieldsAreRefused(t *testing.T) {
	payments := testTenancy(t).Resolve([]string{"team-payments"})
	raw, _ := (&push.PushRequest{Streams: []push.Stream{{Labels: `{namespace="team-payments-prod"}`, Entries: []push.Entry{{Timestamp: time.Unix(1, 0), Line: "x"}}}}}).Marshal()
	withField := func(b []byte, num protowire.Number) []byte {
		b = protowire.AppendTag(b, num, protowire.BytesType)
		return protowire.AppendBytes(b, []byte("?"))
	}
	// A stream holding an entry with field 9.
	entry := withField(nil, 9)
	stream := protowire.AppendTag(nil, streamEntries, protowire.BytesType)
	stream = protowire.AppendBytes(stream, entry)
	inEntry := protowire.AppendTag(nil, pushRequestStreams, protowire.BytesType)
	inEntry = protowire.AppendBytes(inEntry, stream)
	runPushCases(t, smallLimits(), []pushCase{
		{"field 7 in the request", payments, pushReq(snappy.Encode(nil, withField(raw, 7)), "application/x-protobuf"), 400, "protobuf field 7 (wire type 2) in a PushRequest", "", ""},
		{"field 9 in an entry", payments, pushReq(snappy.Encode(nil, inEntry), "application/x-protobuf"), 400, "protobuf field 9 (wire type 2) in an Entry", "", ""},
		{"truncated", payments, pushReq(snappy.Encode(nil, raw[:len(raw)-3]), "application/x-protobuf"), 400, "not a valid protobuf PushRequest", "", ""},
		{"known fields pass", payments, pushReq(snappy.Encode(nil, raw), "application/x-protobuf"), 204, "", "payments", `{namespace="team-payments-prod"}`},
	})
}

// jsonStreams writes a JSON push of n streams, each with the given labels
// (the stream's index is added as label i) and entries of one line each.
func jsonStreams(n, entries int, labels map[string]string, metadata map[string]string) string {
	var ss []any
	for i := 0; i < n; i++ {
		ls := map[string]string{"i": fmt.Sprint(i)}
		for k, v := range labels {
			ls[k] = v
		}
		var values []any
		for j := 0; j < entries; j++ {
			e := []any{fmt.Sprint(j + 1), "x"}
			if metadata != nil {
				e = append(e, metadata)
			}
			values = append(values, e)
		}
		ss = append(ss, map[string]any{"stream": ls, "values": values})
	}
	b, _ := json.Marshal(map[string]any{"streams": ss})
	return string(b)
}

func protoStreams(n, entries int, labels string, metadata push.LabelsAdapter) []byte {
	var req push.PushRequest
	for i := 0; i < n; i++ {
		s := push.Stream{Labels: fmt.Sprintf(`{i="%d"%s}`, i, labels)}
		for j := 0; j < entries; j++ {
			s.Entries = append(s.Entries, push.Entry{Timestamp: time.Unix(0, int64(j+1)), Line: "x", StructuredMetadata: metadata})
		}
		req.Streams = append(req.Streams, s)
	}
	return protoBody(&req)
}

func pairs(n int) (map[string]string, push.LabelsAdapter) {
	m := map[string]string{}
	var a push.LabelsAdapter
	for i := 0; i < n; i++ {
		m[fmt.Sprintf("m%d", i)] = "v"
		a = append(a, push.LabelAdapter{Name: fmt.Sprintf("m%d", i), Value: "v"})
	}
	return m, a
}

// Streams, entries, structured metadata pairs and label bytes are capped
// per push in both formats, and a push exactly at a cap passes.
func TestPushCaps(t *testing.T) {
	payments := testTenancy(t).Resolve([]string{"team-payments"})
	l := smallLimits() // 10 streams, 20 entries, 8 metadata pairs, 1024 label bytes
	l.sent, l.decompressed = 1<<16, 1<<16
	proto := func(b []byte) *http.Request { return pushReq(b, "application/x-protobuf") }
	ns := map[string]string{"namespace": "team-payments-prod"}
	const nsProto = `, namespace="team-payments-prod"`
	m4, a4 := pairs(4)
	m5, a5 := pairs(5)
	long := strings.Repeat("v", 1000)
	runPushCases(t, l, []pushCase{
		{"json, 10 streams", payments, jsonReq(jsonStreams(10, 1, ns, nil)), 204, "", "payments", ""},
		{"json, 11 streams", payments, jsonReq(jsonStreams(11, 1, ns, nil)), 413, "more than 10 streams in one push (proxy.max_push_streams)", "", ""},
		{"protobuf, 10 streams", payments, proto(protoStreams(10, 1, nsProto, nil)), 204, "", "payments", ""},
		{"protobuf, 11 streams", payments, proto(protoStreams(11, 1, nsProto, nil)), 413, "more than 10 streams in one push (proxy.max_push_streams)", "", ""},
		{"json, 20 entries", payments, jsonReq(jsonStreams(2, 10, ns, nil)), 204, "", "payments", ""},
		{"json, 21 entries", payments, jsonReq(jsonStreams(3, 7, ns, nil)), 413, "more than 20 entries in one push (proxy.max_push_entries)", "", ""},
		{"protobuf, 20 entries", payments, proto(protoStreams(2, 10, nsProto, nil)), 204, "", "payments", ""},
		{"protobuf, 21 entries", payments, proto(protoStreams(3, 7, nsProto, nil)), 413, "more than 20 entries in one push (proxy.max_push_entries)", "", ""},
		{"json, 8 metadata pairs", payments, jsonReq(jsonStreams(1, 2, ns, m4)), 204, "", "payments", ""},
		{"json, 10 metadata pairs", payments, jsonReq(jsonStreams(1, 2, ns, m5)), 413, "more than 8 structured metadata pairs in one push (proxy.max_push_structured_metadata_pairs)", "", ""},
		{"protobuf, 8 metadata pairs", payments, proto(protoStreams(1, 2, nsProto, a4)), 204, "", "payments", ""},
		{"protobuf, 10 metadata pairs", payments, proto(protoStreams(1, 2, nsProto, a5)), 413, "more than 8 structured metadata pairs in one push (proxy.max_push_structured_metadata_pairs)", "", ""},
		{"json, labels under 1024 bytes", payments, jsonReq(jsonStreams(1, 1, map[string]string{"namespace": "team-payments-prod", "a": long[:900]}, nil)), 204, "", "payments", ""},
		{"json, labels over 1024 bytes", payments, jsonReq(jsonStreams(2, 1, map[string]string{"namespace": "team-payments-prod", "a": long[:500]}, nil)), 413, "bytes of stream labels in one push (proxy.max_push_label_bytes)", "", ""},
		{"protobuf, labels under 1024 bytes", payments, proto(protoStreams(1, 1, nsProto+`, a="`+long[:900]+`"`, nil)), 204, "", "payments", ""},
		{"protobuf, labels over 1024 bytes", payments, proto(protoStreams(2, 1, nsProto+`, a="`+long[:500]+`"`, nil)), 413, "bytes of stream labels in one push (proxy.max_push_label_bytes)", "", ""},
	})
}

// Labels added to a stream (the default namespace) and protobuf's framing
// can make the request re-encoded for Loki larger than the JSON that was
// bounded. It is refused before it is built.
func TestPushReencodedSizeIsBounded(t *testing.T) {
	payments := testTenancy(t).Resolve([]string{"team-payments"})
	l := limits{sent: 1 << 14, decompressed: 1 << 14, streams: 1000, entries: 1000, metadata: 10, labelBytes: 1 << 14, concurrent: 1}
	streams := func(n int) *http.Request {
		// {"values":[["1","x"]]} is 22 bytes of JSON; with the default
		// namespace added, about 45 bytes of protobuf.
		return jsonReq(`{"streams":[` + strings.TrimSuffix(strings.Repeat(`{"values":[["1","x"]]},`, n), ",") + `]}`)
	}
	runPushCases(t, l, []pushCase{
		{"300 streams: 7 KB of JSON, 14 KB re-encoded", payments, streams(300), 204, "", "payments", ""},
		{"500 streams: 11 KB of JSON, 23 KB re-encoded", payments, streams(500), 413, "bytes once re-encoded for Loki", "", ""},
	})
}

// Loki v3.7.8 stores streams whose label names are not plain identifiers,
// then fails every query that returns them with 500 (finding 6). Such
// names, and dotted structured metadata names, are refused with 400 naming
// the stream and the label, and nothing is written.
func TestPushLabelNames(t *testing.T) {
	payments := testTenancy(t).Resolve([]string{"team-payments"})
	proto := func(b []byte) *http.Request { return pushReq(b, "application/x-protobuf") }
	meta := func(name string) []byte {
		return protoBody(&push.PushRequest{Streams: []push.Stream{{Labels: `{namespace="team-payments-prod"}`, Entries: []push.Entry{
			{Timestamp: time.Unix(1, 0), Line: "ok"},
			{Timestamp: time.Unix(2, 0), Line: "x", StructuredMetadata: push.LabelsAdapter{{Name: name, Value: "v"}}},
		}}}})
	}
	runPushCases(t, smallLimits(), []pushCase{
		{"json, dotted stream label", payments, jsonReq(`{"streams":[{"stream":{"namespace":"team-payments-prod","k8s.namespace":"x"},"values":[["1","x"]]}]}`), 400, `stream {"k8s.namespace"="x", namespace="team-payments-prod"} has the label name "k8s.namespace"`, "", ""},
		{"protobuf, dotted stream label", payments, proto(protoPush(`{namespace="team-payments-prod", "k8s.namespace"="x"}`)), 400, `has the label name "k8s.namespace"`, "", ""},
		{"protobuf, dash", payments, proto(protoPush(`{namespace="team-payments-prod", "app-name"="x"}`)), 400, `"app-name"`, "", ""},
		{"protobuf, leading digit", payments, proto(protoPush(`{namespace="team-payments-prod", "1app"="x"}`)), 400, `"1app"`, "", ""},
		{"protobuf, non-ASCII", payments, proto(protoPush(`{namespace="team-payments-prod", "café"="x"}`)), 400, `"café"`, "", ""},
		{"protobuf, Loki's internal label", payments, proto(protoPush(`{namespace="team-payments-prod", __aggregated_metric__="x"}`)), 400, `reserved for Loki`, "", ""},
		{"only the bad stream of two is named", payments, proto(protoPush(`{namespace="team-payments-prod", app="ok"}`, `{namespace="team-payments-prod", "k8s.pod"="x"}`)), 400, `stream {namespace="team-payments-prod", "k8s.pod"="x"} has the label name "k8s.pod"`, "", ""},
		{"json, dotted structured metadata", payments, jsonReq(`{"streams":[{"stream":{"namespace":"team-payments-prod"},"values":[["1","x"],["2","y",{"trace.id":"abc"}]]}]}`), 400, `stream {namespace="team-payments-prod"} has an entry with the structured metadata name "trace.id"`, "", ""},
		{"protobuf, dotted structured metadata", payments, proto(meta("trace.id")), 400, `structured metadata name "trace.id"`, "", ""},
		{"protobuf, reserved structured metadata", payments, proto(meta("__error__")), 400, `"__error__"`, "", ""},
		{"plain names pass", payments, jsonReq(`{"streams":[{"stream":{"namespace":"team-payments-prod","_private":"a","App2":"b"},"values":[["1","x",{"trace_id":"abc","_x":"y"}]]}]}`), 204, "", "payments", `{App2="b", _private="a", namespace="team-payments-prod"}`},
	})
}

// blockingLoki holds every push until released, so that a test knows
// exactly how many pushes are in progress.
type blockingLoki struct {
	arrived chan struct{}
	release chan struct{}
}

func (b *blockingLoki) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.arrived <- struct{}{}
	select {
	case <-b.release:
	case <-r.Context().Done():
	}
	w.WriteHeader(http.StatusNoContent)
}

// unreadBody fails the test if a push refused for concurrency was read.
type unreadBody struct{ read bool }

func (u *unreadBody) Read([]byte) (int, error) {
	u.read = true
	return 0, io.EOF
}

func TestPushConcurrencyIsBounded(t *testing.T) {
	loki := &blockingLoki{arrived: make(chan struct{}, 4), release: make(chan struct{})}
	l := smallLimits()
	l.concurrent = 2
	h := newPushHandlerTo(t, l, loki)
	a := testTenancy(t).Resolve([]string{"team-payments"})
	body := protoPush(`{app="a"}`)

	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = serve(h, pushReq(body, "application/x-protobuf"), a).Code
		}()
	}
	for range codes {
		select {
		case <-loki.arrived:
		case <-time.After(10 * time.Second):
			t.Fatal("the first two pushes did not reach Loki")
		}
	}

	u := &unreadBody{}
	r := httptest.NewRequest(http.MethodPost, "/loki/api/v1/push", u)
	r.Header.Set("Content-Type", "application/x-protobuf")
	w := serve(h, r, a)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "proxy.max_concurrent_pushes") {
		t.Errorf("third push: %d, Retry-After %q, %q; want 429 naming proxy.max_concurrent_pushes", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if u.read {
		t.Error("the refused push's body was read")
	}

	close(loki.release)
	wg.Wait()
	if codes[0] != 204 || codes[1] != 204 {
		t.Errorf("held pushes: %v", codes)
	}
	// The slots are given back.
	for i := 0; i < 3; i++ {
		if w := serve(h, pushReq(body, "application/x-protobuf"), a); w.Code != 204 {
			t.Errorf("push %d after the others finished: %d %s", i, w.Code, w.Body)
		}
	}
}

// bomb writes size bytes of a JSON push made of chunk repeated, between
// head and tail, through a compressor.
func bomb(w io.WriteCloser, head, chunk, tail string, size int) {
	_, _ = io.WriteString(w, head)
	block := []byte(strings.Repeat(chunk, 65536/len(chunk)))
	for n := 0; n < size; n += len(block) {
		_, _ = w.Write(block)
	}
	_, _ = io.WriteString(w, tail)
	_ = w.Close()
}

func gzipBomb(head, chunk, tail string, size int) []byte {
	var b bytes.Buffer
	bomb(gzip.NewWriter(&b), head, chunk, tail, size)
	return b.Bytes()
}

func deflateBomb(head, chunk, tail string, size int) []byte {
	var b bytes.Buffer
	fw, _ := flate.NewWriter(&b, flate.DefaultCompression)
	bomb(fw, head, chunk, tail, size)
	return b.Bytes()
}

// protoEntriesBomb is a snappy protobuf push of one stream holding size
// bytes of empty entries: two bytes each on the wire, about a hundred
// each once decoded.
func protoEntriesBomb(size int) []byte {
	stream := protowire.AppendTag(nil, streamLabels, protowire.BytesType)
	stream = protowire.AppendString(stream, `{app="bomb"}`)
	empty := protowire.AppendBytes(protowire.AppendTag(nil, streamEntries, protowire.BytesType), nil)
	stream = append(stream, bytes.Repeat(empty, size/len(empty))...)
	req := protowire.AppendTag(nil, pushRequestStreams, protowire.BytesType)
	req = protowire.AppendBytes(req, stream)
	return snappy.Encode(nil, req)
}

// Finding 4: a 197 KB gzip push inflated to 99 MiB of tiny entries, all
// decoded and re-encoded, cost the gateway 3.9 GiB and crashed it under a
// 3 GiB limit. With the default limits, each compressed push below is
// refused with 413 naming the bound it passed, and the whole request
// allocates a small fraction of what it inflates to.
func TestPushBombsCostBoundedMemory(t *testing.T) {
	a := testTenancy(t).Resolve([]string{"team-payments"})
	const head = `{"streams":[{"stream":{"app":"bomb"},"values":[`
	cases := []struct {
		name, contentType, encoding string
		body                        []byte
		key                         string
		maxAlloc                    uint64
	}{
		// 99 MiB of entries: the decoder stops at the 100,000th.
		{"gzip JSON, 99 MiB of tiny entries", "application/json", "gzip", gzipBomb(head, `["1","x"],`, `["1","x"]]}]}`, 99<<20), "proxy.max_push_entries", 64 << 20},
		{"deflate JSON, 99 MiB of tiny entries", "application/json", "deflate", deflateBomb(head, `["1","x"],`, `["1","x"]]}]}`, 99<<20), "proxy.max_push_entries", 64 << 20},
		// One 99 MiB line: cut at 64 MiB while decompressing. The JSON
		// decoder holds a string whole, doubling its buffer as it grows,
		// so this costs about four times the bound.
		{"gzip JSON, one 99 MiB line", "application/json", "gzip", gzipBomb(head+`["1","`, "a", `"]]}]}`, 99<<20), "proxy.max_push_decompressed_bytes", 320 << 20},
		// 60 MiB of two-byte entries: counted on the wire, never decoded.
		{"snappy protobuf, 60 MiB of empty entries", "application/x-protobuf", "", protoEntriesBomb(60 << 20), "proxy.max_push_entries", 96 << 20},
		// 99 MiB decoded: refused from the length snappy states first.
		{"snappy protobuf, 99 MiB", "application/x-protobuf", "", protoEntriesBomb(99 << 20), "proxy.max_push_decompressed_bytes", 32 << 20},
	}
	for _, tc := range cases {
		h, f := newPushHandler(t, defaultLimits())
		r := pushReq(tc.body, tc.contentType, "Content-Encoding", tc.encoding)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		w := serve(h, r, a)
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("%s: %d compressed bytes, %d %s, %d MiB allocated", tc.name, len(tc.body), w.Code, strings.TrimSpace(w.Body.String()), alloc>>20)
		if w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), tc.key) {
			t.Errorf("%s: %d %q, want 413 naming %s", tc.name, w.Code, w.Body, tc.key)
		}
		if alloc > tc.maxAlloc {
			t.Errorf("%s: the request allocated %d MiB, more than %d MiB", tc.name, alloc>>20, tc.maxAlloc>>20)
		}
		if f.count() != 0 {
			t.Errorf("%s: reached Loki", tc.name)
		}
	}
}
