package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/tollgate-dev/tollgate/internal/demo/synth"
	"github.com/tollgate-dev/tollgate/tenancy"
)

// Synthetic logs: every service of the cluster writes logfmt access-log
// lines into one stream per service, labelled cluster, namespace and
// service, in the Loki org of the tenant owning its namespace.

// lokiPush is Loki's JSON push format.
type lokiPush struct {
	Streams []lokiStream `json:"streams"`
}

type lokiStream struct {
	Stream map[string]string `json:"stream"`
	// Values are [Unix nanoseconds as a string, line] pairs.
	Values [][2]string `json:"values"`
}

// namespaceOrgs maps every namespace of the cluster to the Loki org ID of
// the tenant that owns it, and the others (kube-system, monitoring) to the
// platform org: the same split as the gateway's configuration, so that each
// tenant finds its logs in its org and nowhere else.
func namespaceOrgs(c synth.Cluster, tc tenancy.Config) (map[string]string, error) {
	t, err := tenancy.New(tc)
	if err != nil {
		return nil, fmt.Errorf("demo tenancy: %w", err)
	}
	out := make(map[string]string, len(c.Namespaces))
	for _, ns := range c.Namespaces {
		var orgs []string
		for _, tn := range t.Tenants() {
			if tn.Scope.Matches(ns.Name) && !slices.Contains(orgs, tn.LokiOrgID) {
				orgs = append(orgs, tn.LokiOrgID)
			}
		}
		switch len(orgs) {
		case 0:
			out[ns.Name] = platformOrg
		case 1:
			out[ns.Name] = orgs[0]
		default:
			// A push can go to one org only; the demo has no such overlap.
			return nil, fmt.Errorf("namespace %s belongs to several Loki orgs %v", ns.Name, orgs)
		}
	}
	return out, nil
}

// logLines returns the pushes, one per org, holding a line per service at
// each of times, moved by up to spread so that services do not all log at
// once. The lines depend only on the service and the time, so every run of
// the demo tells the same story.
func logLines(c synth.Cluster, orgs map[string]string, times []time.Time, spread time.Duration) map[string]*lokiPush {
	out := map[string]*lokiPush{}
	for _, ns := range c.Namespaces {
		org := orgs[ns.Name]
		p := out[org]
		if p == nil {
			p = &lokiPush{}
			out[org] = p
		}
		for _, svc := range ns.Services {
			s := lokiStream{Stream: map[string]string{"cluster": c.Name, "namespace": ns.Name, "service": svc}}
			for _, t := range times {
				ts, line := accessLog(ns.Name, svc, t, spread)
				s.Values = append(s.Values, [2]string{strconv.FormatInt(ts.UnixNano(), 10), line})
			}
			if len(s.Values) > 0 {
				p.Streams = append(p.Streams, s)
			}
		}
	}
	return out
}

// every returns the times from from (included) to to (excluded), step apart.
func every(from, to time.Time, step time.Duration) []time.Time {
	if step <= 0 {
		return nil
	}
	var out []time.Time
	for t := from; t.Before(to); t = t.Add(step) {
		out = append(out, t)
	}
	return out
}

// accessLog is the line a service writes at t, moved by up to spread.
func accessLog(namespace, service string, t time.Time, spread time.Duration) (time.Time, string) {
	h := fnv.New64a()
	_, _ = io.WriteString(h, namespace+"/"+service)
	r := rand.New(rand.NewPCG(h.Sum64(), uint64(t.UnixNano())))
	if spread > 0 {
		t = t.Add(time.Duration(r.Int64N(int64(spread))))
	}
	paths := servicePaths(service)
	path := paths[r.IntN(len(paths))]
	method := "GET"
	if r.IntN(4) == 0 {
		method = "POST"
	}
	// As in the synthetic metrics: 1% of requests fail with 500, 2% with
	// 404. Errors are slow, timeouts slower.
	var line string
	switch x := r.IntN(100); {
	case x == 0:
		line = fmt.Sprintf(`level=error service=%s method=%s path=%s status=500 duration_ms=%d error="upstream connect timeout"`, service, method, path, 1000+r.IntN(4000))
	case x < 3:
		line = fmt.Sprintf(`level=warn service=%s method=%s path=%s status=404 duration_ms=%d`, service, method, path, 1+r.IntN(10))
	default:
		line = fmt.Sprintf(`level=info service=%s method=%s path=%s status=200 duration_ms=%d`, service, method, path, 2+int(r.ExpFloat64()*40))
	}
	return t, line
}

// servicePaths are the routes a synthetic service answers on.
func servicePaths(service string) []string {
	switch service {
	case "payments-api":
		return []string{"/pay", "/refund", "/payments/status"}
	case "ledger":
		return []string{"/entries", "/balance"}
	case "checkout-web":
		return []string{"/checkout", "/checkout/confirm"}
	case "cart":
		return []string{"/cart", "/cart/items"}
	case "search-api":
		return []string{"/search", "/suggest"}
	case "indexer":
		return []string{"/index", "/reindex"}
	case "coredns":
		return []string{"/dns-query"}
	case "prometheus":
		return []string{"/api/v1/query", "/api/v1/query_range"}
	}
	return []string{"/"}
}

// pushLogs sends one org's streams to Loki directly, as an agent in the
// cluster would.
func pushLogs(ctx context.Context, client *http.Client, lokiURL, org string, p *lokiPush) error {
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encoding the push for org %s: %w", org, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, lokiURL+"/loki/api/v1/push", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building the push for org %s: %w", org, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Scope-OrgID", org)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("pushing logs of org %s: %w", org, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("pushing logs of org %s: Loki answered %s: %s", org, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}
