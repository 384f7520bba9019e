package udiff_test

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/udiff"
)

// Applying the diff to the old text gives the new one, for random edits of
// a rule-file-like text with many repeated lines.
func TestDiffApplies(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	base := make([]string, 300)
	for i := range base {
		base[i] = fmt.Sprintf("line %d: %s\n", i, strings.Repeat("x", i%7))
		if i%5 == 0 {
			base[i] = "  labels:\n" // repeated lines make the alignment ambiguous
		}
	}
	for round := 0; round < 60; round++ {
		b := append([]string(nil), base...)
		for e := 0; e < rng.IntN(12); e++ {
			p := rng.IntN(len(b) + 1)
			switch rng.IntN(3) {
			case 0:
				b = append(b[:p], append([]string{fmt.Sprintf("new %d\n", e)}, b[p:]...)...)
			case 1:
				if p < len(b) {
					b = append(b[:p], b[p+1:]...)
				}
			default:
				if p < len(b) {
					b[p] = fmt.Sprintf("changed %d\n", e)
				}
			}
		}
		if round%10 == 9 {
			b = b[:len(b)-1]
			b = append(b, "no newline at the end")
		}
		oldText, newText := strings.Join(base, ""), strings.Join(b, "")
		d := udiff.Diff("a", "b", []byte(oldText), []byte(newText))
		if (d == "") != (oldText == newText) {
			t.Fatalf("round %d: empty diff %v for different texts", round, d == "")
		}
		if d == "" {
			continue
		}
		if got := apply(t, oldText, d); got != newText {
			t.Fatalf("round %d: patched text differs\n%s", round, d)
		}
	}
}

func TestDiffShape(t *testing.T) {
	a := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n"
	b := "a\nb\nc\nD\ne\nf\ng\nh\ni\nj\nk\n"
	want := "--- old\n+++ new\n@@ -1,10 +1,11 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n h\n i\n j\n+k\n"
	if got := udiff.Diff("old", "new", []byte(a), []byte(b)); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := udiff.Diff("old", "new", nil, []byte("x\n")); got != "--- old\n+++ new\n@@ -0,0 +1 @@\n+x\n" {
		t.Errorf("from nothing:\n%s", got)
	}
}

// apply applies a unified diff as patch(1) would, checking every context
// and deleted line against the old text.
func apply(t *testing.T, old, diff string) string {
	t.Helper()
	src := strings.SplitAfter(old, "\n")
	if src[len(src)-1] == "" {
		src = src[:len(src)-1]
	}
	var out []string
	pos := 0
	ls := strings.SplitAfter(diff, "\n")
	for i := 2; i < len(ls) && ls[i] != ""; i++ {
		l := ls[i]
		if strings.HasPrefix(l, "@@") {
			f := strings.Fields(l)
			start, _, _ := strings.Cut(strings.TrimPrefix(f[1], "-"), ",")
			n, err := strconv.Atoi(start)
			if err != nil {
				t.Fatalf("bad hunk header %q", l)
			}
			if !strings.Contains(f[1], ",0") {
				n-- // 1-based, except for an empty range
			}
			out = append(out, src[pos:n]...)
			pos = n
			continue
		}
		text := l[1:]
		if strings.HasPrefix(l, "\\") {
			// "\ No newline at end of file" ends the previous line.
			last := len(out) - 1
			if l[0] == '\\' && last >= 0 {
				out[last] = strings.TrimSuffix(out[last], "\n")
			}
			continue
		}
		switch l[0] {
		case ' ', '-':
			if pos >= len(src) || strings.TrimSuffix(src[pos], "\n") != strings.TrimSuffix(text, "\n") {
				t.Fatalf("context or deletion %q does not match line %d %q", text, pos+1, src[min(pos, len(src)-1)])
			}
			if l[0] == ' ' {
				out = append(out, src[pos])
			}
			pos++
		case '+':
			out = append(out, text)
		}
	}
	out = append(out, src[pos:]...)
	return strings.Join(out, "")
}
