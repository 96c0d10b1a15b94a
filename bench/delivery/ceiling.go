package main

import (
	"context"
	"fmt"
	"os/exec"
	"sync"
	"time"

	"herald/internal/delivery/smtpclient"
)

// ceiling drives the sink directly with a minimal pipelined client: conns
// connections, n recipients in transactions of per, the same body for all.
// It returns recipients per second. The connections are opened and the
// transactions made before the clock starts, and it stops when the last
// reply is read: what is timed is the sink taking the recipients, as in
// herald's measured (warm) posts.
func ceiling(addr string, conns, n, per int, msg []byte) (float64, error) {
	wire := smtpclient.Wire(msg)
	var txs []*smtpclient.Tx
	for i := 0; i < n; i += per {
		rs := make([]string, 0, per)
		for k := i; k < min(i+per, n); k++ {
			rs = append(rs, fmt.Sprintf("user%06d@d%03d.example", k, k%300))
		}
		from := "dev-bounces@lists.example.org"
		if per == 1 {
			from = "dev-bounces+" + rs[0][:10] + "=x@lists.example.org"
		}
		txs = append(txs, &smtpclient.Tx{From: from, Rcpts: rs, Body: wire})
	}
	cs := make([]*smtpclient.Conn, conns)
	for i := range cs {
		c, err := smtpclient.Dial(context.Background(), "tcp", addr, smtpclient.Options{Helo: "ceiling"})
		if err != nil {
			return 0, err
		}
		defer c.Close()
		cs[i] = c
	}
	work := make(chan *smtpclient.Tx, len(txs))
	for _, tx := range txs {
		work <- tx
	}
	close(work)
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	start := time.Now()
	for _, c := range cs {
		wg.Go(func() {
			for tx := range work {
				if err := c.Send(tx); err != nil {
					errs <- err
					return
				}
			}
			if err := c.Flush(); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	select {
	case err := <-errs:
		return 0, err
	default:
	}
	for _, c := range cs {
		if err := c.Quit(); err != nil {
			return 0, err
		}
	}
	return float64(n) / el.Seconds(), nil
}

// smtpSource runs Postfix's smtp-source against addr: sessions parallel
// sessions, msgs messages of rcpts recipients each; recipients per second.
func smtpSource(addr string, sessions, msgs, rcpts int) (float64, error) {
	bin, err := postfixTool("smtp-source")
	if err != nil {
		return 0, err
	}
	start := time.Now()
	cmd := exec.Command(bin, "-s", fmt.Sprint(sessions), "-m", fmt.Sprint(msgs), "-r", fmt.Sprint(rcpts),
		"-l", "1500", "-f", "dev-bounces@lists.example.org", "-t", "user@d001.example", addr)
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("smtp-source: %v: %s", err, out)
	}
	return float64(msgs*rcpts) / time.Since(start).Seconds(), nil
}
