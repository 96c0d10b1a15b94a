package post_test

import (
	"context"
	"testing"
	"time"

	"herald/internal/delivery"
	"herald/internal/moderation"
	"herald/internal/pipeline/handlers"
	"herald/internal/pipeline/rules"
	"herald/internal/post"
	"herald/internal/runner"
	"herald/internal/spool"
	"herald/internal/store"
	"herald/internal/testutil/smtpsink"
)

// TestExpandAtDelivery: with handlers.Options.ExpandAtDelivery (what
// `herald serve` runs) a post becomes one out entry without recipients,
// whose Meta lets delivery apply the recipient rules as it walks the
// members: the poster's receive_own_postings, and receive_list_copy for
// members named in To or Cc.
func TestExpandAtDelivery(t *testing.T) {
	e := newEnv(t, nil)
	for _, tweak := range []struct {
		email string
		fn    func(*store.Member)
	}{
		{"alice@example.com", func(m *store.Member) { m.ReceiveOwnPostings = false }},
		{"bob@example.net", func(m *store.Member) { m.ReceiveListCopy = false }},
	} {
		m, err := e.st.GetMember(e.ctx, e.list.ID, tweak.email, store.RoleMember)
		must(t, err)
		tweak.fn(m)
		must(t, e.st.UpdateMember(e.ctx, m))
	}
	dave := store.DefaultMember(e.list.ID, "dave@example.com", store.RoleMember)
	must(t, e.st.AddMember(e.ctx, &dave))

	proc := post.New(e.st, moderation.New(e.st, e.sp, quietLog()), rules.DefaultChain(),
		handlers.New(handlers.Options{ExpandAtDelivery: true}), post.Options{Logger: quietLog()})
	e.run = runner.New("post", spool.In, e.sp, proc, runner.Options{Logger: quietLog()})
	e.post("alice@example.com", msg("Alice <alice@example.com>", "dev@lists.example.org", "Expand me", "Hello.",
		"Cc: Bob <BOB@example.net>, Dave <dave@example.com>"))

	o := e.drain()
	if len(o.posts) != 1 {
		t.Fatalf("%d out entries, want 1", len(o.posts))
	}
	env := o.posts[0].Envelope
	m := env.Meta
	if len(env.Recipients) != 0 || m[handlers.OutMetaRecipients] != handlers.RecipientsMembers ||
		m[handlers.OutMetaPoster] != "alice@example.com" || m[handlers.OutMetaProgress] == "" || m["post_id"] == "" {
		t.Fatalf("out entry: recipients %v, meta %v", env.Recipients, m)
	}
	if got, want := m[handlers.OutMetaExplicit], "dev@lists.example.org,bob@example.net,dave@example.com"; got != want {
		t.Errorf("explicit = %q, want %q", got, want)
	}

	// Delivery expands it: carol and dave (named in Cc, but wants list
	// copies); not alice (the poster, no own posts), not bob (in Cc, no
	// list copies), not the owner.
	sink, err := smtpsink.Start()
	must(t, err)
	defer sink.Close()
	d, err := delivery.New(delivery.Options{Addr: sink.Addr(), Connections: 2, Timeout: 5 * time.Second,
		Store: e.st, ProgressDir: t.TempDir(), Logger: quietLog()})
	must(t, err)
	defer d.Close()
	_, err = e.sp.Enqueue(e.ctx, spool.Item{Queue: spool.Out, Envelope: env, Message: o.posts[0].Message})
	must(t, err)
	out := runner.New("out", spool.Out, e.sp, d, runner.Options{Logger: quietLog()})
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	if n, err := out.RunUntilEmpty(ctx); err != nil || n != 1 {
		t.Fatalf("out runner: %d entries, %v", n, err)
	}
	got := sink.Recipients()
	if len(got) != 2 || got["carol@example.org"] != 1 || got["dave@example.com"] != 1 {
		t.Errorf("delivered to %v, want carol and dave once each", got)
	}
}
