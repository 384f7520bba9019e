package remotewrite

import (
	"strings"
	"testing"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"

	"github.com/tollgate-dev/tollgate/proxy/ingest"
	"github.com/tollgate-dev/tollgate/tenancy"
)

func testAccess(t testing.TB, groups ...string) tenancy.Access {
	t.Helper()
	tn, err := tenancy.New(tenancy.Config{
		Label:       "namespace",
		AdminGroups: []string{"sre"},
		Tenants: []tenancy.TenantConfig{
			{Name: "payments", Groups: []string{"payments"}, Namespaces: []string{"team-payments-prod", "team-payments-*-eu"}, DefaultNamespace: "team-payments-prod"},
			{Name: "search", Groups: []string{"search"}, Namespaces: []string{"team-search-prod"}},
			{Name: "pci", Groups: []string{"pci"}, Namespaces: []string{"pay"}, DefaultNamespace: "pay", Clusters: []string{"eu"}},
			{Name: "multi", Groups: []string{"multi"}, Namespaces: []string{"pay"}, Clusters: []string{"eu", "us"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tn.Resolve(groups)
}

func testLimits() Limits {
	return Limits{
		Decompressed: ingest.Limit{Max: 1 << 20, Key: "proxy.max_push_decompressed_bytes"},
		Series:       ingest.Limit{Max: 1000, Key: "proxy.max_remote_write_series"},
		Samples:      ingest.Limit{Max: 10000, Key: "proxy.max_remote_write_samples"},
		Labels:       ingest.Limit{Max: 10000, Key: "proxy.max_remote_write_label_pairs"},
	}
}

func seed(t testing.TB, ts ...prompb.TimeSeries) []byte {
	t.Helper()
	raw, err := (&prompb.WriteRequest{Timeseries: ts}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// seedV2 is a remote write 2.0 request of one series per labels_refs list.
func seedV2(t testing.TB, symbols []string, refs ...[]uint32) []byte {
	t.Helper()
	req := writev2.Request{Symbols: symbols}
	for _, r := range refs {
		req.Timeseries = append(req.Timeseries, writev2.TimeSeries{LabelsRefs: r, Samples: []writev2.Sample{{Value: 1, Timestamp: 1}},
			Exemplars: []writev2.Exemplar{{LabelsRefs: r[2:], Value: 1, Timestamp: 1}}})
	}
	raw, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func ls(kv ...string) []prompb.Label {
	var out []prompb.Label
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, prompb.Label{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

// FuzzRemoteWrite: whatever the body, a request Tollgate accepts from
// payments writes, once re-encoded, only series whose namespace label is
// given once and is one of payments' namespaces, and exemplars that name
// no other namespace.
func FuzzRemoteWrite(f *testing.F) {
	sample := []prompb.Sample{{Value: 1, Timestamp: 1}}
	f.Add(seed(f, prompb.TimeSeries{Labels: ls("__name__", "up", "namespace", "team-payments-prod"), Samples: sample}), false)
	f.Add(seed(f, prompb.TimeSeries{Labels: ls("__name__", "up"), Samples: sample}), false)
	f.Add(seed(f, prompb.TimeSeries{Labels: ls("__name__", "up", "namespace", ""), Samples: sample}), false)
	f.Add(seed(f, prompb.TimeSeries{Labels: ls("__name__", "up", "namespace", "team-payments-x-eu"), Samples: sample}), false)
	f.Add(seed(f, prompb.TimeSeries{Labels: ls("__name__", "up", "namespace", "team-search-prod"), Samples: sample}), false)
	f.Add(seed(f, prompb.TimeSeries{Labels: ls("namespace", "", "namespace", "team-search-prod"), Samples: sample}), false)
	f.Add(seed(f, prompb.TimeSeries{Labels: ls("namespace", "team-payments-prod"), Exemplars: []prompb.Exemplar{{Labels: ls("namespace", "team-search-prod")}}}), false)
	f.Add([]byte{0x80, 0x80, 0x80, 0x80, 0x0f, 0x00}, true)
	f.Add(seedV2(f, []string{"", "__name__", "up", "namespace", "team-payments-prod", "team-search-prod"}, []uint32{1, 2, 3, 4}, []uint32{1, 2, 3, 5}), false)
	f.Add(seedV2(f, []string{"", "__name__", "up", "namespace", ""}, []uint32{1, 2, 3, 4}, []uint32{1, 2}), false)
	f.Add(seed(f, prompb.TimeSeries{Labels: ls("__name__", "up", "cluster", "us", "namespace", "pay"), Samples: sample}), false)
	f.Add(seed(f, prompb.TimeSeries{Labels: ls("cluster", "eu", "namespace", "pay"), Exemplars: []prompb.Exemplar{{Labels: ls("cluster", "us")}}}), false)
	access, pci := testAccess(f, "payments"), testAccess(f, "pci")
	lim := testLimits()
	f.Fuzz(func(t *testing.T, data []byte, block bool) {
		if !block {
			data = snappy.Encode(nil, data)
		}
		for _, v := range []Version{V1, V2} {
			res, err := Rewrite(data, v, "namespace", access, lim)
			if err == nil {
				checkForwarded(t, decode(t, res.Block), access)
			}
			if res, err := Rewrite(data, v, "namespace", pci, lim); err == nil {
				sent := decode(t, res.Block)
				checkForwarded(t, sent, pci)
				checkClusters(t, sent)
			}
		}
	})
}

// checkForwarded holds a forwarded request to FuzzRemoteWrite's property.
func checkForwarded(t *testing.T, sent *prompb.WriteRequest, access tenancy.Access) {
	t.Helper()
	{
		if len(sent.Metadata) != 0 {
			t.Errorf("a tenant's metadata is forwarded: %v", sent.Metadata)
		}
		for _, ts := range sent.Timeseries {
			ns, n := value(ts.Labels, "namespace")
			if n != 1 || !access.Scope.Matches(ns) {
				t.Fatalf("accepted series %v is outside payments' namespaces", ts.Labels)
			}
			for _, ex := range ts.Exemplars {
				if v, n := value(ex.Labels, "namespace"); n > 1 || (n == 1 && v != ns) {
					t.Fatalf("accepted exemplar %v names another namespace than its series %q", ex.Labels, ns)
				}
			}
		}
	}
}

// checkClusters: what pci (confined to cluster eu) writes carries the
// cluster label once, eu, and its exemplars name no other cluster.
func checkClusters(t *testing.T, sent *prompb.WriteRequest) {
	t.Helper()
	for _, ts := range sent.Timeseries {
		if cl, n := value(ts.Labels, "cluster"); n != 1 || cl != "eu" {
			t.Fatalf("accepted series %v is outside pci's cluster", ts.Labels)
		}
		for _, ex := range ts.Exemplars {
			if v, n := value(ex.Labels, "cluster"); n > 1 || (n == 1 && v != "eu") {
				t.Fatalf("accepted exemplar %v names another cluster", ex.Labels)
			}
		}
	}
}

// decode reads a forwarded request with the Prometheus decoder, the
// receiver's view of it.
func decode(t testing.TB, block []byte) *prompb.WriteRequest {
	t.Helper()
	raw, err := snappy.Decode(nil, block)
	if err != nil {
		t.Fatalf("the forwarded block is not snappy: %v", err)
	}
	var req prompb.WriteRequest
	if err := req.Unmarshal(raw); err != nil {
		t.Fatalf("the forwarded request does not decode: %v", err)
	}
	return &req
}

func rewrite(t testing.TB, group string, ts ...prompb.TimeSeries) (*prompb.WriteRequest, error) {
	t.Helper()
	res, err := Rewrite(snappy.Encode(nil, seed(t, ts...)), V1, "namespace", testAccess(t, group), testLimits())
	if err != nil {
		return nil, err
	}
	return decode(t, res.Block), nil
}

func TestRewriteDefaultAndRefusal(t *testing.T) {
	req, err := rewrite(t, "payments",
		prompb.TimeSeries{Labels: ls("__name__", "a", "pod", "p"), Samples: []prompb.Sample{{Value: 1.5, Timestamp: 7}}},
		prompb.TimeSeries{Labels: ls("__name__", "b", "namespace", "team-payments-x-eu")},
		prompb.TimeSeries{Labels: ls("__name__", "c", "namespace", "", "zone", "z")},
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := req.Timeseries[2].Labels; len(got) != 3 || got[1].Value != "team-payments-prod" || got[2].Name != "zone" {
		t.Errorf("an empty namespace is not replaced by the default: %v", got)
	}
	if s := req.Timeseries[0].Samples; len(s) != 1 || s[0].Value != 1.5 || s[0].Timestamp != 7 {
		t.Errorf("samples not kept: %v", s)
	}
	if got := req.Timeseries[0].Labels; len(got) != 3 || got[1].Name != "namespace" || got[1].Value != "team-payments-prod" {
		t.Errorf("default namespace not inserted in order: %v", got)
	}
	if _, err := rewrite(t, "search", prompb.TimeSeries{Labels: ls("__name__", "a")}); err == nil {
		t.Error("a series without namespace was accepted from a tenant without default_namespace")
	}
}

func TestDecodeLimits(t *testing.T) {
	lim := testLimits()
	lim.Series.Max = 2
	raw := seed(t, prompb.TimeSeries{Labels: ls("a", "1")}, prompb.TimeSeries{Labels: ls("a", "2")}, prompb.TimeSeries{Labels: ls("a", "3")})
	if _, err := Rewrite(snappy.Encode(nil, raw), V1, "namespace", testAccess(t, "payments"), lim); err == nil || !strings.Contains(err.Error(), "proxy.max_remote_write_series") {
		t.Errorf("three series over a limit of two: %v", err)
	}
}

// value returns a label's value and how many times it is given, as the
// receiver reads the labels.
func value(ls []prompb.Label, name string) (string, int) {
	var v string
	n := 0
	for _, l := range ls {
		if l.Name == name {
			v, n = l.Value, n+1
		}
	}
	return v, n
}

func TestRewriteClusters(t *testing.T) {
	sample := []prompb.Sample{{Value: 1, Timestamp: 1}}
	req, err := rewrite(t, "pci",
		prompb.TimeSeries{Labels: ls("__name__", "a", "cluster", "eu", "namespace", "pay"), Samples: sample}, // plain, kept as sent
		prompb.TimeSeries{Labels: ls("__name__", "b", "namespace", "pay", "zone", "z"), Samples: sample},     // the only cluster added
		prompb.TimeSeries{Labels: ls("__name__", "c", "pod", "p"), Samples: sample},                          // namespace and cluster added
		prompb.TimeSeries{Labels: ls("__name__", "d", "cluster", "", "namespace", "pay"), Samples: sample},   // empty is none
	)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`__name__=a cluster=eu namespace=pay`,
		`__name__=b cluster=eu namespace=pay zone=z`,
		`__name__=c cluster=eu namespace=pay pod=p`,
		`__name__=d cluster=eu namespace=pay`,
	}
	for i, ts := range req.Timeseries {
		var got []string
		for _, l := range ts.Labels {
			got = append(got, l.Name+"="+l.Value)
		}
		if strings.Join(got, " ") != want[i] {
			t.Errorf("series %d: %s, want %s", i, strings.Join(got, " "), want[i])
		}
	}
	for _, tc := range []struct {
		group string
		ts    prompb.TimeSeries
		words string
	}{
		{"pci", prompb.TimeSeries{Labels: ls("__name__", "a", "cluster", "us", "namespace", "pay")}, `is in cluster "us", not one of your clusters`},
		{"pci", prompb.TimeSeries{Labels: ls("__name__", "a", "cluster", "eu", "cluster", "us", "namespace", "pay")}, `label "cluster" 2 times`},
		{"pci", prompb.TimeSeries{Labels: ls("__name__", "a", "cluster", "eu", "namespace", "pay"), Exemplars: []prompb.Exemplar{{Labels: ls("cluster", "us")}}}, `names cluster "us"`},
		{"multi", prompb.TimeSeries{Labels: ls("__name__", "a", "namespace", "pay")}, "has no cluster and you have several clusters"},
		{"multi", prompb.TimeSeries{Labels: ls("__name__", "a", "cluster", "ap", "namespace", "pay")}, `"ap", not one of your clusters`},
	} {
		if _, err := rewrite(t, tc.group, tc.ts); err == nil || !strings.Contains(err.Error(), tc.words) {
			t.Errorf("%s %v: %v, want a refusal saying %q", tc.group, tc.ts.Labels, err, tc.words)
		}
	}
	if req, err := rewrite(t, "multi", prompb.TimeSeries{Labels: ls("__name__", "a", "cluster", "us", "namespace", "pay")}); err != nil || len(req.Timeseries) != 1 {
		t.Errorf("multi writing to us: %v", err)
	}
	// Admins and unconfined tenants are not held to a cluster.
	if _, err := rewrite(t, "payments", prompb.TimeSeries{Labels: ls("__name__", "a", "cluster", "anything", "namespace", "team-payments-prod")}); err != nil {
		t.Errorf("unconfined tenant: %v", err)
	}
}
