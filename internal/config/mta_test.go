package config

import (
	"errors"
	"testing"
)

func TestMTADefaultsAndValidation(t *testing.T) {
	valid := []struct {
		name string
		env  []string
		want string
	}{
		{"default tcp", nil, "tcp"},
		{"socket when no tcp listener", []string{"HERALD_LMTP_LISTEN="}, "socket"},
		{"maildir when root set", []string{"HERALD_MAILDIR_ROOT=/srv/maildir"}, "maildir"},
		{"explicit pipe", []string{"HERALD_MTA_TRANSPORT=pipe"}, "pipe"},
	}
	for _, c := range valid {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Load("", c.env)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.MTA.Transport != c.want || cfg.MTA.PostfixMapType != "hash" {
				t.Fatalf("transport %q map type %q, want %q hash", cfg.MTA.Transport, cfg.MTA.PostfixMapType, c.want)
			}
		})
	}
	invalid := []struct {
		name string
		env  []string
	}{
		{"unknown transport", []string{"HERALD_MTA_TRANSPORT=carrier-pigeon"}},
		{"maildir without root", []string{"HERALD_MTA_TRANSPORT=maildir"}},
		{"socket without socket", []string{"HERALD_MTA_TRANSPORT=socket", "HERALD_LMTP_SOCKET="}},
		{"unknown map type", []string{"HERALD_MTA_POSTFIX_MAP_TYPE=regexp"}},
	}
	for _, c := range invalid {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Load("", c.env); !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
}
