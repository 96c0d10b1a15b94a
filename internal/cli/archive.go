package cli

import (
	"fmt"
	"io"
	"os"

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
			in, closeIn, err := a.inputFile(args[1], "mbox")
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

// inputFile opens path (what names it in an error) for reading, or
// stdin for "-".
func (a *app) inputFile(path, what string) (io.Reader, func(), error) {
	if path == "-" {
		return a.stdin, func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, usageError{fmt.Errorf("%s: %w", what, err)}
	}
	return f, func() { _ = f.Close() }, nil // read only
}

// importBatch is how many messages one transaction of an import adds.
const importBatch = 500

// importMbox archives each message of the mbox in r on list l, in order
// (of repeated Message-IDs, the first stays).
func importMbox(a *app, st store.Store, l *store.List, r io.Reader) (added, dups int, err error) {
	var batch []*store.ArchivedMessage
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		ok, err := st.ArchiveMessages(a.ctx, batch)
		if err != nil {
			return err
		}
		for _, b := range ok {
			if b {
				added++
			} else {
				dups++
			}
		}
		batch = batch[:0]
		return nil
	}
	err = archive.ReadMbox(r, func(raw []byte) error {
		batch = append(batch, archive.Entry(l.ID, 0, raw))
		if len(batch) == importBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return added, dups, err
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
