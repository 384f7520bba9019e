package source

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// docs/cost.md promises to list every query the engine sends.
func TestQueriesAreDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "cost.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range Queries(time.Hour) {
		if !strings.Contains(string(doc), "\n"+q.PromQL+"\n") {
			t.Errorf("docs/cost.md does not list the %s query:\n%s", q.Name, q.PromQL)
		}
	}
}

func TestSubqueryStep(t *testing.T) {
	for res, want := range map[time.Duration]string{5 * time.Minute: "[5m:1m]", time.Hour: "[1h:5m]", 15 * time.Minute: "[15m:1m]"} {
		if q := Queries(res)[1].PromQL; !strings.Contains(q, want) {
			t.Errorf("resolution %s: %s lacks %s", res, q, want)
		}
	}
}
