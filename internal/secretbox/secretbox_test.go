package secretbox_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/secretbox"
)

func TestSealOpen(t *testing.T) {
	key := []byte("install key")
	enc, err := secretbox.Seal(key, "dkim-key:v1", "7", []byte("-----BEGIN PRIVATE KEY-----"))
	if err != nil {
		t.Fatal(err)
	}
	if !secretbox.Sealed(enc) || strings.Contains(enc, "BEGIN") {
		t.Fatalf("not sealed: %q", enc)
	}
	pt, err := secretbox.Open(key, "dkim-key:v1", "7", enc)
	if err != nil || !bytes.Equal(pt, []byte("-----BEGIN PRIVATE KEY-----")) {
		t.Fatalf("open: %q %v", pt, err)
	}
	for name, open := range map[string]func() ([]byte, error){
		"other key":   func() ([]byte, error) { return secretbox.Open([]byte("other"), "dkim-key:v1", "7", enc) },
		"other label": func() ([]byte, error) { return secretbox.Open(key, "imap-password:v1", "7", enc) },
		"other row":   func() ([]byte, error) { return secretbox.Open(key, "dkim-key:v1", "8", enc) },
		"plain text":  func() ([]byte, error) { return secretbox.Open(key, "dkim-key:v1", "7", "-----BEGIN") },
		"truncated":   func() ([]byte, error) { return secretbox.Open(key, "dkim-key:v1", "7", enc[:10]) },
	} {
		if _, err := open(); !errors.Is(err, secretbox.ErrOpen) {
			t.Errorf("%s: %v", name, err)
		}
	}
	enc2, _ := secretbox.Seal(key, "dkim-key:v1", "7", []byte("-----BEGIN PRIVATE KEY-----"))
	if enc2 == enc {
		t.Fatal("two seals of one value are equal (nonce reused)")
	}
}
