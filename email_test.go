package invoice

import (
	"net/mail"
	"testing"
)

// netMailAccepts is validEmail's definition without the fast path.
func netMailAccepts(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == "" && len(s) <= 254
}

var emailCases = []string{
	"c@example.com", "first.last@sub.example.co.uk", "a+tag@x.io", "o'neil@example.com",
	"x!#$%&'*+-/=?^_`{|}~@example.com", "1@2", "a@b.c",
	"", "@", "a@", "@b", "a@@b", "a@b@c", ".a@b", "a.@b", "a..b@c", "a@.b", "a@b.", "a@b..c",
	"a b@c", "a@b c", "(comment)a@b", "a@b(comment)", "\"quoted\"@example.com", "\"a b\"@c",
	"a@[127.0.0.1]", "Bob <bob@example.com>", "<bob@example.com>", "bob@example.com ",
	" bob@example.com", "bób@example.com", "a\x00@b", "a@b\n", "a,b@c", "a@b,c", "a;b@c",
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
		if got, want := validEmail(s), netMailAccepts(s); got != want {
			t.Errorf("validEmail(%q) = %v, net/mail says %v", s, got, want)
		}
	})
}
