// Command blackhole is an SMTP server that accepts and discards
// everything, counting messages and recipients: the outgoing MTA for
// ingest benchmarks, so delivery costs as little as possible.
//
//	blackhole -addr 127.0.0.1:2525
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/emersion/go-smtp"
)

var msgs, rcpts atomic.Int64

type session struct{}

func (session) Reset()                               {}
func (session) Logout() error                        { return nil }
func (session) Mail(string, *smtp.MailOptions) error { return nil }
func (session) Rcpt(string, *smtp.RcptOptions) error { rcpts.Add(1); return nil }
func (session) Data(r io.Reader) error {
	msgs.Add(1)
	_, err := io.Copy(io.Discard, r)
	return err
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}
func (quiet) Println(...any)        {}

func main() {
	addr := flag.String("addr", "127.0.0.1:2525", "listen address")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "blackhole:", err)
		os.Exit(1)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return session{}, nil }))
	srv.Domain = "blackhole.invalid"
	srv.MaxRecipients = 1 << 20
	srv.MaxMessageBytes = 64 << 20
	srv.ErrorLog = quiet{}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		fmt.Printf("blackhole messages=%d recipients=%d\n", msgs.Load(), rcpts.Load())
		_ = srv.Close() // exiting
	}()
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, "blackhole:", err)
	}
}
