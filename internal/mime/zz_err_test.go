package mime

import "testing"

func TestZZErrText(t *testing.T) {
	m, _ := Parse([]byte("Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b\nbad header line\n\ntwo\n--b--\n"))
	t.Log(Walk(m, func(*Part) error { return nil }))
	_, err := Parse([]byte("Subject: " + string(make([]byte, 200000))))
	t.Log(err)
}
