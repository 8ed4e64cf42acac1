package postgres

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// TestInTx_091_ExhaustedRetriesAreConflict: a transaction that meets a serialization failure or
// a deadlock every time is tried maxAttempts times and then reported as auth.ErrConflict (the
// service answers 409 retryable), never as an outage; other errors are not retried.
func TestInTx_091_ExhaustedRetriesAreConflict(t *testing.T) {
	db := open(t, freshSchema(t))
	for _, code := range []string{codeSerializationFailure, codeDeadlockDetected} {
		attempts := 0
		err := db.inTx(context.Background(), func(tx pgx.Tx) error {
			attempts++
			return &pgconn.PgError{Code: code}
		})
		if !errors.Is(err, auth.ErrConflict) {
			t.Fatalf("%s every time: err = %v, want ErrConflict", code, err)
		}
		if attempts != maxAttempts {
			t.Fatalf("%s every time: %d attempts, want %d", code, attempts, maxAttempts)
		}
	}
	attempts := 0
	err := db.inTx(context.Background(), func(tx pgx.Tx) error {
		attempts++
		if attempts < 3 {
			return &pgconn.PgError{Code: codeSerializationFailure}
		}
		return nil
	})
	if err != nil || attempts != 3 {
		t.Fatalf("two failures then success: err %v after %d attempts", err, attempts)
	}
	other := errors.New("boom")
	attempts = 0
	err = db.inTx(context.Background(), func(tx pgx.Tx) error { attempts++; return other })
	if !errors.Is(err, other) || errors.Is(err, auth.ErrConflict) || attempts != 1 {
		t.Fatalf("another error: %v after %d attempts", err, attempts)
	}
}
