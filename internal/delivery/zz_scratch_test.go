//go:build scratch

package delivery_test

import (
	"syscall"
	"os"
	"testing"
	"context"
	"fmt"
	"time"

	"herald/internal/store"
	"herald/internal/store/sqlite"
)

func TestScratchQuery(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, os.Getenv("SCRATCH_DB"))
	if err != nil {
		panic(err)
	}
	l, err := db.GetList(ctx, "bench100000", "lists.example.org")
	if err != nil {
		panic(err)
	}
	for _, q := range []string{os.Getenv("SCRATCH_PRE")} {
		if q != "" {
			if _, err := db.W.ExecContext(ctx, q); err != nil {
				panic(err)
			}
		}
	}
	for _, q := range []string{"EXPLAIN QUERY PLAN SELECT a.email, m.receive_own_postings, m.receive_list_copy FROM members m JOIN addresses a ON a.id = m.address_id WHERE m.list_id = 2 AND m.role = 'member' AND m.delivery_status = 'enabled' AND m.delivery_mode = 'regular'"} {
		rows, _ := db.R.QueryContext(ctx, q)
		for rows.Next() {
			var a, b, c int
			var d string
			rows.Scan(&a, &b, &c, &d)
			fmt.Println(d)
		}
		rows.Close()
	}
	for range 3 {
		t := time.Now()
		c0 := cpu()
		n := 0
		db.EachMember(ctx, l.ID, store.RoleMember, func(m *store.Member) error { n++; return nil })
		fmt.Println("EachMember", n, time.Since(t), cpu()-c0)
		for _, q := range []string{
			`SELECT a.email, m.receive_own_postings, m.receive_list_copy FROM members m JOIN addresses a ON a.id = m.address_id WHERE m.list_id = ? AND m.role = 'member' AND m.delivery_status = 'enabled' AND m.delivery_mode = 'regular'`,
			`SELECT a.email, m.receive_own_postings, m.receive_list_copy, m.display_name, m.token, m.language FROM members m JOIN addresses a ON a.id = m.address_id WHERE m.list_id = ? AND m.role = 'member' AND m.delivery_status = 'enabled' AND m.delivery_mode = 'regular'`,
			`SELECT a.email, m.receive_own_postings, m.receive_list_copy FROM members m JOIN addresses a ON a.id = m.address_id WHERE m.list_id = ? AND m.role = 'member' AND m.delivery_status = 'enabled' AND m.delivery_mode = 'regular' ORDER BY a.email`,
		} {
			t = time.Now()
			c0 = cpu()
			rows, err := db.R.QueryContext(ctx, q, l.ID)
			if err != nil {
				panic(err)
			}
			n = 0
			for rows.Next() {
				var e string
				var a, b bool
				if err := rows.Scan(append([]any{&e, &a, &b}, extra(q)...)...); err != nil {
					panic(err)
				}
				n++
			}
			rows.Close()
			fmt.Println("slim", n, time.Since(t), cpu()-c0)
		}
	}
}

func extra(q string) []any {
	if len(q) > 150 && q[len(q)-5:] != "email" && contains(q, "token") {
		var a, b, c string
		return []any{&a, &b, &c}
	}
	return nil
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
