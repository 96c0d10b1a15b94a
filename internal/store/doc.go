// Package store defines herald's persistent model (domains, lists and their
// settings, addresses, members, held messages, …) and the Store interface
// that the SQLite and PostgreSQL implementations satisfy.
//
// It imports no driver and nothing above it: the runners, CLI, API and web
// UI depend on this package, never the other way round. Implementations
// return the sentinel errors below (wrapped), and callers test them with
// errors.Is. Addresses are stored normalized (lower case).
package store
