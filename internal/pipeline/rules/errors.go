package rules

import "errors"

// errFound ends a mime.Walk early.
var errFound = errors.New("found")
