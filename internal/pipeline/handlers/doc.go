// Package handlers holds the post handlers, one per file, and the default
// handler order (Mailman 3's default-posting-pipeline). A handler rewrites
// an accepted post in place or computes facts about it; it never enqueues:
// the post runner forwards what the handlers leave in pipeline.Message
// (the rewritten post, its recipients, its notices and out Meta). A
// handler ends a post early with a *pipeline.Stop (content filtering's
// filter_action, the replybot's respond_and_discard).
//
// Handlers never panic on hostile input: structure they cannot read is an
// error wrapping mime.ErrLimit or mime.ErrMalformed, which the post runner
// shunts with its reason.
package handlers

import "herald/internal/pipeline"

// Options configure the handlers.
type Options struct {
	// BaseURL is herald's web address ([http] base_url); List-Unsubscribe
	// names the list's unsubscribe page under it. "" for none.
	BaseURL string
	// ExpandAtDelivery leaves the member walk to delivery (Recipients.Defer):
	// `herald serve` sets it.
	ExpandAtDelivery bool
}

// New returns the handlers in the order they run.
func New(o Options) pipeline.Handlers {
	return pipeline.Handlers{
		ContentFilter{},
		Replybot{},
		PostNumber{},
		Recipients{Defer: o.ExpandAtDelivery},
		AvoidDuplicates{},
		Cleanse{},
		CleanseDKIM{},
		CookHeaders{},
		SubjectPrefix{},
		RFC2369{BaseURL: o.BaseURL},
		Acknowledge{},
		DMARC{},
		Decorate{},
	}
}

// Default returns the handlers with no web address.
func Default() pipeline.Handlers { return New(Options{}) }
