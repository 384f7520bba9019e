package config

import (
	"fmt"
	"net/url"
	"time"

	"github.com/tollgate-dev/tollgate/internal/problem"
	"github.com/tollgate-dev/tollgate/querybounds"
)

// QueryLimits are the bounds every PromQL and LogQL parameter is held to.
func (p Proxy) QueryLimits() querybounds.Limits {
	return querybounds.Limits{MaxBytes: p.MaxQueryBytes, MaxDepth: p.MaxQueryDepth, MaxNodes: p.MaxQueryNodes}.WithDefaults()
}

func (p *Proxy) applyBoundDefaults() {
	l := p.QueryLimits()
	p.MaxQueryBytes, p.MaxQueryDepth, p.MaxQueryNodes = l.MaxBytes, l.MaxDepth, l.MaxNodes
	if p.BodyReadTimeout == 0 {
		p.BodyReadTimeout = Duration(DefaultBodyReadTimeout)
	}
	if p.IdleTimeout == 0 {
		p.IdleTimeout = Duration(DefaultIdleTimeout)
	}
	if p.MaxFilteredResponseBytes == 0 {
		p.MaxFilteredResponseBytes = DefaultMaxFilteredResponse
	}
	if p.HTTPServer == "" {
		p.HTTPServer = HTTPServerFast
	}
}

// The values of proxy.http_server.
const (
	HTTPServerFast    = "fast"
	HTTPServerNetHTTP = "net/http"
)

// FastHTTP1 reports whether the fast server answers on listen.
func (p Proxy) FastHTTP1() bool { return p.HTTPServer != HTTPServerNetHTTP }

// validateBounds checks the resource bounds of the proxy section.
func (p *Proxy) validateBounds() problem.List {
	var ps problem.List
	for _, b := range []struct {
		key      string
		v        int64
		fallback string
	}{
		{"proxy.max_query_bytes", int64(p.MaxQueryBytes), "131072 (128 KiB)"},
		{"proxy.max_query_depth", int64(p.MaxQueryDepth), "256"},
		{"proxy.max_query_nodes", int64(p.MaxQueryNodes), "5000"},
		{"proxy.max_filtered_response_bytes", p.MaxFilteredResponseBytes, "33554432 (32 MiB)"},
	} {
		if b.v < 0 {
			ps.Add(b.key, "is negative", "leave it out for the default of "+b.fallback+", or give a positive number")
		}
	}
	if d := time.Duration(p.BodyReadTimeout); d > 0 && d < time.Second {
		ps.Add("proxy.body_read_timeout", fmt.Sprintf("%s is shorter than a second", d), "give clients time to send a body, e.g. 30s (the default)")
	}
	if p.HTTPServer != "" && p.HTTPServer != HTTPServerFast && p.HTTPServer != HTTPServerNetHTTP {
		ps.Add("proxy.http_server", fmt.Sprintf("%q is not a server Tollgate has", p.HTTPServer), `write "fast" (the default) or "net/http" (Go's own server for every request)`)
	}
	for i, o := range p.AllowedOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
			ps.Add(fmt.Sprintf("proxy.allowed_origins[%d]", i), fmt.Sprintf("%q is not an origin", o), "write scheme://host[:port] exactly as browsers send it, e.g. https://grafana.example.com")
		}
	}
	return ps
}
