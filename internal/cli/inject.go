package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"time"

	"herald/internal/address"
	"herald/internal/config"
	"herald/internal/ingress"
	"herald/internal/mime"
	"herald/internal/server"
	"herald/internal/spool"
	"herald/internal/status"

	"github.com/emersion/go-smtp"
	"github.com/spf13/cobra"
)

// Exit codes of `herald inject` (sysexits.h), which MTAs understand:
// 0 delivered, 75 try again later, 67 no such list address, 65 the input is
// not a message we can take.
const (
	exDataErr  = 65
	exNoUser   = 67
	exTempFail = 75
)

// injectTimeout bounds the whole hand-over, so a stuck daemon makes the
// MTA retry rather than wait forever.
const injectTimeout = 5 * time.Minute

func (a *app) injectCmd() *cobra.Command {
	var (
		rcpts     []string
		sender    string
		exitCodes string
	)
	cmd := &cobra.Command{
		Use:   "inject [RCPT...]",
		Short: "deliver one message from stdin (for an MTA's pipe transport)",
		Long: "inject reads one message on stdin and hands it to `herald serve` over the LMTP\n" +
			"socket, or, when serve is not running, writes the spool entry itself. The recipient\n" +
			"comes from --rcpt or arguments, else from the MTA's environment (Postfix\n" +
			"ORIGINAL_RECIPIENT/RECIPIENT, Exim LOCAL_PART/DOMAIN, qmail DEFAULT/HOST).\n" +
			"Exit status: 0 accepted, 75 temporary failure, 67 unknown list address, 65 bad input.",
		RunE: func(cmd *cobra.Command, args []string) error {
			err := a.inject(append(rcpts, args...), sender, cmd.Flags().Changed("sender"))
			if exitCodes == "qmail" {
				return qmailExit(err)
			}
			return err
		},
	}
	cmd.Flags().StringArrayVar(&rcpts, "rcpt", nil, "recipient address (repeatable)")
	cmd.Flags().StringVarP(&sender, "sender", "f", "", "envelope sender (default $SENDER, or the message's Return-Path)")
	cmd.Flags().StringVar(&exitCodes, "exit-codes", "sysexits", "exit status convention: sysexits (0/75/67/65) or qmail (0/111/100)")
	// A misconfigured pipe command must not bounce mail: usage errors are temporary.
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return exitError{exTempFail, fmt.Errorf("inject: %w", err)}
	})
	return cmd
}

// inject delivers stdin to rcpts and turns the outcome into an exit code.
func (a *app) inject(flagRcpts []string, sender string, senderSet bool) error {
	env := envMap(a.env)
	rcpts, err := injectRecipients(flagRcpts, env)
	if err != nil {
		return exitError{exTempFail, err}
	}
	cfg, err := a.config()
	if err != nil {
		return exitError{exTempFail, fmt.Errorf("inject: %w", err)}
	}
	data, err := io.ReadAll(io.LimitReader(a.stdin, cfg.LMTP.MaxMessageSize+1))
	if err != nil {
		return exitError{exTempFail, fmt.Errorf("inject: read message: %w", err)}
	}
	if int64(len(data)) > cfg.LMTP.MaxMessageSize {
		return exitError{exDataErr, fmt.Errorf("inject: message over the %d byte limit", cfg.LMTP.MaxMessageSize)}
	}
	from := injectSender(sender, senderSet, env, data)
	data = mime.CRLF(stripFromLine(data))
	if err := checkMessage(data); err != nil {
		return exitError{exDataErr, err}
	}
	ctx, cancel := context.WithTimeout(a.ctx, injectTimeout)
	defer cancel()
	err = injectLMTP(ctx, cfg, from, rcpts, data)
	if errors.Is(err, errNoDaemon) {
		err = a.injectDirect(ctx, cfg, from, rcpts, data)
	}
	if err != nil {
		return exitError{exitCodeFor(err), err}
	}
	return nil
}

// qmailExit maps sysexits to qmail-local's convention: qmail retries on
// any code but 100 and a few others, so a permanent failure must be 100
// and a temporary one 111.
func qmailExit(err error) error {
	var ee exitError
	if !errors.As(err, &ee) {
		return err
	}
	if ee.code == exTempFail {
		return exitError{111, ee.err}
	}
	return exitError{100, ee.err}
}

// checkMessage refuses input that is not an RFC 5322 message.
func checkMessage(data []byte) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return status.Malformed(errors.New("inject: empty message"))
	}
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil || len(m.Header) == 0 {
		return status.Malformed(fmt.Errorf("inject: unparseable message header"))
	}
	return nil
}

