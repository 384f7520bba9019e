package buckets

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/slo/spec"
)

const specs = `version: prometheus/v1
service: api
slos:
  - name: fast
    objective: 99
    sli:
      latency: {metric: http_request_duration_seconds, selector: '{job="api"}', threshold: 0.3}
    alerting: {name: ApiFast}
`

// The checker asks for the `le` values of the SLI's own series with the
// configured token; a threshold off every finite boundary is an error
// naming them; a refusal names the SLO, the server and its error.
func TestCheckerAsksWithTheToken(t *testing.T) {
	var query, auth string
	status, body := 200, `{"status":"success","data":{"resultType":"vector","result":[
		{"metric":{"le":"0.1"},"value":[1,"3"]},{"metric":{"le":"0.25"},"value":[1,"3"]},{"metric":{"le":"+Inf"},"value":[1,"3"]}]}}`
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query, auth = r.FormValue("query"), r.Header.Get("Authorization")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	defer prom.Close()
	docs, ps := spec.Parse("api.yaml", []byte(specs))
	if len(ps.Errors()) > 0 {
		t.Fatal(ps)
	}
	slos := (&spec.Set{Documents: docs}).SLOs()
	u, _ := url.Parse(prom.URL)
	c := &Checker{URL: u, Token: "tollgate-token"}

	got, err := c.Check(context.Background(), slos)
	if err != nil || len(got) != 1 || !strings.Contains(got[0].Msg, "0.3 is not a bucket boundary") || !strings.Contains(got[0].Msg, "[0.1, 0.25]") {
		t.Fatalf("%v %v", got, err)
	}
	if query != `count by (le) (http_request_duration_seconds_bucket{job="api"})` || auth != "Bearer tollgate-token" {
		t.Errorf("asked %q with %q", query, auth)
	}

	status, body = 403, `{"status":"error","errorType":"forbidden","error":"no tenant"}`
	_, err = c.Check(context.Background(), slos)
	want := "SLO api-fast: asking " + prom.URL + " for the buckets of http_request_duration_seconds: Prometheus answered 403 Forbidden: forbidden: no tenant"
	if err == nil || err.Error() != want {
		t.Errorf("error\n got %v\nwant %s", err, want)
	}
}
