package server

import (
	"log/slog"
	"time"

	"herald/internal/config"
	"herald/internal/dmarc"
	"herald/internal/dns"
	"herald/internal/moderation"
	"herald/internal/pipeline/handlers"
	"herald/internal/pipeline/rules"
	"herald/internal/post"
	"herald/internal/store"
)

// PostWorkers is the post runner's concurrency. A post waits mostly on
// fsyncs (its store transaction and its spool forward), so workers overlap
// them, and the store commits concurrent posts' numbering together (group
// commit): on the 2-core test machine, end to end (bench/sustained.sh),
// 4 workers kept ~540 posts/s, 8 ~600-660, 16 ~680-720 (but took more of
// the CPU from LMTP ingest during the burst, and hold twice the messages
// in memory).
const PostWorkers = 8

// DigestInterval is how often serve looks for digests that are due
// (package digest: size threshold or daily).
const DigestInterval = time.Minute

// HeldExpiryInterval is how often held posts are checked against their
// list's max_days_to_hold.
const HeldExpiryInterval = time.Hour

// newPostProcessor builds the post runner's processor: the default chain
// and handlers, DMARC lookups through the configured resolver ([dns]
// resolver, cached), and List-Unsubscribe under [http] base_url. Posts go
// out as one entry that delivery expands to the members as it sends
// (handlers.Options.ExpandAtDelivery): no member walk in the post runner,
// no recipient list written to the spool.
func newPostProcessor(cfg *config.Config, st store.Store, mod *moderation.Service, log *slog.Logger) *post.Processor {
	resolver := dns.New(dns.Options{Server: cfg.DNS.Resolver})
	hs := handlers.New(handlers.Options{BaseURL: cfg.HTTP.BaseURL, ExpandAtDelivery: true})
	return post.New(st, mod, rules.DefaultChain(), hs,
		post.Options{Logger: log, DMARC: dmarc.New(resolver), Chunk: postEntryRecipients})
}