// exitCodeFor maps a classified failure to a sysexits code.
func exitCodeFor(err error) int {
	switch status.KindOf(err) {
	case status.KindUnknownRecipient:
		return exNoUser
	case status.KindMalformed, status.KindTooBig, status.KindPermanent:
		return exDataErr
	}
	return exTempFail
}

// errNoDaemon means no herald serve answered: write the spool entry directly.
var errNoDaemon = errors.New("herald serve is not running")

// injectLMTP hands the message to a running `herald serve` over the LMTP
// unix socket (or TCP when there is no socket). It returns errNoDaemon
// when nothing listens, so the caller can write the spool itself; after the
// message was sent, a missing reply is temporary, never errNoDaemon, so a
// message is not written twice.
func injectLMTP(ctx context.Context, cfg *config.Config, from string, rcpts []string, data []byte) error {
	network, addr := "unix", cfg.LMTP.Socket
	if addr == "" {
		network, addr = "tcp", cfg.LMTP.Listen
	}
	if addr == "" {
		return errNoDaemon
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return errNoDaemon
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl) // best effort; the context also bounds the run
	}
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return errNoDaemon // a daemon shutting down; the spool is safe to use
	}
	if err := c.Mail(from, nil); err != nil {
		return lmtpErr(err)
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r, nil); err != nil {
			return fmt.Errorf("%s: %w", r, lmtpErr(err))
		}
	}
	w, err := c.Data()
	if err != nil {
		return lmtpErr(err)
	}
	if _, err := w.Write(data); err != nil {
		return status.Temporary(fmt.Errorf("inject: send message: %w", err))
	}
	if _, err := w.CloseWithLMTPResponse(); err != nil {
		var le smtp.LMTPDataError
		if errors.As(err, &le) {
			for _, r := range rcpts {
				if e, ok := le[r]; ok && e != nil {
					return fmt.Errorf("%s: %w", r, lmtpErr(e))
				}
			}
		}
		return lmtpErr(err)
	}
	_ = c.Quit() // delivered; a failed QUIT changes nothing
	return nil
}

// lmtpErr classifies an LMTP reply as package status does.
func lmtpErr(err error) error {
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		return status.Temporary(fmt.Errorf("inject: lmtp: %w", err))
	}
	e := fmt.Errorf("%d %d.%d.%d %s", se.Code, se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2], se.Message)
	switch {
	case se.Code < 500:
		return status.Temporary(e)
	case se.EnhancedCode == smtp.EnhancedCode{5, 1, 1}:
		return status.UnknownRecipient(e)
	case se.Code == 552:
		return status.TooBig(e)
	}
	return status.Malformed(e)
}

// injectDirect writes the spool entries itself, through ingress, as LMTP
// would: resolve every recipient, then one durable group commit.
func (a *app) injectDirect(ctx context.Context, cfg *config.Config, from string, rcpts []string, data []byte) (err error) {
	if err := cfg.CheckDataDir(); err != nil {
		return status.Temporary(err)
	}
	st, err := server.OpenStore(ctx, cfg)
	if err != nil {
		return status.Temporary(err)
	}
	defer func() {
		if cerr := st.Close(); cerr != nil && err == nil {
			err = status.Temporary(fmt.Errorf("close database: %w", cerr))
		}
	}()
	log := slog.New(slog.DiscardHandler)
	minFree := cfg.Spool.MinFreeMB << 20
	if cfg.Spool.MinFreeMB == 0 {
		minFree = -1
	}
	sp, err := spool.Open(ctx, spool.Options{Dir: cfg.SpoolDir(), MaxAttempts: cfg.Spool.MaxAttempts,
		MinFreeBytes: minFree, Logger: log, SkipVerify: true, NoJournal: true})
	if err != nil {
		return status.Temporary(fmt.Errorf("open spool: %w", err))
	}
	defer func() {
		if cerr := sp.Close(); cerr != nil && err == nil {
			err = status.Temporary(fmt.Errorf("close spool: %w", cerr))
		}
	}()
	in := ingress.New(st, sp, cfg.LMTP.MaxMessageSize, log)
	targets := make([]address.Recipient, 0, len(rcpts))
	for _, r := range rcpts {
		t, limit, err := in.Resolve(ctx, r)
		if err != nil {
			return err
		}
		if limit > 0 && int64(len(data)) > limit {
			return status.TooBig(fmt.Errorf("%s: message over the list's %d byte limit", r, limit))
		}
		targets = append(targets, t)
	}
	for _, err := range in.Accept(ctx, from, targets, data) {
		if err != nil {
			return err
		}
	}
	return nil
}
