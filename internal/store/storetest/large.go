package storetest

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"herald/internal/store"
)

// MaxWalkHeapGrowth is how much the heap may grow while EachMember walks
// a large list. Holding 100,000 members at once would take tens of MiB.
const MaxWalkHeapGrowth = 16 << 20

// WalkLarge walks the want members of listID (role member, loaded by the
// caller in bulk) and checks that they come sorted by email, all of
// them, and streamed: the heap may not grow by more than
// MaxWalkHeapGrowth. It logs the time and memory taken.
func WalkLarge(t *testing.T, s store.Store, listID int64, want int) {
	t.Helper()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak, allocBase := ms.HeapAlloc, ms.HeapAlloc, ms.TotalAlloc
	start := time.Now()
	n, prev := 0, ""
	err := s.EachMember(t.Context(), listID, store.RoleMember, func(m *store.Member) error {
		if m.Email <= prev {
			return fmt.Errorf("member %d: %q after %q: not sorted", n, m.Email, prev)
		}
		prev = m.Email
		n++
		if n%5000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
		return nil
	})
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Fatalf("walked %d members, want %d", n, want)
	}
	runtime.ReadMemStats(&ms)
	growth := int64(peak) - int64(base)
	t.Logf("EachMember over %d members: %v (%.0f members/s), peak heap growth %d KiB, %d MiB allocated in all",
		n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), growth>>10, (ms.TotalAlloc-allocBase)>>20)
	if growth > MaxWalkHeapGrowth {
		t.Errorf("heap grew by %d MiB during the walk: not streaming", growth>>20)
	}
}

// SkipLarge skips t in -short mode and under the race detector.
func SkipLarge(t *testing.T) {
	t.Helper()
	switch {
	case testing.Short():
		t.Skip("large test: skipped in -short mode")
	case RaceEnabled:
		t.Skip("large test: skipped under -race (run without it for the measurement)")
	}
}
