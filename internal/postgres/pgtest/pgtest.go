// Package pgtest gives tests a PostgreSQL schema of their own in the database named by
// KAKAOAUTH_TEST_POSTGRES_URL, so that tests of several packages can share one server at once.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// URL returns KAKAOAUTH_TEST_POSTGRES_URL. Without it the test is skipped, except under CI
// (CI set), which must provide a database: there the test fails.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("KAKAOAUTH_TEST_POSTGRES_URL")
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("KAKAOAUTH_TEST_POSTGRES_URL is not set; CI must provide a PostgreSQL database")
		}
		t.Skip("KAKAOAUTH_TEST_POSTGRES_URL is not set; skipping the PostgreSQL tests")
	}
	return u
}

// Schema creates an empty schema of its own for t (dropped with everything in it when t ends)
// and returns a database URL whose search_path selects it, and the schema's name.
func Schema(t testing.TB) (dbURL, schema string) {
	t.Helper()
	base := URL(t)
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatal("KAKAOAUTH_TEST_POSTGRES_URL must be a postgres:// URL")
	}
	b := make([]byte, 8)
	rand.Read(b)
	schema = "kakaoauth_test_" + hex.EncodeToString(b)
	exec := func(sql string) error {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema %s on %s: %v", schema, u.Redacted(), err)
	}
	t.Cleanup(func() {
		if err := exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), schema
}
