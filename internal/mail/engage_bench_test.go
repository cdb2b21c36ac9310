package mail

import (
	"strings"
	"testing"
)

// BenchmarkTrack is the per-message cost Compose adds with tracking on: link
// rewriting (3 links in a ~4.7 kB body) and the pixel.
func BenchmarkTrack(b *testing.B) {
	body := []byte(`<html><body><h1>Hello Ada Lovelace,</h1>` +
		strings.Repeat(`<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris.</p>`+"\n", 18) +
		`<p><a href="https://acme.example/pricing?plan=pro&amp;seats=5">Pricing</a> · <a href="https://acme.example/docs">Docs</a> · <a href="https://acme.example/blog/2026/launch">Blog</a></p></body></html>`)
	s := &Service{BaseURL: "https://crm.example", Secret: []byte("0123456789abcdef0123456789abcdef")}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		out := s.track(1, int64(i), body, "https://crm.example/u/x")
		if len(out) <= len(body) {
			b.Fatal("nothing tracked")
		}
	}
}
