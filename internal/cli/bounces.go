package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"herald/internal/bounce"
	"herald/internal/config"
	"herald/internal/server"
	"herald/internal/store"

	"github.com/spf13/cobra"
)

func (a *app) bouncesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "bounces", Short: "detect bounces, run and inspect bounce processing"}
	var reasons bool
	scan := &cobra.Command{
		Use:   "scan FILE...",
		Short: `print {"file":F,"permanent":[...],"temporary":[...]} per message file ("-": stdin)`,
		Long: "scan reads each file as one message and prints one JSON line per file with the\n" +
			"addresses it reports as failed, permanently or temporarily (lower-cased,\n" +
			"deduplicated, sorted). A message that is no bounce gives empty lists. An\n" +
			"unreadable file gets one error line on stderr (exit 1); the others are still\n" +
			"scanned. --reasons adds the reason per address and the format that matched.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error { return a.scanBounces(args, reasons) },
	}
	scan.Flags().BoolVar(&reasons, "reasons", false, `add "reasons" (address → reason) and "format"`)
	var now string
	process := &cobra.Command{
		Use:   "process",
		Short: "run one bounce policy pass: score events, probe, disable, warn, remove",
		Long: "process runs what `herald serve` runs every [bounces] interval, once, as of\n" +
			"--now (RFC 3339 or YYYY-MM-DD; default: the bounce clock, i.e. now).",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return a.processBounces(now) },
	}
	process.Flags().StringVar(&now, "now", "", "the time the pass runs as (RFC 3339 or YYYY-MM-DD)")
	ls := &cobra.Command{
		Use: "ls LIST@DOMAIN", Short: "show members' bounce records and the circuit breaker's holds",
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error { return a.listBounces(args[0]) },
	}
	resume := &cobra.Command{
		Use: "resume LIST@DOMAIN", Short: "end the circuit breaker's holds on a list: bounces score again",
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error { return a.resumeBounces(args[0], now) },
	}
	resume.Flags().StringVar(&now, "now", "", "the time the holds end (RFC 3339 or YYYY-MM-DD; default now)")
	cmd.AddCommand(scan, process, ls, resume)
	return cmd
}

// scanLine is the contract of `herald bounces scan`: one JSON object per
// file, lists never null.
type scanLine struct {
	File      string            `json:"file"`
	Permanent []string          `json:"permanent"`
	Temporary []string          `json:"temporary"`
	Reasons   map[string]string `json:"reasons,omitempty"`
	Format    string            `json:"format,omitempty"`
}

// scanBounces prints one line per readable file. Each unreadable file
// gets one error line: all but the last are printed here, the last is
// returned (and printed by Run), so the exit code is 1.
func (a *app) scanBounces(files []string, reasons bool) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetEscapeHTML(false)
	var last error
	for _, f := range files {
		msg, err := a.readScanFile(f)
		if err != nil {
			if last != nil {
				fmt.Fprintf(a.stderr, "herald: %s\n", oneLine(last.Error()))
			}
			last = err
			continue
		}
		res, err := bounce.Scan(msg)
		if err != nil && !errors.Is(err, bounce.ErrNotMessage) {
			return fmt.Errorf("bounces scan %s: %w", f, err)
		}
		line := scanLine{File: f, Permanent: nonNil(res.Permanent), Temporary: nonNil(res.Temporary)}
		if reasons {
			line.Format = res.Format
			line.Reasons = map[string]string{}
			for addr, why := range res.Reasons {
				line.Reasons[addr] = string(why)
			}
		}
		if err := enc.Encode(line); err != nil {
			return fmt.Errorf("bounces scan: write: %w", err)
		}
	}
	return last
}

func (a *app) readScanFile(f string) ([]byte, error) {
	if f == "-" {
		b, err := io.ReadAll(a.stdin)
		if err != nil {
			return nil, fmt.Errorf("bounces scan: read stdin: %w", err)
		}
		return b, nil
	}
	b, err := os.ReadFile(f)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("bounces scan: cannot read %s: %w", f, err)
	}
	return b, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// parseNow reads --now: RFC 3339, or a date (midnight UTC).
func parseNow(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, usageError{fmt.Errorf("--now %q: want RFC 3339 (2026-05-01T10:00:00Z) or YYYY-MM-DD", s)}
}

// passTime is --now, else the bounce clock of cfg.
func (a *app) passTime(cfg *config.Config, flag string) (time.Time, error) {
	if flag != "" {
		return parseNow(flag)
	}
	return server.BounceOptions(cfg, a.quietLogger()).Now(), nil
}

