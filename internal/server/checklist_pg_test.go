package server_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/postgres/pgtest"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// pgStore opens a store on a schema of its own in KAKAOAUTH_TEST_POSTGRES_URL (skipped when
// unset, failed under CI), dropped when t ends; it returns the store and the schema's name.
func pgStore(t *testing.T) (app.Store, string, string) {
	t.Helper()
	dbURL, schema := pgtest.Schema(t)
	st, err := app.OpenStore(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	return st, dbURL, schema
}

// TestChecklist_095_TokensAtRestPostgreSQL is case 95 on PostgreSQL: every row of every table,
// as text, holds none of the flows' secrets.
func TestChecklist_095_TokensAtRestPostgreSQL(t *testing.T) {
	st, dbURL, schema := pgStore(t)
	s := servertest.Start(t, func(o *servertest.Options) { o.Store = st })
	tokensAtRest(t, s, func() []byte {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, schema)
		if err != nil {
			t.Fatal(err)
		}
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(tables) < 4 {
			t.Fatalf("tables of %s: %v %v", schema, tables, err)
		}
		var all []byte
		for _, tbl := range tables {
			var text string
			q := `SELECT coalesce(string_agg(x::text, E'\n'), '') FROM ` + pgx.Identifier{schema, tbl}.Sanitize() + ` x`
			if err := conn.QueryRow(ctx, q).Scan(&text); err != nil {
				t.Fatalf("dump %s: %v", tbl, err)
			}
			all = append(all, text...)
		}
		return all
	})
}

// TestChecklist_062_063_064_EmailNeverLinksPostgreSQL is cases 62–64 on PostgreSQL.
func TestChecklist_062_063_064_EmailNeverLinksPostgreSQL(t *testing.T) {
	st, _, _ := pgStore(t)
	emailNeverLinks(t, servertest.Start(t, func(o *servertest.Options) { o.Store = st }))
}
