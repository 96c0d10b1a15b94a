package post_test

import (
	"fmt"
	"testing"
)

// BenchmarkPostRunner measures the whole post runner (chain, handlers,
// store bookkeeping, spool forward) on SQLite, one worker, for a member's
// post and for an accepted nonmember's:
//
//	go test ./internal/post -run XXX -bench PostRunner
func BenchmarkPostRunner(b *testing.B) {
	for _, who := range []string{"alice@example.com", "load@example.com"} {
		b.Run(who, func(b *testing.B) {
			e := newEnv(b, nil)
			e.set("default_nonmember_action", "accept")
			for i := range b.N {
				e.enqueue(who, msg(who, list, fmt.Sprintf("post %d", i), "payload"), nil)
			}
			b.ResetTimer()
			if _, err := e.run.RunUntilEmpty(e.ctx); err != nil {
				b.Fatal(err)
			}
		})
	}
}
