package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestBatch_FailureIsolated: operations queued behind a busy writer share one transaction; one
// that fails after writing leaves nothing behind, and the others still commit.
func TestBatch_FailureIsolated(t *testing.T) {
	db, _ := openTemp(t)
	ctx := context.Background()
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE scratch (x INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	insert := func(x int, fail bool) error {
		return db.batch(ctx, func(ctx context.Context, tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO scratch (x) VALUES (?)`, x); err != nil {
				return err
			}
			if fail {
				return errors.New("boom after writing")
			}
			return nil
		})
	}
	// Hold the writer so that the next operations queue up and run as one batch.
	release := make(chan struct{})
	busy := make(chan error, 1)
	go func() {
		busy <- db.batch(ctx, func(ctx context.Context, tx *sql.Tx) error { <-release; return nil })
	}()
	time.Sleep(20 * time.Millisecond)
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = insert(i, i == 4) }()
	}
	time.Sleep(50 * time.Millisecond) // all ten are queued behind the busy one
	close(release)
	wg.Wait()
	if err := <-busy; err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if (i == 4) != (err != nil) {
			t.Errorf("op %d: err = %v", i, err)
		}
	}
	var n, bad int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE x = 4) FROM scratch`).Scan(&n, &bad); err != nil {
		t.Fatal(err)
	}
	if n != 9 || bad != 0 {
		t.Fatalf("rows = %d (failed op's row present: %d), want 9 and 0", n, bad)
	}
}

// TestBatch_AfterClose: a write after Close fails cleanly instead of hanging.
func TestBatch_AfterClose(t *testing.T) {
	db, _ := openTemp(t)
	db.Close()
	err := db.batch(context.Background(), func(ctx context.Context, tx *sql.Tx) error { return nil })
	if !errors.Is(err, errClosed) {
		t.Fatalf("err = %v, want errClosed", err)
	}
}
