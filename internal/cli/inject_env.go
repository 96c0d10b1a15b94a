package cli

import (
	"bytes"
	"errors"
	"strings"
)

// injectRecipients finds the recipients of a piped message: the --rcpt
// flags and positional arguments (Sendmail's prog mailer passes $u), else
// the delivering MTA's environment, tried in an order that cannot confuse
// one MTA's variables with another's:
//
//   - Postfix local(8): ORIGINAL_RECIPIENT (the address before any alias
//     rewriting), else RECIPIENT;
//   - Exim pipe: LOCAL_PART_PREFIX + LOCAL_PART + LOCAL_PART_SUFFIX @ DOMAIN
//     (LOCAL_PART alone lacks a stripped +extension);
//   - qmail-local: DEFAULT (or EXT) @ HOST. qmail's RECIPIENT carries the
//     virtual-domain prefix ("herald-dev@…"), so qmail is checked before
//     Postfix's RECIPIENT.
func injectRecipients(flags []string, env map[string]string) ([]string, error) {
	if len(flags) > 0 {
		return flags, nil
	}
	if r := env["ORIGINAL_RECIPIENT"]; r != "" {
		return []string{r}, nil
	}
	if lp, d := env["LOCAL_PART"], env["DOMAIN"]; lp != "" && d != "" {
		return []string{env["LOCAL_PART_PREFIX"] + lp + env["LOCAL_PART_SUFFIX"] + "@" + d}, nil
	}
	if h := env["HOST"]; h != "" {
		if d := env["DEFAULT"]; d != "" {
			return []string{d + "@" + h}, nil
		}
		if e := env["EXT"]; e != "" {
			return []string{e + "@" + h}, nil
		}
	}
	if r := env["RECIPIENT"]; r != "" {
		return []string{r}, nil
	}
	if l, d := env["LOCAL"], env["DOMAIN"]; l != "" && d != "" {
		return []string{l + "@" + d}, nil
	}
	return nil, errors.New("no recipient: give --rcpt ADDR, or run from an MTA that sets ORIGINAL_RECIPIENT, RECIPIENT, LOCAL_PART/DOMAIN or DEFAULT/HOST")
}

// injectSender finds the envelope sender: the --sender flag when given
// (even empty: the null sender), else $SENDER, else the address of an
// mbox "From " line or a Return-Path header at the top of the message.
func injectSender(flag string, flagSet bool, env map[string]string, data []byte) string {
	if flagSet {
		return strings.Trim(flag, "<>")
	}
	if s, ok := env["SENDER"]; ok {
		return strings.Trim(s, "<>")
	}
	if rest, ok := bytes.CutPrefix(data, []byte("From ")); ok {
		if f := strings.Fields(firstLine(rest)); len(f) > 0 {
			if f[0] == "MAILER-DAEMON" {
				return ""
			}
			return strings.Trim(f[0], "<>")
		}
	}
	line := firstLine(data)
	if name, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(name, "Return-Path") {
		return strings.Trim(strings.TrimSpace(v), "<>")
	}
	return ""
}

// stripFromLine removes a leading mbox "From " line (Postfix pipe flag F,
// qmail's preline) that is not part of the message.
func stripFromLine(data []byte) []byte {
	if !bytes.HasPrefix(data, []byte("From ")) {
		return data
	}
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return data[i+1:]
	}
	return nil
}

func firstLine(b []byte) string {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	return strings.TrimRight(string(b), "\r")
}
