package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"herald/internal/store"
)

// BenchmarkNumberPost numbers posts from 8 goroutines at once, as the
// post runner's workers do: ns/op is the store's cost per post, on a
// real file with synchronous=FULL (group commit shares the syncs).
func BenchmarkNumberPost(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "herald.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateDomain(ctx, store.Domain{Name: "example.org"}); err != nil {
		b.Fatal(err)
	}
	l := &store.List{Name: "dev", Domain: "example.org", Settings: store.DefaultSettings("dev")}
	if err := db.CreateList(ctx, l); err != nil {
		b.Fatal(err)
	}
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		n := 0
		for pb.Next() {
			n++
			if _, err := db.NumberPost(ctx, l.ID, fmt.Sprintf("poster%d@example.net", n%50), at); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
