package invoice

import (
	"net/mail"
	"strings"
	"testing"
)

// netMailAccepts is validEmail's definition without the fast path: what
// net/mail accepts unchanged, without control characters (which RFC 5322
// quoting would allow).
func netMailAccepts(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == "" && len(s) <= 254 && textProblem(s, false) == ""
}

var emailCases = []string{
	"c@example.com", "first.last@sub.example.co.uk", "a+tag@x.io", "o'neil@example.com",
	"x!#$%&'*+-/=?^_`{|}~@example.com", "1@2", "a@b.c",
	"", "@", "a@", "@b", "a@@b", "a@b@c", ".a@b", "a.@b", "a..b@c", "a@.b", "a@b.", "a@b..c",
	"a b@c", "a@b c", "(comment)a@b", "a@b(comment)", "\"quoted\"@example.com", "\"a b\"@c",
	"a@[127.0.0.1]", "Bob <bob@example.com>", "<bob@example.com>", "bob@example.com ",
	" bob@example.com", "bób@example.com", "a\x00@b", "a@b\n", "a,b@c", "a@b,c", "a;b@c",
	"0@\u009e", "\"a\x01\"@b", // control characters net/mail would accept
}

// TestPlainEmailAgreesWithNetMail: the fast path accepts only addresses
// that net/mail accepts unchanged, and validEmail answers as net/mail does.
func TestPlainEmailAgreesWithNetMail(t *testing.T) {
	for _, s := range emailCases {
		if plainEmail(s) && !netMailAccepts(s) {
			t.Errorf("plainEmail(%q) = true, net/mail refuses it", s)
		}
		if got, want := validEmail(s), netMailAccepts(s); got != want {
			t.Errorf("validEmail(%q) = %v, net/mail says %v", s, got, want)
		}
	}
	if !plainEmail("c@example.com") {
		t.Error("the common shape must take the fast path")
	}
}

func FuzzValidEmail(f *testing.F) {
	for _, s := range emailCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if plainEmail(s) && textProblem(s, false) != "" {
			t.Errorf("plainEmail(%q) accepts text textProblem refuses", s)
		}
		if got, want := validEmail(s), netMailAccepts(s); got != want {
			t.Errorf("validEmail(%q) = %v, net/mail says %v", s, got, want)
		}
	})
}

// TestAtextIsRFC5322: the bit sets dotAtom tests are exactly RFC 5322's
// atext (letters, digits and !#$%&'*+-/=?^_`{|}~), of which '.' and '@'
// are not; and the fast path's addresses have nothing textProblem refuses.
func TestAtextIsRFC5322(t *testing.T) {
	const specials = "!#$%&'*+-/=?^_`{|}~"
	for c := 0; c < 256; c++ {
		want := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			(c < 128 && strings.IndexByte(specials, byte(c)) >= 0)
		s := string([]byte{byte(c)})
		if got := dotAtom(s); got != want {
			t.Errorf("dotAtom(%q) = %v, want %v", s, got, want)
		}
		if got := plainEmail("a" + s + "b@c"); got != (want || c == '.') {
			t.Errorf("plainEmail(%q) = %v, want %v", "a"+s+"b@c", got, want)
		}
	}
	for _, s := range emailCases {
		if plainEmail(s) && textProblem(s, false) != "" {
			t.Errorf("plainEmail(%q) accepts text textProblem refuses", s)
		}
	}
}