func (a *app) processBounces(nowFlag string) error {
	if nowFlag != "" {
		if _, err := parseNow(nowFlag); err != nil {
			return err
		}
	}
	return a.withStore(func(cfg *config.Config, st store.Store) error {
		now, err := a.passTime(cfg, nowFlag)
		if err != nil {
			return err
		}
		sp, err := a.openSpool(cfg)
		if err != nil {
			return err
		}
		defer sp.Close()
		rep, err := server.BouncePolicy(cfg, st, sp, a.quietLogger()).Pass(a.ctx, now)
		if err != nil {
			return err
		}
		return a.done(rep, "events %d: scored %d, not scored %d, held %d, waiting %d; probes %d, disabled %d, warnings %d, removed %d, holds %d\n",
			rep.Events, rep.Scored, rep.Ignored, rep.Held, rep.Waiting, rep.Probes, rep.Disabled, rep.Warnings,
			rep.Removed, rep.Holds)
	})
}

// bounceRecord is one line of `herald bounces ls`.
type bounceRecord struct {
	Email          string `json:"email"`
	DeliveryStatus string `json:"delivery_status"`
	Score          int    `json:"score"`
	LastBounce     string `json:"last_bounce,omitempty"`
	ProbeSent      string `json:"probe_sent,omitempty"`
	DisabledAt     string `json:"disabled_at,omitempty"`
	LastWarning    string `json:"last_warning,omitempty"`
	WarningsSent   int    `json:"warnings_sent"`
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (a *app) listBounces(list string) error {
	return a.withStore(func(_ *config.Config, st store.Store) error {
		l, err := a.getList(st, list)
		if err != nil {
			return err
		}
		infos, err := st.BounceInfos(a.ctx, l.ID, false)
		if err != nil {
			return fmt.Errorf("bounce records of %s: %w", l.Address(), err)
		}
		holds, err := st.BounceHolds(a.ctx, l.ID, time.Time{})
		if err != nil {
			return fmt.Errorf("bounce holds of %s: %w", l.Address(), err)
		}
		recs := make([]bounceRecord, 0, len(infos))
		for _, bi := range infos {
			recs = append(recs, bounceRecord{Email: bi.Email, DeliveryStatus: bi.DeliveryStatus, Score: bi.Score,
				LastBounce: stamp(bi.LastBounce), ProbeSent: stamp(bi.ProbeSent), DisabledAt: stamp(bi.DisabledAt),
				LastWarning: stamp(bi.LastWarning), WarningsSent: bi.WarningsSent})
		}
		sort.Slice(holds, func(i, j int) bool { return holds[i].Start.Before(holds[j].Start) })
		if a.json {
			hs := make([]map[string]any, 0, len(holds))
			for _, h := range holds {
				hs = append(hs, map[string]any{"start": stamp(h.Start), "until": stamp(h.Until), "reason": h.Reason})
			}
			return a.printJSON(map[string]any{"members": recs, "holds": hs})
		}
		for _, r := range recs {
			a.printf("%s\t%s\tscore %d\tlast bounce %s\twarnings %d\n", r.Email, r.DeliveryStatus, r.Score,
				orDash(r.LastBounce), r.WarningsSent)
		}
		for _, h := range holds {
			a.printf("hold %s .. %s\t%s\n", stamp(h.Start), stamp(h.Until), safe(h.Reason))
		}
		return nil
	})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (a *app) resumeBounces(list, nowFlag string) error {
	if nowFlag != "" {
		if _, err := parseNow(nowFlag); err != nil {
			return err
		}
	}
	return a.withStore(func(cfg *config.Config, st store.Store) error {
		l, err := a.getList(st, list)
		if err != nil {
			return err
		}
		now, err := a.passTime(cfg, nowFlag)
		if err != nil {
			return err
		}
		holds, err := st.BounceHolds(a.ctx, l.ID, now)
		if err != nil {
			return fmt.Errorf("bounce holds of %s: %w", l.Address(), err)
		}
		for _, h := range holds {
			h.Until = now
			if h.Start.After(now) {
				h.Start = now
			}
			if err := st.UpdateBounceHold(a.ctx, &h); err != nil {
				return fmt.Errorf("end bounce hold of %s: %w", l.Address(), err)
			}
		}
		return a.done(map[string]any{"list": l.Address(), "ended": len(holds)},
			"%s: %d circuit-breaker hold(s) ended; bounces score again\n", l.Address(), len(holds))
	})
}
