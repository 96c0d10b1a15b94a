package handlers

import (
	"herald/internal/testutil/golden"

	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"testing"
	"time"

	"herald/internal/mime"
	"herald/internal/pipeline"
	"herald/internal/store"
)

// goldenCase runs handlers over testdata/<input> and compares the result
// with testdata/<name>.golden: the rewritten message, then (after a
// "=== " line) what else the handlers left: a Stop, out Meta, notices.
type goldenCase struct {
	name     string
	input    string
	handlers pipeline.Handlers
	tweak    func(*store.Settings)
	prep     func(*pipeline.Message)
}

func goldenCases() []goldenCase {
	pw := func(m *pipeline.Message) { m.SetMeta(pipeline.MetaApprovedPassword, "hunter2-moderator") }
	reply := func(mode, addr string, strip bool) func(*store.Settings) {
		return func(s *store.Settings) { s.ReplyGoesToList, s.ReplyToAddress, s.FirstStripReplyTo = mode, addr, strip }
	}
	footer := func(s *store.Settings) {
		s.Header = "[$display_name] list header"
		s.Footer = "-- \n$display_name mailing list -- $listname\nTo unsubscribe send a message to $request_email\nüñí ${user_address}"
	}
	filter := func(f func(*store.Settings)) func(*store.Settings) {
		return func(s *store.Settings) { s.FilterContent = true; f(s) }
	}
	dmarc := func(act string) func(*store.Settings) {
		return func(s *store.Settings) {
			s.DMARCMitigateAction, s.DMARCMitigateUnconditionally = act, true
			s.DisplayName = "Dev Team"
			s.DMARCWrappedMessageText = "A message from $display_name was wrapped for DMARC."
		}
	}
	h := func(hs ...pipeline.Handler) pipeline.Handlers { return hs }
	return []goldenCase{
		{name: "cleanse-plain", input: "plain.eml", handlers: h(Cleanse{})},
		{name: "cleanse-anonymous", input: "plain.eml", handlers: h(Cleanse{}), tweak: func(s *store.Settings) { s.AnonymousList = true }},
		{name: "cleanse-password", input: "approved-body.eml", handlers: h(Cleanse{}), prep: pw},
		{name: "cleanse-dkim", input: "plain.eml", handlers: h(CleanseDKIM{}), tweak: func(s *store.Settings) { s.RemoveDKIMHeaders = true }},
		{name: "cook-no-munging", input: "plain.eml", handlers: h(CookHeaders{})},
		{name: "cook-point-to-list", input: "plain.eml", handlers: h(CookHeaders{}), tweak: reply("point_to_list", "", false)},
		{name: "cook-point-to-list-strip", input: "plain.eml", handlers: h(CookHeaders{}), tweak: reply("point_to_list", "", true)},
		{name: "cook-explicit-header", input: "plain.eml", handlers: h(CookHeaders{}), tweak: reply("explicit_header", "discuss@example.org", false)},
		{name: "cook-explicit-header-only", input: "plain.eml", handlers: h(CookHeaders{}), tweak: reply("explicit_header_only", "discuss@example.org", false)},
		{name: "subject-plain", input: "plain.eml", handlers: h(SubjectPrefix{})},
		{name: "subject-latin1-reply-chain", input: "latin1-qp.eml", handlers: h(SubjectPrefix{})},
		{name: "subject-utf8-existing-prefix", input: "utf8-subject.eml", handlers: h(SubjectPrefix{})},
		{name: "subject-numbered", input: "latin1-qp.eml", handlers: h(SubjectPrefix{}), tweak: func(s *store.Settings) { s.SubjectPrefix = "[dev %05d] " },
			prep: func(m *pipeline.Message) { m.PostID = 42 }},
		{name: "rfc2369", input: "plain.eml", handlers: h(RFC2369{BaseURL: "https://lists.example.org/"}),
			tweak: func(s *store.Settings) { s.ArchiveURL = "https://lists.example.org/archives/dev/" }},
		{name: "rfc2369-announce", input: "plain.eml", handlers: h(RFC2369{}), tweak: func(s *store.Settings) { s.AllowListPosts = false; s.DisplayName = "Dév annonces" }},
		{name: "decorate-plain", input: "plain.eml", handlers: h(Decorate{}), tweak: footer},
		{name: "decorate-latin1", input: "latin1-qp.eml", handlers: h(Decorate{}), tweak: func(s *store.Settings) { s.Footer = "-- \nListe $display_name: Grüße" }},
		{name: "decorate-alternative", input: "alternative.eml", handlers: h(Decorate{}), tweak: footer},
		{name: "decorate-mixed", input: "mixed.eml", handlers: h(Decorate{}), tweak: footer},
		{name: "decorate-signed", input: "signed.eml", handlers: h(Decorate{}), tweak: footer},
		{name: "decorate-flowed", input: "flowed.eml", handlers: h(Decorate{}), tweak: footer},
		{name: "decorate-personalized", input: "plain.eml", handlers: h(Decorate{}), tweak: func(s *store.Settings) { footer(s); s.Personalize = "full" }},
		{name: "filter-extensions", input: "mixed.eml", handlers: h(ContentFilter{}), tweak: filter(func(s *store.Settings) { s.FilterExtensions = []string{".EXE"} })},
		{name: "filter-pass-types", input: "mixed.eml", handlers: h(ContentFilter{}), tweak: filter(func(s *store.Settings) { s.PassTypes = []string{"text/plain", "image"} })},
		{name: "filter-types-collapse", input: "mixed.eml", handlers: h(ContentFilter{}), tweak: filter(func(s *store.Settings) { s.FilterTypes = []string{"image", "application"} })},
		{name: "filter-keep-alternative", input: "alternative.eml", handlers: h(ContentFilter{}), tweak: filter(func(s *store.Settings) { s.CollapseAlternatives = false })},
		{name: "filter-html-to-text", input: "html-only.eml", handlers: h(ContentFilter{}), tweak: filter(func(s *store.Settings) { s.ConvertHTMLToPlaintext = true })},
		{name: "filter-everything", input: "html-only.eml", handlers: h(ContentFilter{}), tweak: filter(func(s *store.Settings) { s.FilterTypes = []string{"text"}; s.FilterAction = "reject" })},
		{name: "filter-signed-whole", input: "signed.eml", handlers: h(ContentFilter{}), tweak: filter(func(s *store.Settings) { s.FilterTypes = []string{"application/pgp-signature"} })},
		{name: "dmarc-munge", input: "plain.eml", handlers: h(DMARC{}), tweak: dmarc("munge_from")},
		{name: "dmarc-munge-no-reply-to", input: "latin1-qp.eml", handlers: h(DMARC{}), tweak: dmarc("munge_from")},
		{name: "dmarc-wrap", input: "latin1-qp.eml", handlers: h(DMARC{}, Decorate{}), tweak: func(s *store.Settings) { dmarc("wrap_message")(s); s.Footer = "-- \nfooter" }},
		{name: "full-pipeline", input: "alternative.eml", handlers: New(Options{BaseURL: "https://lists.example.org"}), tweak: func(s *store.Settings) {
			footer(s)
			s.ReplyGoesToList = "point_to_list"
		}},
	}
}

