//go:build !linux

package spool

import "os"

// freeBytes is not implemented off Linux: -1 means unknown, and only
// ENOSPC/EDQUOT from writes signal a full disk there.
func freeBytes(string) (int64, error) { return -1, nil }

// syncfsAvailable is false off Linux: SyncDefault means SyncFiles there.
const syncfsAvailable = false

// syncfs falls back to fsyncing f itself where syncfs(2) does not exist;
// SyncFS mode is then no stronger than a directory sync.
func syncfs(f *os.File) error { return f.Sync() }
