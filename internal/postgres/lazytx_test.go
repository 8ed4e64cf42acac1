package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestLazyTx: the BEGIN that travels with the first statement makes a real transaction: what
// fn wrote is gone when it fails (after a write, after a failed first statement, after a failed
// batch), is kept when it succeeds, and the connection is usable afterwards (the pool has one).
func TestLazyTx(t *testing.T) {
	u := freshSchema(t)
	db, err := Open(context.Background(), u, Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	now := time.Now()
	insert := `INSERT INTO users (id, created_at, updated_at, last_login_at) VALUES ($1, $2, $2, $2)`
	count := func() int {
		var n int
		if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	boom := errors.New("boom")
	cases := []struct {
		name string
		fn   func(tx pgx.Tx) error
	}{
		{"write then fail", func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, insert, "u1", now); err != nil {
				return err
			}
			return boom
		}},
		{"first statement fails", func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO nowhere VALUES (1)`)
			return err
		}},
		{"first batch fails after a write", func(tx pgx.Tx) error {
			b := &pgx.Batch{}
			b.Queue(insert, "u2", now)
			b.Queue(insert, "u2", now) // duplicate key
			return tx.SendBatch(ctx, b).Close()
		}},
		{"no row then fail", func(tx pgx.Tx) error {
			var id string
			err := tx.QueryRow(ctx, `SELECT id FROM users WHERE id = $1`, "none").Scan(&id)
			if !errors.Is(err, pgx.ErrNoRows) {
				t.Errorf("QueryRow of nothing: %v, want ErrNoRows", err)
			}
			if _, err := tx.Exec(ctx, insert, "u3", now); err != nil {
				return err
			}
			return boom
		}},
	}
	for _, tc := range cases {
		if err := db.beginFunc(ctx, tc.fn); err == nil {
			t.Fatalf("%s: no error", tc.name)
		}
		if n := count(); n != 0 {
			t.Fatalf("%s: %d users stored, want none (rolled back)", tc.name, n)
		}
	}
	err = db.beginFunc(ctx, func(tx pgx.Tx) error {
		var id string
		if err := tx.QueryRow(ctx, insert+` RETURNING id`, "u4", now).Scan(&id); err != nil || id != "u4" {
			return errors.Join(err, errors.New("returning "+id))
		}
		_, err := tx.Exec(ctx, insert, "u5", now)
		return err
	})
	if err != nil || count() != 2 {
		t.Fatalf("committed transaction: %v, %d users; want 2", err, count())
	}
	if err := db.beginFunc(ctx, func(pgx.Tx) error { return nil }); err != nil {
		t.Fatalf("an empty transaction: %v", err)
	}
}
