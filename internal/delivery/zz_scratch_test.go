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
	for _, q := range []string{"EXPLAIN QUERY PLAN SELECT count(*), string_agg(CASE WHEN m.receive_own_postings AND m.receive_list_copy THEN a.email ELSE 'x' || a.email END, 'y') FROM members m JOIN addresses a ON a.id = m.address_id WHERE m.list_id = 2 AND m.role = 'member' AND m.delivery_status = 'enabled' AND m.delivery_mode = 'regular' AND m.id > 5 AND m.id <= 40000", "EXPLAIN QUERY PLAN SELECT min(id), max(id) FROM members WHERE list_id = 2 AND role = 'member'"} {
		rows, _ := db.R.QueryContext(ctx, q)
		for rows.Next() {
			var a, b, c int
			var d string
			rows.Scan(&a, &b, &c, &d)
			fmt.Println(d)
		}
		rows.Close()
	}
	for range 4 {
		t := time.Now()
		c0 := cpu()
		n := 0
		err := db.EachRecipient(ctx, l.ID, false, func(r *store.Recipient) error { n++; return nil })
		fmt.Println("EachRecipient", n, err, time.Since(t), cpu()-c0)
		t = time.Now()
		c0 = cpu()
		var lo, hi int64
		db.R.QueryRowContext(ctx, `SELECT min(address_id), max(address_id) FROM members m WHERE list_id = ? AND role = 'member' AND delivery_status = 'enabled' AND delivery_mode = 'regular'`, l.ID).Scan(&lo, &hi)
		tot := 0
		for from := lo - 1; from < hi; from += 32768 {
			var cnt int
			var agg *string
			err := db.R.QueryRowContext(ctx, `SELECT count(*), string_agg(CASE WHEN m.receive_own_postings AND m.receive_list_copy THEN a.email ELSE ? || (CASE WHEN m.receive_own_postings THEN '1' ELSE '0' END) || (CASE WHEN m.receive_list_copy THEN '1' ELSE '0' END) || a.email END, ?) FROM members m JOIN addresses a ON a.id = m.address_id WHERE m.list_id = ? AND m.role = 'member' AND m.delivery_status = 'enabled' AND m.delivery_mode = 'regular' AND m.address_id > ? AND m.address_id <= ?`, "\t", "\n", l.ID, from, from+32768).Scan(&cnt, &agg)
			if err != nil {
				panic(err)
			}
			tot += cnt
		}
		fmt.Println("by address", tot, time.Since(t), cpu()-c0)
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
