// Package secretbox seals secrets kept in the database: AES-256-GCM under a key
// derived from the install key (config mail_secret, else the generated one in
// mail_secrets) with HMAC-SHA256 and a label per purpose, and additional data
// binding the value to where it belongs (a workspace id), so a sealed value
// copied to another row or purpose does not open. It is the scheme the IMAP
// password and webhook secrets were sealed with ("v1:" + base64(nonce‖ct)).
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

const prefix = "v1:"

// ErrOpen means a sealed value does not open under this key: the install key
// changed, or the value was moved to another row.
var ErrOpen = errors.New("secretbox: the stored value cannot be decrypted (was the install's mail_secret changed?)")

func aead(key []byte, label string) (cipher.AEAD, error) {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(label))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Seal encrypts plain for purpose label, bound to aad.
func Seal(key []byte, label, aad string, plain []byte) (string, error) {
	gcm, err := aead(key, label)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return prefix + base64.RawStdEncoding.EncodeToString(gcm.Seal(nonce, nonce, plain, []byte(aad))), nil
}

// Open decrypts a value Seal made with the same key, label and aad.
func Open(key []byte, label, aad, enc string) ([]byte, error) {
	raw, ok := strings.CutPrefix(enc, prefix)
	if !ok {
		return nil, ErrOpen
	}
	b, err := base64.RawStdEncoding.DecodeString(raw)
	if err != nil {
		return nil, ErrOpen
	}
	gcm, err := aead(key, label)
	if err != nil {
		return nil, err
	}
	if len(b) < gcm.NonceSize() {
		return nil, ErrOpen
	}
	pt, err := gcm.Open(nil, b[:gcm.NonceSize()], b[gcm.NonceSize():], []byte(aad))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// Sealed reports whether s looks like a sealed value (a stored value from
// before sealing was plain text).
func Sealed(s string) bool { return strings.HasPrefix(s, prefix) }
