package delivery

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"herald/internal/dkim"
	"herald/internal/spool"
	"herald/internal/testutil/dnsstub"

	msgdkim "github.com/emersion/go-msgauth/dkim"
)

// verifyDKIM checks msg's signature against the key published in a
// loopback DNS stub and returns the signed header fields.
func verifyDKIM(t *testing.T, dns *dnsstub.Server, msg []byte) []string {
	t.Helper()
	vs, err := msgdkim.VerifyWithOptions(bytes.NewReader(msg), &msgdkim.VerifyOptions{LookupTXT: lookupTXT(dns.Addr())})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if len(vs) != 1 || vs[0].Err != nil || vs[0].Domain != "lists.example.org" {
		t.Fatalf("verifications = %+v (err %v)", vs, vs[0].Err)
	}
	return vs[0].HeaderKeys
}

// lookupTXT resolves TXT records through the DNS server at addr only.
func lookupTXT(addr string) func(string) ([]string, error) {
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
	return func(name string) ([]string, error) { return r.LookupTXT(context.Background(), name) }
}

func publishKey(t *testing.T, e *env, alg string) *dnsstub.Server {
	t.Helper()
	k, err := dkim.Generate("lists.example.org", "test1", alg, 1024, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.PutDKIMKey(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	dns, err := dnsstub.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dns.Close() })
	v, err := dkim.RecordValue(k)
	if err != nil {
		t.Fatal(err)
	}
	dns.SetTXT(dkim.RecordName(k), v)
	return dns
}

func TestPersonalizedSignedCopies(t *testing.T) {
	for _, alg := range []string{dkim.RSA, dkim.Ed25519} {
		t.Run(alg, func(t *testing.T) {
			e := newEnv(t, nil)
			dns := publishKey(t, e, alg)
			e.list.Settings.Personalize = "full"
			e.list.Settings.VERPPersonalizedDeliveries = true
			if err := e.st.UpdateSettings(context.Background(), e.list.ID, e.list.Settings); err != nil {
				t.Fatal(err)
			}
			members := e.addMembers(4, 2, nil)
			meta := MemberEnvelope(3, "", nil)
			meta[metaDecorate] = "per-member"
			meta[metaDecorateFooter] = "-- \nYou are ${user_address} (${user_name}); leave: ${user_unsubscribe_url}\n"
			e.enqueue(spool.Envelope{Meta: meta})
			e.process()
			msgs := e.sink.Messages()
			if len(msgs) != len(members) {
				t.Fatalf("%d copies for %d members", len(msgs), len(members))
			}
			for _, m := range msgs {
				rc := m.To[0]
				mem, err := e.st.GetMember(context.Background(), e.list.ID, rc, "member")
				if err != nil {
					t.Fatal(err)
				}
				data := strings.ReplaceAll(string(m.Data), "\r\n ", " ") // unfold
				url := "https://lists.example.org/u/" + mem.Token
				checks := []string{
					"To: " + mem.DisplayName + " <" + rc + ">",
					"List-Unsubscribe: <" + url + ">, <mailto:dev-leave@lists.example.org>",
					"List-Unsubscribe-Post: List-Unsubscribe=One-Click",
					"You are " + rc + " (" + mem.DisplayName + "); leave: " + url,
				}
				for _, c := range checks {
					if !strings.Contains(data, c) {
						t.Errorf("copy for %s lacks %q:\n%s", rc, c, data)
					}
				}
				if !strings.HasPrefix(m.From, "dev-bounces+") {
					t.Errorf("personalized VERP sender = %s", m.From)
				}
				signed := strings.ToLower(strings.Join(verifyDKIM(t, dns, m.Data), ":"))
				for _, f := range []string{"from", "subject", "date", "message-id", "list-id", "list-unsubscribe", "list-unsubscribe-post"} {
					if !strings.Contains(":"+signed+":", ":"+f+":") {
						t.Errorf("signature does not cover %s (h=%s)", f, signed)
					}
				}
			}
		})
	}
}

func TestBulkSignedOnce(t *testing.T) {
	e := newEnv(t, nil)
	dns := publishKey(t, e, dkim.RSA)
	e.addMembers(120, 3, nil)
	e.enqueue(spool.Envelope{Meta: MemberEnvelope(1, "", nil)})
	e.process()
	for _, m := range e.sink.Messages() {
		verifyDKIM(t, dns, m.Data)
	}
	if n := e.d.Stats.Signed.Load(); n != 1 {
		t.Errorf("bulk post signed %d times, want once", n)
	}
	// A changed message no longer verifies.
	bad := bytes.Replace(e.sink.Messages()[0].Data, []byte("Hello."), []byte("Hullo."), 1)
	vs, err := msgdkim.VerifyWithOptions(bytes.NewReader(bad), &msgdkim.VerifyOptions{LookupTXT: lookupTXT(dns.Addr())})
	if err != nil || len(vs) != 1 || vs[0].Err == nil {
		t.Errorf("tampered message verified: %+v %v", vs, err)
	}
}
