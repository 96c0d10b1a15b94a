package bounce_test

import (
	"fmt"

	"herald/internal/bounce"
)

func ExampleScan() {
	msg := []byte(`From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: dev-bounces@lists.example.org
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; Bob@Example.NET
Action: failed
Status: 5.1.1

--b--
`)
	r, err := bounce.Scan(msg)
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Format, r.Permanent, r.Reasons["bob@example.net"])
	// Output: dsn [bob@example.net] unknown_user
}

func ExampleDecodeVERP() {
	member, ok := bounce.DecodeVERP("dev-bounces+alice=example.org")
	fmt.Println(member, ok)
	// Output: alice@example.org true
}
