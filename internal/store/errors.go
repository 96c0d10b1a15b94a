package store

import "errors"

// Sentinel errors every implementation returns (wrapped with context).
var (
	// ErrNotFound: the object does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the object already exists (unique key taken).
	ErrConflict = errors.New("already exists")
)
