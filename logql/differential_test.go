package logql_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/tollgate-dev/tollgate/internal/testkit/testenv"
	"github.com/tollgate-dev/tollgate/logql"
	"github.com/tollgate-dev/tollgate/logqlenforce"
	"github.com/tollgate-dev/tollgate/querybounds"
)

// corpusQuery is one query of testdata/corpus.logql.
type corpusQuery struct {
	text string
	line int
	// refuse marks a query Tollgate refuses on purpose although Loki
	// accepts it, because Loki reads it in a way nobody writes on purpose.
	refuse bool
}

// readCorpus reads testdata/corpus.logql: one query a line; a query over
// several lines between a line ">>>" and a line "<<<"; a line beginning
// with "!" is a query Tollgate refuses on purpose; lines beginning with
// ";;" and blank lines are comments.
func readCorpus(t testing.TB) []corpusQuery {
	t.Helper()
	f, err := os.Open("testdata/corpus.logql")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusQuery
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var block []string
	inBlock, start := false, 0
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case inBlock && line == "<<<":
			out = append(out, corpusQuery{text: strings.Join(block, "\n"), line: start})
			inBlock, block = false, nil
		case inBlock:
			block = append(block, line)
		case line == ">>>":
			inBlock, start = true, n
		case strings.TrimSpace(line) == "" || strings.HasPrefix(line, ";;"):
		case strings.HasPrefix(line, "!"):
			out = append(out, corpusQuery{text: line[1:], line: n, refuse: true})
		default:
			out = append(out, corpusQuery{text: line, line: n})
		}
	}
	if err := sc.Err(); err != nil || inBlock {
		t.Fatalf("reading the corpus: %v (unterminated block: %v)", err, inBlock)
	}
	return out
}

// lokiFormat asks Loki's format_query to parse and print q. It returns
// Loki's print, or ok=false and Loki's error.
func lokiFormat(t *testing.T, base, q string) (printed string, ok bool, lokiErr string) {
	t.Helper()
	resp, err := http.Get(base + "/loki/api/v1/format_query?" + url.Values{"query": {q}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r struct {
		Status string `json:"status"`
		Data   string `json:"data"`
		Error  string `json:"error"`
	}
	_ = json.Unmarshal(body, &r)
	if resp.StatusCode != http.StatusOK || r.Status != "success" {
		if r.Error == "" {
			r.Error = fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body)))
		}
		return "", false, r.Error
	}
	return r.Data, true, ""
}

const emptyMatchersRule = "queries require at least one regexp or equality matcher"

// TestDifferentialAgainstLoki holds the parser to a real Loki v3.7 with
// the queries of testdata/corpus.logql. For each query:
//
//   - if Loki accepts it, Tollgate accepts it, and Loki prints Tollgate's
//     print of it exactly as it prints the query: Tollgate read it as Loki
//     does. Loki also accepts the query confined to a tenant.
//   - if Loki refuses it, so does Tollgate, as an invalid query (400),
//     unless Loki refused it only for want of a matcher that does not
//     match the empty string ({app=~".*"}), which the tenant matcher
//     supplies: then Loki accepts the confined query.
//   - a query marked "!" is refused by Tollgate on purpose.
func TestDifferentialAgainstLoki(t *testing.T) {
	corpus := readCorpus(t)
	if len(corpus) < 500 {
		t.Fatalf("the corpus has %d queries; it should have at least 500", len(corpus))
	}
	loki := testenv.StartLoki(t)
	tenant := labels.MustNewMatcher(labels.MatchEqual, "namespace", "team-a")
	var identical, refusedByBoth, tenantOnly, onPurpose, onPurposeLokiAccepts int
	for _, q := range corpus {
		where := fmt.Sprintf("corpus line %d: %q", q.line, q.text)
		lokiPrint, lokiOK, lokiErr := lokiFormat(t, loki.URL, q.text)
		expr, err := logql.ParseExpr(q.text)
		switch {
		case q.refuse:
			if err == nil {
				t.Errorf("%s: marked as refused on purpose, but Tollgate accepts it as %s", where, expr)
				continue
			}
			onPurpose++
			if lokiOK {
				onPurposeLokiAccepts++
			}
		case lokiOK:
			if err != nil {
				t.Errorf("%s: Loki accepts it (%s), Tollgate refuses it: %v", where, lokiPrint, err)
				continue
			}
			mine := expr.String()
			again, ok, againErr := lokiFormat(t, loki.URL, mine)
			if !ok || again != lokiPrint {
				t.Errorf("%s: Tollgate prints %q, which Loki reads differently:\n  Loki, the query:     %s\n  Loki, Tollgate's:    %s %s", where, mine, lokiPrint, again, againErr)
				continue
			}
			confined, err := logqlenforce.Query(q.text, tenant)
			if err != nil {
				t.Errorf("%s: Tollgate cannot confine it: %v", where, err)
				continue
			}
			if _, ok, cErr := lokiFormat(t, loki.URL, confined); !ok {
				t.Errorf("%s: Loki refuses the confined %q: %s", where, confined, cErr)
				continue
			}
			identical++
		case err != nil:
			if !isInvalid(err) {
				t.Errorf("%s: Tollgate refuses it, but not as an invalid query: %v", where, err)
				continue
			}
			refusedByBoth++
		default:
			confined, cErr := logqlenforce.Query(q.text, tenant)
			_, ok, _ := lokiFormat(t, loki.URL, confined)
			if cErr != nil || !ok || !strings.Contains(lokiErr, emptyMatchersRule) {
				t.Errorf("%s: Loki refuses it (%s), Tollgate accepts it as %s", where, lokiErr, expr)
				continue
			}
			tenantOnly++
		}
	}
	t.Logf("%d queries: %d read identically by Loki and Tollgate; %d refused by both; %d refused by Loki only for want of a matcher the tenant matcher supplies; %d refused by Tollgate on purpose (%d of them accepted by Loki)",
		len(corpus), identical, refusedByBoth, tenantOnly, onPurpose, onPurposeLokiAccepts)
}

// isInvalid reports whether err is one the proxy answers with 400.
func isInvalid(err error) bool {
	return errors.Is(err, logql.ErrSyntax) || errors.Is(err, logql.ErrLokiLexCost) || errors.As(err, new(*querybounds.Exceeded))
}
