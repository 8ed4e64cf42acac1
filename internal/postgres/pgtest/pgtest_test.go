package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// A schema of its own exists for the test, is the search path of the URL, and is gone after the
// test that asked for it.
func TestSchema(t *testing.T) {
	var name string
	t.Run("inner", func(t *testing.T) {
		dbURL, schema := Schema(t)
		name = schema
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var current string
		if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&current); err != nil || current != schema {
			t.Fatalf("current_schema() = %q, %v; want %q", current, err, schema)
		}
	})
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, name).Scan(&n); err != nil || n != 0 {
		t.Fatalf("schema %s still there after its test (%d, %v)", name, n, err)
	}
}
