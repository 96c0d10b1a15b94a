//go:build integration

package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"herald/internal/testutil/smtpsink"
)

var enospcID = regexp.MustCompile(`(?m)^Message-ID: <full-(\d+)@test.invalid>`)

// TestDiskFull runs herald with its data dir on a small tmpfs: when the
// disk fills, LMTP answers 452 4.3.1; nothing acknowledged is lost; once
// space is freed, mail is accepted again and everything is delivered.
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SKIP: mounting a tmpfs needs root")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("SKIP: cannot mount a tmpfs here: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	db := filepath.Join(t.TempDir(), "herald.db")
	h := newH(t, fmt.Sprintf("[database]\nurl = %q", "sqlite:"+db))
	// The spool floor is off (min_free_mb = 0) so the real ENOSPC is hit.
	h.env = append(h.env, "HERALD_DATA_DIR="+filepath.Join(mnt, "data"), "HERALD_SPOOL_MIN_FREE_MB=0",
		"HERALD_LMTP_SOCKET=")
	h.MustRun("domains", "add", "lists.example.org")
	h.MustRun("lists", "create", "full@lists.example.org", "default_nonmember_action=accept", "hard_max_message_size=1024")
	h.MustRun("members", "add", "full@lists.example.org", "sink@example.net")
	// Leave little room: a filler takes most of the tmpfs.
	filler := filepath.Join(mnt, "filler")
	if err := os.WriteFile(filler, make([]byte, 2<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	h.Sink.DropAtData(true) // nothing leaves, so the spool keeps filling
	h.Start()

	body := strings.Repeat(strings.Repeat("0123456789abcdef", 4)+"\n", 1000) // 64 KiB
	var acked []int
	got452 := false
	n := 0
	for ; n < 200 && !got452; n++ {
		m := strings.Replace(msg("a@example.com", "full@lists.example.org", "full", body), "Message-ID: <", fmt.Sprintf("Message-ID: <full-%d@test.invalid>\r\nX-Old-Id: <", n), 1)
		res := h.SendLMTP("a@example.com", []string{"full@lists.example.org"}, m)
		switch {
		case res[0].Code == 250:
			acked = append(acked, n)
		case res[0].Code == 452 && strings.Contains(res[0].Err.Error(), "storage"):
			got452 = true
		default:
			t.Fatalf("message %d: %d %v", n, res[0].Code, res[0].Err)
		}
	}
	if !got452 {
		t.Fatalf("no 452 after %d messages on a full disk", n)
	}
	t.Logf("disk full after %d acknowledged messages", len(acked))

	// Free the space: acceptance resumes, and delivery catches up.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	h.Sink.DropAtData(false)
	deadline := time.Now().Add(30 * time.Second)
	for {
		m := strings.Replace(msg("a@example.com", "full@lists.example.org", "after", "small"), "Message-ID: <", fmt.Sprintf("Message-ID: <full-%d@test.invalid>\r\nX-Old-Id: <", n), 1)
		res := h.SendLMTP("a@example.com", []string{"full@lists.example.org"}, m)
		if res[0].Code == 250 {
			acked = append(acked, n)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still refused after freeing space: %d %v", res[0].Code, res[0].Err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var missing []int
	ok := h.Sink.WaitFor(3*time.Minute, func(ms []smtpsink.Message) bool {
		seen := map[int]bool{}
		for _, m := range ms {
			if sm := enospcID.FindSubmatch(m.Data); sm != nil {
				i, _ := strconv.Atoi(string(sm[1]))
				seen[i] = true
			}
		}
		missing = missing[:0]
		for _, i := range acked {
			if !seen[i] {
				missing = append(missing, i)
			}
		}
		return len(missing) == 0
	})
	if !ok {
		counts, _, _ := h.Run("spool", "ls")
		t.Fatalf("after space returned, %d of %d acknowledged messages were not delivered (%v); spool:\n%s",
			len(missing), len(acked), missing, counts)
	}
}
