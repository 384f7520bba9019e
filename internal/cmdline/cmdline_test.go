package cmdline

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

type flags struct {
	out    string
	on     bool
	off    bool
	labels map[string]string
	files  []string
	unset  string
}

func register(f *flags) *pflag.FlagSet {
	fs := pflag.NewFlagSet("generate", pflag.ContinueOnError)
	fs.StringVar(&f.out, "out", "", "")
	fs.BoolVar(&f.on, "on", false, "")
	fs.BoolVar(&f.off, "off", true, "")
	fs.StringToStringVar(&f.labels, "label", nil, "")
	fs.StringArrayVar(&f.files, "windows", nil, "")
	fs.StringVar(&f.unset, "unset", "default", "")
	return fs
}

// The line, run through a shell, sets every flag the command was given to
// the same value, quotes and spaces included, and leaves the others alone.
func TestLineRoundTripsThroughAShell(t *testing.T) {
	var given flags
	fs := register(&given)
	args := []string{"--out", "rules/it's here.yml", "--on", "--off=false", "--label", "tier=1", "--label", "team=a b",
		"--windows", "w/7d.yaml", "--windows", "$HOME", "specs dir/", "plain"}
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	line := Line([]string{"tollgate", "slo", "generate"}, fs, fs.Args())
	if !strings.HasPrefix(line, "tollgate slo generate --label 'team=a b' --label tier=1 --off=false --on --out 'rules/it'\\''s here.yml'") {
		t.Errorf("line %s", line)
	}
	// sh splits the line as a user's shell would; printf gives one word a line.
	words, err := exec.Command("sh", "-c", `eval "set -- $1"; printf '%s\n' "$@"`, "sh", line).Output()
	if err != nil {
		t.Fatal(err)
	}
	split := strings.Split(strings.TrimSuffix(string(words), "\n"), "\n")
	if strings.Join(split[:3], " ") != "tollgate slo generate" {
		t.Fatalf("words %q", split)
	}
	var again flags
	fs2 := register(&again)
	if err := fs2.Parse(split[3:]); err != nil {
		t.Fatal(err)
	}
	if again.out != given.out || again.on != given.on || again.off != given.off || again.unset != "default" ||
		strings.Join(again.files, "|") != "w/7d.yaml|$HOME" || len(again.labels) != 2 || again.labels["team"] != "a b" ||
		strings.Join(fs2.Args(), "|") != "specs dir/|plain" {
		t.Errorf("the line sets %+v %q, want %+v %q", again, fs2.Args(), given, fs.Args())
	}
}
