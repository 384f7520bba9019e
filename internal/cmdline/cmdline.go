// Package cmdline writes a command's flags and arguments back out as a
// command line for a POSIX shell, so that a message can tell the user the
// exact command to run.
package cmdline

import (
	"maps"
	"slices"
	"strings"

	"github.com/spf13/pflag"
)

// Line returns the words, then every flag set on fs (in the order fs
// visits them), then args, each quoted where a shell needs it. Running it
// sets the same flags to the same values.
func Line(words []string, fs *pflag.FlagSet, args []string) string {
	parts := slices.Clone(words)
	fs.Visit(func(fl *pflag.Flag) {
		parts = append(parts, flagWords(fs, fl)...)
	})
	for _, a := range args {
		parts = append(parts, Quote(a))
	}
	return strings.Join(parts, " ")
}

// flagWords are the words that set fl to its value.
func flagWords(fs *pflag.FlagSet, fl *pflag.Flag) []string {
	name := "--" + fl.Name
	var out []string
	if v, ok := fl.Value.(pflag.SliceValue); ok {
		for _, s := range v.GetSlice() {
			out = append(out, name, Quote(s))
		}
		return out
	}
	switch fl.Value.Type() {
	case "bool":
		if fl.Value.String() == "true" {
			return []string{name}
		}
		return []string{name + "=false"}
	case "stringToString":
		// String() is "[k=v,...]", which the flag does not read back:
		// one k=v per flag, in key order.
		m, _ := fs.GetStringToString(fl.Name)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			out = append(out, name, Quote(k+"="+m[k]))
		}
		return out
	}
	return []string{name, Quote(fl.Value.String())}
}

// Quote quotes a word for a POSIX shell when it needs it.
func Quote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
