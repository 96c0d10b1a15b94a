// Package importer brings lists over from other list servers: GNU
// Mailman 3 (its REST API's list configuration and roster, as JSON),
// mlmmj (a list directory) and CSV member files. Each source is read into
// a Plan, which says what herald will create and also what it cannot
// carry over; Apply then writes the plan to the store in a few
// transactions, sending no mail (the members were subscribed on the old
// server: an import is not a wave of welcome messages).
package importer
