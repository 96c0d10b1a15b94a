package handlers

import (
	"testing"

	"herald/internal/store"
)

// BenchmarkPipeline runs every handler over a real-looking post (a
// multipart/alternative with header, footer, reply-to munging and
// subject prefix), from parse to bytes.
func BenchmarkPipeline(b *testing.B) {
	m0 := loadPost(b, "alternative.eml", nil)
	raw := m0.Msg.Bytes()
	hs := New(Options{BaseURL: "https://lists.example.org"})
	tweak := func(s *store.Settings) {
		s.Footer = "-- \n$display_name mailing list"
		s.ReplyGoesToList = "point_to_list"
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		m := newPost(b, raw, tweak)
		if err := hs.Run(b.Context(), m); err != nil {
			b.Fatal(err)
		}
		_ = m.Msg.Bytes()
	}
}

// BenchmarkContentFilter filters the mixed post (collapse, extension).
func BenchmarkContentFilter(b *testing.B) {
	raw := loadPost(b, "mixed.eml", nil).Msg.Bytes()
	tweak := func(s *store.Settings) { s.FilterContent = true; s.FilterExtensions = []string{"exe"} }
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		m := newPost(b, raw, tweak)
		if err := (ContentFilter{}).Handle(b.Context(), m); err != nil {
			b.Fatal(err)
		}
	}
}