// randomID matches the Message-IDs herald makes, which differ per run.
var randomID = regexp.MustCompile(`<[0-9a-f]{32}@`)

func TestGolden(t *testing.T) {
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			m := loadPost(t, c.input, c.tweak)
			if c.prep != nil {
				c.prep(m)
			}
			err := c.handlers.Run(t.Context(), m)
			var b bytes.Buffer
			b.Write(m.Msg.Bytes())
			if stop, ok := pipeline.AsStop(err); ok {
				b.WriteString("\n=== stop: " + string(stop.Action) + ": " + stop.Reason + "\n")
			} else if err != nil {
				t.Fatalf("handlers: %v", err)
			}
			keys := make([]string, 0, len(m.OutMeta))
			for k := range m.OutMeta {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				b.WriteString("\n=== out meta " + k + ": " + m.OutMeta[k] + "\n")
			}
			got := randomID.ReplaceAll(b.Bytes(), []byte("<RANDOM@"))
			golden.Check(t, filepath.Join("testdata", c.name+".golden"), got)
			if _, err := mime.Parse(m.Msg.Bytes()); err != nil {
				t.Errorf("output does not parse: %v", err)
			}
		})
	}
}

// loadPost reads testdata/name as a post to dev@lists.example.org.
func loadPost(t testing.TB, name string, tweak func(*store.Settings)) *pipeline.Message {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return newPost(t, raw, tweak)
}

func newPost(t testing.TB, raw []byte, tweak func(*store.Settings)) *pipeline.Message {
	t.Helper()
	msg, err := mime.Parse(raw)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	s := store.DefaultSettings("dev")
	if tweak != nil {
		tweak(&s)
	}
	l := &store.List{ID: 1, Name: "dev", Domain: "lists.example.org", Settings: s}
	m := &pipeline.Message{List: l, Msg: msg, Size: len(raw), Roster: emptyRoster{}, Ledger: &ledger{},
		Now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC), Meta: map[string]string{}}
	m.Senders = pipeline.Senders(msg, "", nil)
	if len(m.Senders) > 0 {
		m.Sender = m.Senders[0]
	}
	return m
}
