package bouncer

import (
	"strings"
	"testing"
)

func TestDiagnostic(t *testing.T) {
	twoRecipients := "Subject: failure\r\n\r\nFinal-Recipient: rfc822; a@example.net\r\nAction: failed\r\n" +
		"Diagnostic-Code: smtp; 550 5.1.1 a is unknown\r\n\r\nFinal-Recipient: rfc822; b@example.net\r\n" +
		"Action: failed\r\nDiagnostic-Code: smtp; 554 5.7.1 b refuses you\r\n   (folded)\r\n"
	cases := []struct {
		name, msg, addr, want string
	}{
		{"the recipient's own code", twoRecipients, "b@example.net", "554 5.7.1 b refuses you (folded)"},
		{"the first code otherwise", twoRecipients, "c@example.net", "550 5.1.1 a is unknown"},
		{"a text line naming the address", "Subject: x\r\n\r\n<bob@example.net>: host mx said: 550 5.1.1 no such user\r\n",
			"bob@example.net", "<bob@example.net>: host mx said: 550 5.1.1 no such user"},
		{"the subject at last", "Subject: Mail delivery failed\r\n\r\nsorry\r\n", "bob@example.net", "Mail delivery failed"},
		{"long text is clipped", "Subject: " + strings.Repeat("é", 400) + "\r\n\r\n", "", strings.Repeat("é", 150) + "…"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := diagnostic([]byte(tc.msg), tc.addr); got != tc.want {
				t.Errorf("diagnostic = %q, want %q", got, tc.want)
			}
		})
	}
}
