package post_test

import "herald/internal/moderation"

func newMod(e *env) *moderation.Service { return moderation.New(e.st, e.sp, quietLog()) }
