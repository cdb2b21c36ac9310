package webhooks

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks signing (https://www.standardwebhooks.com): a secret is
// "whsec_" + base64 of random bytes; a message is signed by
// HMAC-SHA256(secret bytes, "<webhook-id>.<webhook-timestamp>.<body>") and the
// signature header is "v1," + base64 of the MAC.

// SecretPrefix starts every signing secret.
const SecretPrefix = "whsec_"

// NewSecret returns a fresh signing secret: 32 random bytes.
func NewSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("webhooks: crypto/rand: " + err.Error())
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

func secretKey(secret string) ([]byte, error) {
	raw, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, errors.New("webhooks: secret does not start with " + SecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(key) == 0 {
		return nil, errors.New("webhooks: secret is not base64")
	}
	return key, nil
}

// Sign returns the webhook-signature header value of body sent as msgID at
// unix time ts.
func Sign(secret, msgID string, ts int64, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msgID))
	mac.Write([]byte{'.'})
	mac.Write([]byte(strconv.FormatInt(ts, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// Verify checks a received request's headers against body, as a receiver
// would: the timestamp must be within tolerance of now and one of the
// space-separated v1 signatures must match. docs/webhooks.md shows the same
// steps for receivers in other languages.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	id, tsText, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || tsText == "" || sigs == "" {
		return errors.New("webhooks: missing webhook-id, webhook-timestamp or webhook-signature")
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return errors.New("webhooks: bad webhook-timestamp")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("webhooks: timestamp %s is outside the tolerance", time.Unix(ts, 0).UTC().Format(time.RFC3339))
	}
	want, err := Sign(secret, id, ts, body)
	if err != nil {
		return err
	}
	for _, s := range strings.Fields(sigs) {
		if subtle.ConstantTimeCompare([]byte(s), []byte(want)) == 1 {
			return nil
		}
	}
	return errors.New("webhooks: no matching signature")
}

// ---- the secret at rest -----------------------------------------------------------

// A signing secret is sealed with AES-256-GCM under a key derived from the
// install's mail secret (config mail_secret, else the generated one in the
// database) — the key the IMAP password uses, with its own label — and the
// workspace id as additional data, so a row copied into another workspace
// does not open.

var errSealed = errors.New("the stored signing secret cannot be decrypted (was the install's mail_secret changed?); delete the endpoint and create it again")

func (s *Service) sealKey() []byte {
	mac := hmac.New(sha256.New, s.Key)
	mac.Write([]byte("webhook-secret:v1"))
	return mac.Sum(nil)
}

func (s *Service) aead() (cipher.AEAD, error) {
	block, err := aes.NewCipher(s.sealKey())
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func (s *Service) seal(ws int64, secret string) (string, error) {
	gcm, err := s.aead()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := gcm.Seal(nonce, nonce, []byte(secret), []byte(strconv.FormatInt(ws, 10)))
	return "v1:" + base64.RawStdEncoding.EncodeToString(out), nil
}

func (s *Service) open(ws int64, enc string) (string, error) {
	raw, ok := strings.CutPrefix(enc, "v1:")
	if !ok {
		return "", errSealed
	}
	b, err := base64.RawStdEncoding.DecodeString(raw)
	if err != nil {
		return "", errSealed
	}
	gcm, err := s.aead()
	if err != nil {
		return "", err
	}
	if len(b) < gcm.NonceSize() {
		return "", errSealed
	}
	pt, err := gcm.Open(nil, b[:gcm.NonceSize()], b[gcm.NonceSize():], []byte(strconv.FormatInt(ws, 10)))
	if err != nil {
		return "", errSealed
	}
	return string(pt), nil
}
