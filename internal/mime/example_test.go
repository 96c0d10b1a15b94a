package mime_test

import (
	"fmt"
	"strings"

	"herald/internal/mime"
)

func ExamplePrefixSubject() {
	fmt.Println(mime.PrefixSubject("Re: [dev] Re: [dev] Meeting notes", "[dev] ", 1))
	fmt.Println(mime.PrefixSubject("AW: [dev 41] Termin", "[dev %d] ", 42))
	fmt.Println(mime.PrefixSubject("=?iso-8859-1?q?Re:_Caf=E9?=", "[dev] ", 1))
	fmt.Println(mime.PrefixSubject("", "[dev] ", 1))
	// Output:
	// [dev] Re: Meeting notes
	// [dev 42] Re: Termin
	// [dev] Re: =?UTF-8?B?Q2Fmw6k=?=
	// [dev] (no subject)
}

func ExampleFoldHeader() {
	v := mime.EncodeWords("[dev] Neugestaltung der Benutzeroberfläche für die Mitgliederverwaltung")
	fmt.Println(strings.ReplaceAll(mime.FoldHeader("Subject", v), "\r\n", "\n"))
	// Output:
	// Subject: [dev] Neugestaltung der
	//  =?UTF-8?Q?Benutzeroberfl=C3=A4che_f=C3=BCr?= die Mitgliederverwaltung
}

func ExampleHeader_Set() {
	m, err := mime.Parse([]byte("Received: from a\n\tby b\nSubject: hello\nTo: dev@example.org\n\nbody\n"))
	if err != nil {
		panic(err)
	}
	m.Header.Set("Subject", mime.PrefixSubject(m.Header.Get("Subject"), "[dev] ", 1))
	m.Header.Prepend("Received", "by lists.example.org")
	fmt.Print(string(m.Bytes()))
	// Output:
	// Received: by lists.example.org
	// Received: from a
	// 	by b
	// Subject: [dev] hello
	// To: dev@example.org
	//
	// body
}

func ExampleDecorate() {
	m, err := mime.Parse([]byte("Subject: hi\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nCaf=E9\n"))
	if err != nil {
		panic(err)
	}
	if err := mime.Decorate(m, "", "--\nListe für alle\n"); err != nil {
		panic(err)
	}
	fmt.Print(string(m.Bytes()))
	// Output:
	// Subject: hi
	// MIME-Version: 1.0
	// Content-Type: text/plain; charset=iso-8859-1
	// Content-Transfer-Encoding: quoted-printable
	//
	// Caf=E9
	// --
	// Liste f=FCr alle
}

func ExampleWalk() {
	m, err := mime.Parse([]byte("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhello\n" +
		"--b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=\"a.pdf\"\nContent-Transfer-Encoding: base64\n\nJVBERi0=\n--b--\n"))
	if err != nil {
		panic(err)
	}
	_ = mime.Walk(m, func(p *mime.Part) error {
		fmt.Printf("%s %s %q %q\n", p.Path, p.ContentType, p.Filename, p.Body)
		return nil
	})
	// Output:
	// 1 text/plain "" "hello"
	// 2 application/pdf "a.pdf" "%PDF-"
}
