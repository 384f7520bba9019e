package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/testkit/testenv"
)

// signedIn stands in for the auth proxy (oauth2-proxy) in front of the
// gateway: it sets the identity headers of one user on every request the
// browser sends, from 127.0.0.1, which the gateway trusts.
func signedIn(t *testing.T, gateway, user, groups string) string {
	t.Helper()
	target, err := url.Parse(gateway)
	if err != nil {
		t.Fatal(err)
	}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = target.Host
		r.Out.Header.Set("X-Forwarded-User", user)
		r.Out.Header.Set("X-Forwarded-Groups", groups)
	}}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return srv.URL
}

// The chargeback page in a real headless Chromium, for the payments
// tenant: the chart is drawn, the table lists payments' cost center and
// nothing of checkout's, and the CSV download arrives with payments'
// figures only. The screenshot stays in the test's temporary directory
// (kept with -test.v and TOLLGATE_KEEP_SCREENSHOT=dir).
func TestChargebackPageInChromium(t *testing.T) {
	s := startStack(t)
	browser := testenv.StartChromium(t)
	base := signedIn(t, s.gateway, "alice", "team-payments")

	browser.Navigate(base + "/ui/chargeback?window=" + url.QueryEscape(s.week()))
	var page struct {
		Rendered string   `json:"rendered"`
		Datasets string   `json:"datasets"`
		Painted  string   `json:"painted"`
		Who      string   `json:"who"`
		Rows     []string `json:"rows"`
		Labels   int      `json:"labels"`
		Error    string   `json:"error"`
	}
	browser.Eval(`(() => {
		const c = document.getElementById("chart");
		const err = document.getElementById("error");
		return {
			rendered: c ? c.dataset.rendered || "" : "",
			datasets: c ? c.dataset.datasets || "" : "",
			painted: c ? c.dataset.painted || "" : "",
			who: document.getElementById("who").textContent,
			rows: Array.from(document.querySelectorAll("#allocations tbody tr")).map(r => Array.from(r.cells).map(c => c.textContent).join("|")),
			labels: JSON.parse(document.getElementById("chart-data").textContent).labels.length,
			error: err ? err.textContent : "",
		};
	})()`, &page)
	shot := filepath.Join(t.TempDir(), "chargeback-payments.png")
	browser.Screenshot(shot)
	if dir := os.Getenv("TOLLGATE_KEEP_SCREENSHOT"); dir != "" {
		b, _ := os.ReadFile(shot)
		_ = os.WriteFile(filepath.Join(dir, "chargeback-payments.png"), b, 0o644)
	}
	if st, err := os.Stat(shot); err != nil || st.Size() < 10_000 {
		t.Errorf("screenshot %s: %v", shot, err)
	}
	t.Logf("screenshot: %s", shot)
	if page.Error != "" {
		t.Fatalf("the page shows an error: %s", page.Error)
	}
	if page.Rendered != "true" || page.Datasets != "1" || page.Painted == "" || page.Painted == "0" {
		t.Errorf("chart not drawn: rendered %q, %q datasets, %q painted pixels", page.Rendered, page.Datasets, page.Painted)
	}
	if page.Labels != 7 {
		t.Errorf("%d bars, want one per day of the week", page.Labels)
	}
	if !strings.Contains(page.Who, "payments") {
		t.Errorf("the page does not say who is looking: %q", page.Who)
	}
	// Payments' cost center with idle and kube-system shared (the page's
	// defaults): .09432 + (.02136 + .10)·.09432/.17064 per hour.
	want := (.09432 + (.02136+.1)*.09432/.17064) * weekHours
	if len(page.Rows) != 1 || !strings.HasPrefix(page.Rows[0], "CC-4521|") || !strings.Contains(page.Rows[0], "|"+money(want)+"|") {
		t.Errorf("table rows %q, want CC-4521 only with total %s", page.Rows, money(want))
	}

	// The CSV download, as a click.
	browser.Eval(`document.getElementById("download-csv").click()`, nil)
	file := browser.WaitDownload(60 * time.Second)
	csv, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(csv), "windowStart,") || !strings.Contains(string(csv), ",CC-4521,") || strings.Contains(string(csv), "CC-4522") || strings.Contains(string(csv), "checkout") {
		t.Errorf("downloaded CSV:\n%s", csv)
	}

	// Without the auth proxy, the page is refused like any query.
	resp, err := http.Get(s.gateway + "/ui/chargeback")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/ui/chargeback without identity: %d, want 401", resp.StatusCode)
	}
}

func money(x float64) string { return fmt.Sprintf("%.2f", x) }
