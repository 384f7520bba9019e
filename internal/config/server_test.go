package config

import (
	"strings"
	"testing"
)

func TestHTTPServerKey(t *testing.T) {
	for yaml, fast := range map[string]bool{"": true, "proxy: {http_server: fast}\n": true, "proxy: {http_server: net/http}\n": false} {
		f, _, err := Parse("t.yaml", []byte(valid+yaml))
		if err != nil {
			t.Fatalf("%q: %v", yaml, err)
		}
		if f.Proxy.FastHTTP1() != fast {
			t.Errorf("%q: fast server %v, want %v", yaml, f.Proxy.FastHTTP1(), fast)
		}
	}
	_, _, err := Parse("t.yaml", []byte(valid+"proxy:\n  http_server: nethttp\n"))
	if err == nil || !strings.Contains(err.Error(), `t.yaml:`) || !strings.Contains(err.Error(), `proxy.http_server: "nethttp" is not a server Tollgate has (fix: write "fast" (the default) or "net/http"`) {
		t.Errorf("a wrong proxy.http_server: %v", err)
	}
}
