// Package handlers holds the post handlers, one per file, and the default
// handler order (Mailman 3's default-posting-pipeline as far as herald
// implements it). A handler rewrites an accepted post in place or computes
// facts about it; it never enqueues: the post runner does that with what
// the handlers leave in pipeline.Message.
package handlers

import "herald/internal/pipeline"

// Default returns the handlers in the order they run.
func Default() pipeline.Handlers {
	return pipeline.Handlers{
		Cleanse{},
		CookHeaders{},
		SubjectPrefix{},
		RFC2369{},
		Decorate{},
		Recipients{},
	}
}
