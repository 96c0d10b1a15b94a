package mime

import (
	"slices"
	"testing"
)

func TestAddressList(t *testing.T) {
	cases := []struct {
		name, field string
		want        []string
	}{
		{"simple", "alice@Example.COM", []string{"alice@example.com"}},
		{"local part kept", "Alice.Smith@EXAMPLE.org", []string{"Alice.Smith@example.org"}},
		{"display names", `"Smith, Bob" <bob@example.org>, Carol <carol@example.org>`, []string{"bob@example.org", "carol@example.org"}},
		{"comment", "dave@example.org (Dave, the admin)", []string{"dave@example.org"}},
		{"group", "team: a@example.org, b@example.org;, c@example.org", []string{"a@example.org", "b@example.org", "c@example.org"}},
		{"empty group", "undisclosed-recipients:;", nil},
		{"garbage skipped", "not an address, <also bad>, ok@example.org, @nolocal, nodomain@", []string{"ok@example.org"}},
		{"unknown charset name", "=?x-unknown?q?Eve?= <eve@example.org>", []string{"eve@example.org"}},
		{"raw 8-bit name", "P\xe9ter <peter@example.hu>", []string{"peter@example.hu"}},
		{"dot before at", "<taro.@docomo.ne.jp>", []string{"taro.@docomo.ne.jp"}},
		{"semicolon separated", "a@example.org; b@example.org", []string{"a@example.org", "b@example.org"}},
		{"quoted comma", `"a, b" <ab@example.org>`, []string{"ab@example.org"}},
		{"empty", "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := NewHeader("\r\n")
			h.Add("To", c.field)
			if got := AddressList(h, "to"); !slices.Equal(got, c.want) {
				t.Errorf("AddressList(%q) = %q, want %q", c.field, got, c.want)
			}
		})
	}
}

func TestAddressListAllFields(t *testing.T) {
	m, err := Parse([]byte("Cc: a@example.org\nTo: x@example.org\nCC: b@Example.org, c@example.org\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a@example.org", "b@example.org", "c@example.org"}
	if got := AddressList(m.Header, "Cc"); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFirstAddress(t *testing.T) {
	cases := []struct{ field, addr, name string }{
		{"=?iso-8859-1?q?J=FCrgen_M=FCller?= <Juergen@Example.DE>", "Juergen@example.de", "Jürgen Müller"},
		{`"Bob" <bob@example.org>, carol@example.org`, "bob@example.org", "Bob"},
		{"garbage, =?koi8-r?b?8NLJ18XU?= <ivan@example.ru>", "ivan@example.ru", "Привет"},
		{`"=?x-unknown?q?abc?=" <eve@example.org>`, "eve@example.org", "=?x-unknown?q?abc?="},
		{"plain@example.org", "plain@example.org", ""},
	}
	for _, c := range cases {
		h := NewHeader("\n")
		h.Add("From", c.field)
		addr, name, ok := FirstAddress(h, "From")
		if !ok || addr != c.addr || name != c.name {
			t.Errorf("FirstAddress(%q) = %q, %q, %v; want %q, %q", c.field, addr, name, ok, c.addr, c.name)
		}
	}
	h := NewHeader("\n")
	h.Add("From", "nobody")
	if _, _, ok := FirstAddress(h, "From"); ok {
		t.Error("FirstAddress found an address in garbage")
	}
	if _, _, ok := FirstAddress(h, "Sender"); ok {
		t.Error("FirstAddress found an address in a missing field")
	}
}
