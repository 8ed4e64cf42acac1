// Package migrate reads the SQL migrations that a store embeds. Each store (internal/sqlite,
// internal/postgres) keeps its own files and applies them in its own transactions, recording
// each version in its schema_migrations table; what they share, and what this package says once,
// is which files are migrations, what their versions are and in which order they apply.
package migrate

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// Dir is the directory of a store's embedded file system that holds its migrations.
const Dir = "migrations"

// Migration is one schema change.
type Migration struct {
	Version string // the file name without ".sql", as schema_migrations records it
	SQL     string // the file's statements
}

// List returns the migrations of fsys: every *.sql file in Dir, in file-name order, which is the
// order in which they apply.
func List(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, Dir+"/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	out := make([]Migration, 0, len(names))
	for _, name := range names {
		version := strings.TrimSuffix(strings.TrimPrefix(name, Dir+"/"), ".sql")
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", version, err)
		}
		out = append(out, Migration{Version: version, SQL: string(body)})
	}
	return out, nil
}
