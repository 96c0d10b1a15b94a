package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"herald/internal/archive"
	"herald/internal/config"
	"herald/internal/store"

	"github.com/spf13/cobra"
)

// archiveCmd is `herald archive import|export LIST FILE.mbox`.
func (a *app) archiveCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "archive", Short: "move a list's archive in and out as an mbox file"}
	imp := &cobra.Command{
		Use: "import LIST@DOMAIN FILE.mbox", Short: "add an mbox's messages to the list's archive (- for stdin); a Message-ID already there is skipped",
		Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			in, closeIn, err := a.inputFile(args[1])
			if err != nil {
				return err
			}
			defer closeIn()
			return a.withStore(func(_ *config.Config, st store.Store) error {
				l, err := a.getList(st, args[0])
				if err != nil {
					return err
				}
				added, dups, err := importMbox(a, st, l, in)
				if err != nil {
					return fmt.Errorf("import into %s's archive (%d added before the error): %w", l.Address(), added, err)
				}
				return a.done(map[string]any{"list": l.Address(), "added": added, "already_archived": dups},
					"%s: %d message(s) archived, %d already there\n", l.Address(), added, dups)
			})
		},
	}
	exp := &cobra.Command{
		Use: "export LIST@DOMAIN FILE.mbox", Short: "write the list's archive as an mbox (mboxrd; - for stdout)",
		Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			return a.withStore(func(_ *config.Config, st store.Store) error {
				l, err := a.getList(st, args[0])
				if err != nil {
					return err
				}
				return a.exportMbox(st, l, args[1])
			})
		},
	}
	cmd.AddCommand(imp, exp)
	return cmd
}

// inputFile opens path for reading, or stdin for "-".
func (a *app) inputFile(path string) (io.Reader, func(), error) {
	if path == "-" {
		return a.stdin, func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, usageError{fmt.Errorf("mbox: %w", err)}
	}
	return f, func() { _ = f.Close() }, nil // read only
}

// importWorkers archive concurrently so that their writes share commits.
const importWorkers = 8

// importMbox archives each message of the mbox in r on list l.
func importMbox(a *app, st store.Store, l *store.List, r io.Reader) (added, dups int, err error) {
	work := make(chan []byte)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range importWorkers {
		wg.Go(func() {
			for raw := range work {
				err := st.ArchiveMessage(a.ctx, archive.Entry(l.ID, 0, raw))
				mu.Lock()
				switch {
				case err == nil:
					added++
				case errors.Is(err, store.ErrConflict):
					dups++
				case firstErr == nil:
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	rerr := archive.ReadMbox(r, func(raw []byte) error {
		mu.Lock()
		failed := firstErr
		mu.Unlock()
		if failed != nil {
			return failed
		}
		work <- raw
		return nil
	})
	close(work)
	wg.Wait()
	if firstErr != nil {
		return added, dups, firstErr
	}
	return added, dups, rerr
}

// exportPage is how many messages one query of the export reads.
const exportPage = 500

func (a *app) exportMbox(st store.Store, l *store.List, path string) (err error) {
	var w io.Writer = a.stdout
	if path != "-" {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return usageError{fmt.Errorf("mbox: %w (it is never overwritten)", err)}
		}
		defer func() {
			if cerr := f.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("close %s: %w", path, cerr)
			}
		}()
		w = f
	}
	n := 0
	for after := int64(0); ; {
		page, err := st.ArchivedMessages(a.ctx, l.ID, after, exportPage)
		if err != nil {
			return err
		}
		for i := range page {
			if err := archive.WriteMbox(w, &page[i]); err != nil {
				return fmt.Errorf("write mbox: %w", err)
			}
		}
		n += len(page)
		if len(page) < exportPage {
			break
		}
		after = page[len(page)-1].ID
	}
	if path == "-" {
		return nil
	}
	return a.done(map[string]any{"list": l.Address(), "messages": n, "file": path},
		"%s: %d message(s) written to %s\n", l.Address(), n, path)
}
