//go:build !race

package storetest

// RaceEnabled reports whether the race detector is on; large tests skip
// then (modernc SQLite runs about 30 times slower under it).
const RaceEnabled = false
