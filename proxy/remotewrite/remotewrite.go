// Package remotewrite checks Prometheus remote-write requests (protocol
// 1.0, prometheus.WriteRequest) against the writer's tenants, the way Loki
// pushes are checked stream by stream: every series' namespace label must
// be one of the writer's, a series without one gets the writer's default
// namespace, and one foreign series refuses the whole request.
//
// The request is read on the wire, without decoding it into Go values (a
// 1,000-series request decoded costs more than the receiver's own work),
// and the request forwarded is written anew from the fields read: labels
// in their canonical form, one name and one value each, the other known
// fields as they were, unknown fields dropped. The receiver reads exactly
// what was checked.
package remotewrite

import (
	"fmt"
	"strings"

	"github.com/golang/snappy"

	"github.com/tollgate-dev/tollgate/proxy/ingest"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// Limits bound what one request may hold, counted as it is read.
type Limits struct {
	Decompressed ingest.Limit // proxy.max_push_decompressed_bytes
	Series       ingest.Limit // proxy.max_remote_write_series
	Samples      ingest.Limit // proxy.max_remote_write_samples: samples, histograms and exemplars
	Labels       ingest.Limit // proxy.max_remote_write_label_pairs: of series and exemplars
}

// maxListed bounds how many offending series a refusal names.
const maxListed = 10

// Refusal is a request refused because of what its series say: foreign
// namespaces, or no namespace and no default. Callers answer it with 403.
type Refusal struct {
	Label    string
	Problems []string // at most maxListed
	Total    int
}

func (r *Refusal) Error() string {
	more := ""
	if r.Total > len(r.Problems) {
		more = fmt.Sprintf(" (and %d more)", r.Total-len(r.Problems))
	}
	return fmt.Sprintf("remote write refused, nothing was written: %d series are outside your namespaces on label %q: %s%s",
		r.Total, r.Label, strings.Join(r.Problems, "; "), more)
}

// Result is a checked request, ready to forward.
type Result struct {
	// Block is the request re-encoded, snappy-compressed, as a remote
	// write 1.0 WriteRequest whatever the version received.
	Block []byte
	// Series and Metadata count what it holds; with neither, there is
	// nothing to forward.
	Series, Metadata int
	// Samples, Histograms and Exemplars count what it writes, which a
	// remote write 2.0 sender is told in the answer's headers.
	Samples, Histograms, Exemplars int
}

// Version is a remote-write protocol version Tollgate reads.
type Version int

// Versions.
const (
	V1 Version = 1 // prometheus.WriteRequest
	V2 Version = 2 // io.prometheus.write.v2.Request
)

// Rewrite checks a snappy-compressed WriteRequest written by a and returns
// the request to forward. The decoded length the block states is checked
// before anything is allocated for it. Every series' label must be one of
// the writer's namespaces (for admins, any); a series without it gets the
// writer's default namespace; exemplars may carry the label only with
// their series' value. Metadata carries no labels and cannot be confined,
// so a tenant's is dropped; admins' passes. Any offence refuses the whole
// request (*Refusal); limits give *ingest.LimitError; anything malformed
// another error.
//
// A remote write 2.0 request is read the same way and forwarded as 1.0
// (its labels resolved from its symbols), which every receiver accepts;
// its per-series metadata and start timestamps are dropped.
func Rewrite(block []byte, v Version, label string, a tenancy.Access, lim Limits) (*Result, error) {
	raw, err := ingest.DecodeSnappy(block, lim.Decompressed)
	if err != nil {
		return nil, err
	}
	def, hasDef := a.DefaultNamespace()
	rw := &rewriter{
		label: label, lim: lim, ref: Refusal{Label: label},
		scope: writerScope{a: a, def: def, hasDef: hasDef, seen: map[string]bool{}, names: map[string]string{}},
		raw:   raw,
	}
	if a.ClusterConfined() {
		rw.cluster = a.Clusters.Label()
		if cs := a.Clusters.Namespaces(); len(cs) == 1 {
			rw.clusterDef = cs[0]
		}
	}
	read := rw.request
	if v == V2 {
		read = rw.requestV2
	}
	if err := read(raw); err != nil {
		return nil, err
	}
	if rw.ref.Total > 0 {
		return nil, &rw.ref
	}
	// Most often every series was plain and nothing was dropped: what
	// would be sent is what came, and so is its compressed form.
	out := block
	switch {
	case rw.out != nil:
		out = snappy.Encode(nil, rw.out)
	case rw.same < len(raw):
		out = snappy.Encode(nil, raw[:rw.same])
	}
	return &Result{Block: out, Series: int(rw.series), Metadata: rw.metadata,
		Samples: rw.kinds[0], Histograms: rw.kinds[1], Exemplars: rw.kinds[2]}, nil
}

// writerScope is the writer's access and what it has been found to allow
// in this request: a request's series share a few namespaces, whose glob
// match is computed once.
type writerScope struct {
	a      tenancy.Access
	def    string
	hasDef bool
	seen   map[string]bool
	names  map[string]string
}

// maxCachedNamespaces bounds the per-request cache of namespace checks.
const maxCachedNamespaces = 1024

// intern returns a namespace as a string, without allocating for one
// already seen in this request.
func (w *writerScope) intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := w.names[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(w.names) < maxCachedNamespaces {
		w.names[s] = s
	}
	return s
}

func (w *writerScope) matches(ns string) bool {
	ok, known := w.seen[ns]
	if !known {
		ok = w.a.Scope.Matches(ns)
		if len(w.seen) < maxCachedNamespaces {
			w.seen[ns] = ok
		}
	}
	return ok
}

// problem says what is wrong with a series' namespace (ns, given n times),
// or "" when the writer may write it; it fills in the default namespace.
func (w *writerScope) problem(ns *string, n int, label string, name func() string) string {
	switch {
	case n > 1:
		return fmt.Sprintf("%s has label %q %d times", name(), label, n)
	case n == 1 && !w.a.Admin && !w.matches(*ns):
		return fmt.Sprintf("%s is in %s %q", name(), label, *ns)
	case n == 1:
		return ""
	case w.hasDef:
		*ns = w.def
		return ""
	case w.a.Admin:
		// Admins write platform series, which belong to no tenant.
		return ""
	}
	return fmt.Sprintf("%s has no %s and you have no default_namespace", name(), label)
}
