package cli

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"herald/internal/config"
	"herald/internal/spool"

	"github.com/spf13/cobra"
)

func (a *app) spoolCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "spool", Short: "inspect and repair the queues"}
	ls := &cobra.Command{
		Use: "ls [QUEUE]", Short: "count entries per queue, or list one queue with an age-by-list table", Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 1 && !slices.Contains(spool.Queues, args[0]) {
				return usageError{fmt.Errorf("queue %q is not one of %s", args[0], strings.Join(spool.Queues, ", "))}
			}
			return a.withSpool(func(_ *config.Config, sp *spool.Spool) error {
				if len(args) == 0 {
					return a.spoolCounts(sp)
				}
				return a.spoolList(sp, args[0])
			})
		},
	}
	show := &cobra.Command{
		Use: "show ID", Short: "show one entry: envelope and message", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return a.withSpool(func(_ *config.Config, sp *spool.Spool) error {
				e, err := sp.Get(args[0])
				if err != nil {
					return fmt.Errorf("spool entry %s: %w", args[0], err)
				}
				if a.json {
					return a.printJSON(map[string]any{"id": e.ID, "envelope": e.Envelope, "message": string(e.Message)})
				}
				a.printEnvelope(e)
				a.printf("\n%s\n", safeText(string(e.Message)))
				return nil
			})
		},
	}
	var all bool
	unshunt := &cobra.Command{
		Use: "unshunt [ID]", Short: "put shunted entries back into their queue", Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if (len(args) == 1) == all {
				return usageError{fmt.Errorf("give either an ID or --all")}
			}
			return a.withSpool(func(_ *config.Config, sp *spool.Spool) error { return a.unshunt(sp, args, all) })
		},
	}
	unshunt.Flags().BoolVar(&all, "all", false, "unshunt every entry")
	cmd.AddCommand(ls, show, unshunt)
	return cmd
}

// unshunt puts the given shunted entries, or all of them, back.
func (a *app) unshunt(sp *spool.Spool, ids []string, all bool) error {
	if all {
		es, err := sp.List(spool.Shunt)
		if err != nil {
			return fmt.Errorf("list shunt: %w", err)
		}
		ids = nil
		for _, e := range es {
			ids = append(ids, e.ID)
		}
	}
	for _, id := range ids {
		if err := sp.Unshunt(a.ctx, id); err != nil {
			return fmt.Errorf("unshunt %s: %w", id, err)
		}
	}
	return a.done(map[string]any{"unshunted": ids}, "unshunted %d entr%s\n", len(ids), plural(len(ids), "y", "ies"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func (a *app) spoolCounts(sp *spool.Spool) error {
	counts := sp.Counts()
	if a.json {
		return a.printJSON(map[string]any{"counts": counts})
	}
	for _, q := range spool.Queues {
		a.printf("%-8s %d\n", q, counts[q])
	}
	return nil
}

func (a *app) spoolList(sp *spool.Spool, q string) error {
	es, err := sp.List(q)
	if err != nil {
		return fmt.Errorf("list %s: %w", q, err)
	}
	sort.Slice(es, func(i, j int) bool { return es[i].ID < es[j].ID })
	if a.json {
		out := make([]map[string]any, 0, len(es))
		for _, e := range es {
			out = append(out, map[string]any{"id": e.ID, "queue": q, "list": e.Envelope.List + "@" + e.Envelope.Domain,
				"alias": e.Envelope.Alias, "sender": e.Envelope.Sender, "recipients": len(e.Envelope.Recipients),
				"arrived": e.Envelope.Arrived, "attempts": e.Envelope.Attempts, "origin": e.Envelope.Origin,
				"last_error": e.Envelope.LastError, "not_before": e.Envelope.NotBefore})
		}
		return a.printJSON(map[string]any{"queue": q, "entries": out})
	}
	for _, e := range es {
		env := e.Envelope
		line := fmt.Sprintf("%s  %s  %s@%s  %s  from=<%s> rcpts=%d attempts=%d", e.ID, env.Arrived.Format("2006-01-02 15:04:05"),
			env.List, env.Domain, env.Alias, safe(env.Sender), len(env.Recipients), env.Attempts)
		if env.LastError != "" {
			line += "  error: " + safe(env.LastError)
		}
		a.printf("%s\n", line)
	}
	a.printf("\n")
	a.qshape(es, time.Now())
	return nil
}

// qshapeBuckets are Postfix qshape's age columns, in minutes.
var qshapeBuckets = []int{5, 10, 20, 40, 80, 160, 320, 640, 1280}

// qshape prints entries by list and age, like Postfix's qshape.
func (a *app) qshape(es []spool.Entry, now time.Time) {
	rows := map[string][]int{}
	total := make([]int, len(qshapeBuckets)+2)
	for _, e := range es {
		key := e.Envelope.List + "@" + e.Envelope.Domain
		if rows[key] == nil {
			rows[key] = make([]int, len(qshapeBuckets)+2)
		}
		col := len(qshapeBuckets) + 1
		age := now.Sub(e.Envelope.Arrived).Minutes()
		for i, b := range qshapeBuckets {
			if age < float64(b) {
				col = i + 1
				break
			}
		}
		rows[key][0]++
		rows[key][col]++
		total[0]++
		total[col]++
	}
	a.printf("%-32s %6s", "", "T")
	for _, b := range qshapeBuckets {
		a.printf(" %5d", b)
	}
	a.printf(" %5d+\n", qshapeBuckets[len(qshapeBuckets)-1])
	print := func(name string, r []int) {
		a.printf("%-32s %6d", name, r[0])
		for _, n := range r[1:] {
			a.printf(" %5d", n)
		}
		a.printf("\n")
	}
	print("TOTAL", total)
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return rows[keys[i]][0] > rows[keys[j]][0] || rows[keys[i]][0] == rows[keys[j]][0] && keys[i] < keys[j]
	})
	for _, k := range keys {
		print(k, rows[k])
	}
}

func (a *app) printEnvelope(e *spool.Entry) {
	env := e.Envelope
	a.printf("Id: %s\nQueue: %s\nList: %s@%s\nAlias: %s\nSender: %s\nRecipients: %s\nArrived: %s\nAttempts: %d\n",
		e.ID, env.Queue, env.List, env.Domain, env.Alias, safe(env.Sender), safe(strings.Join(env.Recipients, ", ")),
		env.Arrived.Format(time.RFC3339), env.Attempts)
	if env.Origin != "" {
		a.printf("Origin: %s\n", env.Origin)
	}
	if env.LastError != "" {
		a.printf("Last-Error: %s\n", safe(env.LastError))
	}
	if !env.NotBefore.IsZero() {
		a.printf("Not-Before: %s\n", env.NotBefore.Format(time.RFC3339))
	}
}
