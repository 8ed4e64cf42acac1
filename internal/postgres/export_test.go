package postgres

import (
	"context"
	"testing"
)

// FreshSchema is freshSchema for the external tests of this package.
func FreshSchema(t testing.TB) string { return freshSchema(t) }

// HoldAllConns takes every connection of db's pool until release is called (checklist case 94).
func HoldAllConns(t testing.TB, db *DB) (release func()) {
	t.Helper()
	var held []func()
	for range db.pool.Config().MaxConns {
		c, err := db.pool.Acquire(context.Background())
		if err != nil {
			t.Fatalf("acquire: %v", err)
		}
		held = append(held, c.Release)
	}
	return func() {
		for _, r := range held {
			r()
		}
	}
}
