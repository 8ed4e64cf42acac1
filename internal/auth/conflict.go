package auth

import "errors"

// ErrConflict is returned (wrapped) by a Store whose transaction kept meeting concurrent
// changes of the same rows (PostgreSQL serialization failures or deadlocks) beyond its bounded
// retries. Nothing was written; the client may retry: the service answers 409 conflict with
// Retry-After, never a 503 that looks like an outage (checklist case 91).
var ErrConflict = errors.New("concurrent change conflicted after the retries")

// ErrPoolExhausted is returned (wrapped) by a Store's Ping while every database connection is
// in use, so that readiness says so (checklist case 94).
var ErrPoolExhausted = errors.New("database connection pool exhausted")
