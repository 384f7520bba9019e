package yamlcheck

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Files lists the YAML files a command-line argument names: the file
// itself, or every .yaml and .yml file under a directory, in lexical order.
// Entries whose names start with a dot are skipped (.git, editor backups):
// CI checkouts carry them, and they are never specs. what names the files
// in errors ("SLO specs", "alert windows").
func Files(path, what string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	var out []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != path && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the %s directory %s: %w", what, path, err)
	}
	return out, nil
}
