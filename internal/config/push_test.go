package config

import (
	"strings"
	"testing"
)

func TestPushLimitDefaults(t *testing.T) {
	f, _, err := Parse("t.yaml", []byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	p := f.Proxy
	got := []int64{p.MaxPushBytes, p.MaxPushDecompressedBytes, p.MaxPushStreams, p.MaxPushEntries, p.MaxPushStructuredMetadataPairs, p.MaxPushLabelBytes, p.MaxConcurrentPushes}
	want := []int64{16 << 20, 64 << 20, 10_000, 100_000, 250_000, 4 << 20, 4}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("defaults %v, want %v", got, want)
			break
		}
	}

	set := valid + `proxy:
  max_push_decompressed_bytes: 1000000
  max_push_streams: 5
  max_push_entries: 6
  max_push_structured_metadata_pairs: 7
  max_push_label_bytes: 8
  max_concurrent_pushes: 9
`
	f, _, err = Parse("t.yaml", []byte(set))
	if err != nil {
		t.Fatal(err)
	}
	p = f.Proxy
	if p.MaxPushDecompressedBytes != 1000000 || p.MaxPushStreams != 5 || p.MaxPushEntries != 6 || p.MaxPushStructuredMetadataPairs != 7 || p.MaxPushLabelBytes != 8 || p.MaxConcurrentPushes != 9 {
		t.Errorf("configured values not kept: %+v", p)
	}
}

func TestPushLimitsAreChecked(t *testing.T) {
	bad := valid + `proxy:
  max_push_decompressed_bytes: -1
  max_push_streams: -1
  max_push_entries: -1
  max_push_structured_metadata_pairs: -1
  max_push_label_bytes: -1
  max_concurrent_pushes: -1
`
	_, ps, err := Parse("t.yaml", []byte(bad))
	if err == nil {
		t.Fatal("negative push limits were accepted")
	}
	for _, key := range []string{"max_push_decompressed_bytes", "max_push_streams", "max_push_entries", "max_push_structured_metadata_pairs", "max_push_label_bytes", "max_concurrent_pushes"} {
		if !strings.Contains(err.Error(), "proxy."+key+": is negative") {
			t.Errorf("no problem names proxy.%s: %v", key, ps)
		}
	}

	// A decompressed bound below the bound as sent cuts plain bodies
	// short of what max_push_bytes promises: a warning, not an error.
	_, ps, err = Parse("t.yaml", []byte(valid+"proxy:\n  max_push_bytes: 2000000\n  max_push_decompressed_bytes: 1000000\n"))
	if err != nil || len(ps.Warnings()) != 1 || !strings.Contains(ps.Warnings()[0].String(), "proxy.max_push_decompressed_bytes") {
		t.Errorf("%v %v", ps, err)
	}
}

func TestNegativePushBytesMessageIsUnchanged(t *testing.T) {
	_, _, err := Parse("t.yaml", []byte(valid+"proxy:\n  max_push_bytes: -1\n"))
	if err == nil || !strings.Contains(err.Error(), "proxy.max_push_bytes: is negative (fix: leave it out for the default of 16 MiB, or give a size in bytes)") {
		t.Errorf("%v", err)
	}
}
