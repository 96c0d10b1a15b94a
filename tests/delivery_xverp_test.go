//go:build integration

package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDeliveryXVERPPostfix: with [delivery] xverp on, a VERP post goes to
// a real Postfix in bulk-shaped transactions (one per destination domain,
// MAIL FROM … XVERP=+=) and Postfix makes every member's bounce address,
// LIST-bounces+local=domain@DOMAIN, as herald would have in one
// transaction per member. (go-smtp, behind the
// other tests' sink, refuses unknown MAIL parameters and cannot offer
// XVERP, hence Postfix.)
func TestDeliveryXVERPPostfix(t *testing.T) {
	h, p := postfixH(t)
	applyPostfix(h, p)
	// Postfix offers XVERP only to authorized clients (empty by default
	// in Debian's 3.7); without it herald falls back to one transaction
	// per member (plain VERP).
	p.postconf("smtpd_authorized_verp_clients = 127.0.0.0/8")
	h.env = append(h.env, "HERALD_DELIVERY_XVERP=true")
	want := []string{"alice@example.com", "bob@example.net"}
	var more []string
	for i := range 10 {
		more = append(more, fmt.Sprintf("m%02d@d%d.example", i, i%3))
	}
	h.MustRun(append([]string{"members", "add", "dev@lists.example.org"}, more...)...)
	want = append(want, more...)
	slices.Sort(want)
	h.MustRun("lists", "set", "dev@lists.example.org", "verp_delivery_interval=1")
	h.Start()

	res := sendSMTP(t, p.addr(), "alice@example.com", []string{"dev@lists.example.org"},
		msg("alice@example.com", "dev@lists.example.org", "XVERP post", "Postfix makes the bounce addresses."))
	if res[0].code != 250 {
		t.Fatalf("post refused: %+v", res)
	}
	ms := waitRcpts(t, h, "XVERP post", want...)
	for _, m := range ms {
		if len(m.To) != 1 {
			t.Errorf("relayed transaction to %v: want one recipient each (VERP)", m.To)
			continue
		}
		local, domain, _ := strings.Cut(m.To[0], "@")
		if w := "dev-bounces+" + local + "=" + domain + "@lists.example.org"; m.From != w {
			t.Errorf("to %s: envelope sender %q, want %q", m.To[0], m.From, w)
		}
	}

	// herald sent bulk-shaped transactions with XVERP, not one per member:
	// the 12 members at 5 small domains fit in one.
	xverp := regexp.MustCompile(`msg=transaction .*to_domain=(\S+) mode=xverp recipients=(\d+) accepted=(\d+)`)
	txns, sum := 0, 0
	deadline := time.Now().Add(5 * time.Second)
	for sum < len(want) && time.Now().Before(deadline) {
		txns, sum = 0, 0
		for _, m := range xverp.FindAllSubmatch(readLog(t, h), -1) {
			n, _ := strconv.Atoi(string(m[3]))
			txns++
			sum += n
		}
		time.Sleep(100 * time.Millisecond)
	}
	if sum != len(want) || txns != 1 {
		t.Errorf("xverp transactions accepted %d recipients in %d transactions, want %d in 1", sum, txns, len(want))
	}
	if n := len(regexp.MustCompile(`msg=transaction .*mode=verp `).FindAll(readLog(t, h), -1)); n != 0 {
		t.Errorf("%d transactions in plain VERP mode", n)
	}
}

func readLog(t *testing.T, h *H) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(h.Dir, "herald.log"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
