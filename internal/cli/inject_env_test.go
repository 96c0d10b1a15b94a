package cli

import (
	"reflect"
	"testing"
)

func TestInjectRecipients(t *testing.T) {
	cases := []struct {
		name  string
		flags []string
		env   map[string]string
		want  []string
	}{
		{"flags win", []string{"dev@lists.example.org"}, map[string]string{"RECIPIENT": "x@y.org"}, []string{"dev@lists.example.org"}},
		{"postfix original", nil, map[string]string{"ORIGINAL_RECIPIENT": "dev@lists.example.org", "RECIPIENT": "dev@mta.example.org"}, []string{"dev@lists.example.org"}},
		{"postfix recipient", nil, map[string]string{"RECIPIENT": "dev-bounces+a=b.org@lists.example.org"}, []string{"dev-bounces+a=b.org@lists.example.org"}},
		{"exim with suffix", nil, map[string]string{"LOCAL_PART": "dev-bounces", "LOCAL_PART_SUFFIX": "+a=b.org", "DOMAIN": "lists.example.org"}, []string{"dev-bounces+a=b.org@lists.example.org"}},
		{"exim plain", nil, map[string]string{"LOCAL_PART": "dev", "DOMAIN": "lists.example.org", "SENDER": "a@b.org"}, []string{"dev@lists.example.org"}},
		{"qmail default", nil, map[string]string{"DEFAULT": "dev-request", "EXT": "dev-request", "HOST": "lists.example.org", "RECIPIENT": "herald-dev-request@lists.example.org"}, []string{"dev-request@lists.example.org"}},
		{"qmail ext only", nil, map[string]string{"EXT": "dev", "HOST": "lists.example.org"}, []string{"dev@lists.example.org"}},
		{"postfix local/domain", nil, map[string]string{"LOCAL": "dev", "DOMAIN": "lists.example.org"}, []string{"dev@lists.example.org"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := injectRecipients(c.flags, c.env)
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v %v, want %v", got, err, c.want)
			}
		})
	}
	if _, err := injectRecipients(nil, map[string]string{"HOME": "/"}); err == nil {
		t.Fatal("no recipient anywhere: want an error")
	}
}

func TestInjectSender(t *testing.T) {
	cases := []struct {
		name    string
		flag    string
		flagSet bool
		env     map[string]string
		data    string
		want    string
	}{
		{"flag", "<a@b.org>", true, map[string]string{"SENDER": "x@y.org"}, "", "a@b.org"},
		{"empty flag is the null sender", "", true, map[string]string{"SENDER": "x@y.org"}, "", ""},
		{"env", "", false, map[string]string{"SENDER": "x@y.org"}, "Return-Path: <r@p.org>\n", "x@y.org"},
		{"from line", "", false, nil, "From a@b.org  Mon Jan  1 00:00:00 2026\nSubject: x\n\nbody\n", "a@b.org"},
		{"mailer-daemon", "", false, nil, "From MAILER-DAEMON Mon Jan  1 00:00:00 2026\n", ""},
		{"return-path", "", false, nil, "Return-Path: <r@p.org>\r\nSubject: x\r\n", "r@p.org"},
		{"nothing", "", false, nil, "Subject: x\n", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := injectSender(c.flag, c.flagSet, c.env, []byte(c.data)); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestStripFromLine(t *testing.T) {
	if got := string(stripFromLine([]byte("From a@b Mon\nSubject: x\n"))); got != "Subject: x\n" {
		t.Fatalf("got %q", got)
	}
	if got := string(stripFromLine([]byte("From: a@b\n"))); got != "From: a@b\n" {
		t.Fatalf("a From: header was stripped: %q", got)
	}
}
