// Package testutil holds test-only helpers: a recording SMTP sink
// (smtpsink), a private PostgreSQL (pgtest) and harness pieces. It is
// imported only from _test.go files and tests/.
package testutil
