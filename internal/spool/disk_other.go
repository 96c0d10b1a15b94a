//go:build !linux

package spool

// freeBytes is not implemented off Linux: -1 means unknown, and only
// ENOSPC/EDQUOT from writes signal a full disk there.
func freeBytes(string) (int64, error) { return -1, nil }
