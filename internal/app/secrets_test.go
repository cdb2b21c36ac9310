package app_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/api"
	"github.com/rightsize/rightsize/internal/app"
	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/config"
	"github.com/rightsize/rightsize/internal/mail/smtptest"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// syncBuffer is a log sink several goroutines write to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// forms of a secret as it could appear in a page or a JSON document.
func variants(s string) []string {
	j, _ := json.Marshal(s)
	return []string{s, html.EscapeString(s), strings.ReplaceAll(s, "+", "&#43;"), string(j[1 : len(j)-1]), url.QueryEscape(s)}
}

type leakCheck struct {
	secrets map[string]string // name → value
}

func (l *leakCheck) check(t *testing.T, where, text string) {
	t.Helper()
	for name, v := range l.secrets {
		for _, form := range variants(v) {
			if strings.Contains(text, form) {
				t.Errorf("%s shows the %s", where, name)
				break
			}
		}
	}
	if strings.Contains(text, "$argon2id$") {
		t.Errorf("%s shows a password hash", where)
	}
}

var hrefRE = regexp.MustCompile(`href="(/[^"]*)"`)

// Every secret (SMTP password, install and hook secrets, a DKIM private key,
// an IMAP password, a webhook signing secret, API key secrets, a session
// token, a password reset token) is set; then every GET route of the API and
// every UI page an admin can reach are read, and the app's log is read: none
// shows a secret. The stored columns hold sealed values or hashes, never the
// plain text.
func TestSecretsNeverShown(t *testing.T) {
	srv, err := smtptest.Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	host, port, _ := strings.Cut(srv.Addr, ":")
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			ctx := context.Background()
			logs := &syncBuffer{}
			// Errors logged outside the app's logger (httpx.Error) go to the default.
			prev := slog.Default()
			slog.SetDefault(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
			t.Cleanup(func() { slog.SetDefault(prev) })
			l := &leakCheck{secrets: map[string]string{
				"SMTP password":    "smtp-pass-Zq8vN3kW",
				"mail secret":      "install-key-Hq2mX9pL7tR4",
				"mail hook secret": "hook-secret-Vb6cJ1yS",
			}}
			capture := &captureMailer{}
			e := apptest.NewWith(t, kind, apptest.Options{Log: logs, BeforeServe: func(a *app.App) {
				capture.next = a.Auth.Mailer
				a.Auth.Mailer = capture
			}, Config: func(c *config.Config) {
				c.SMTPHost, c.SMTPTLS = host, "none"
				c.SMTPPort, _ = strconv.Atoi(port)
				c.SMTPUsername, c.SMTPPassword = "smtp-user", l.secrets["SMTP password"]
				c.MailSecret, c.MailHookSecret = l.secrets["mail secret"], l.secrets["mail hook secret"]
			}})
			admin := e.A.Keys["admin"]
			l.secrets["admin API key"] = admin
			call := func(method, path, body string, hdr ...string) (int, []byte) {
				t.Helper()
				req, _ := http.NewRequest(method, e.URL+path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+admin)
				req.Header.Set("Content-Type", "application/json")
				for i := 0; i+1 < len(hdr); i += 2 {
					req.Header.Set(hdr[i], hdr[i+1])
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				return res.StatusCode, b
			}

			// DKIM private key.
			_, priv, _ := ed25519.GenerateKey(rand.Reader)
			der, _ := x509.MarshalPKCS8PrivateKey(priv)
			keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
			l.secrets["DKIM key"] = strings.Split(keyPEM, "\n")[1]
			sender, _ := json.Marshal(map[string]any{"from_address": "ada@sender.test", "postal_address": "1 Engine St", "dkim_domain": "sender.test", "dkim_selector": "rs1", "dkim_private_key": keyPEM})
			if code, b := call("PUT", "/api/v1/mail/sender", string(sender)); code != 200 {
				t.Fatalf("sender: %d %s", code, b)
			}
			// IMAP password.
			l.secrets["IMAP password"] = "imap-pass-Kd4wQ8eT"
			if code, b := call("PUT", "/api/v1/mail/imap", `{"host":"imap.sender.test","username":"replies","password":"`+l.secrets["IMAP password"]+`"}`); code != 200 {
				t.Fatalf("imap: %d %s", code, b)
			}
			// A webhook's signing secret (shown once, in the creation answer).
			code, b := call("POST", "/api/v1/webhooks", `{"url":"https://hooks.example.com/rightsize","event_types":[]}`)
			var hook struct {
				ID     int64
				Secret string
			}
			if code != 201 || json.Unmarshal(b, &hook) != nil || !strings.HasPrefix(hook.Secret, "whsec_") {
				t.Fatalf("webhook: %d %s", code, b)
			}
			l.secrets["webhook secret"] = hook.Secret
			call("POST", fmt.Sprintf("/api/v1/webhooks/%d/test", hook.ID), "")
			// An API key made with an Idempotency-Key (its answer is kept for replay).
			code, b = call("POST", "/api/v1/api-keys", `{"name":"ci","role":"ldr"}`, api.IdemHeader, "key-create-1")
			var made struct{ Secret string }
			if code != 201 || json.Unmarshal(b, &made) != nil || !strings.HasPrefix(made.Secret, auth.KeyPrefix) {
				t.Fatalf("api key: %d %s", code, b)
			}
			l.secrets["new API key"] = made.Secret
			if code, b := call("POST", "/api/v1/api-keys", `{"name":"ci","role":"ldr"}`, api.IdemHeader, "key-create-1"); code != 201 || !bytes.Contains(b, []byte(made.Secret)) {
				t.Fatalf("replay: %d %s", code, b)
			}
			// The mail hook, right and wrong.
			for _, tok := range []string{l.secrets["mail hook secret"], "wrong"} {
				req, _ := http.NewRequest("POST", e.URL+"/hooks/mail/events", strings.NewReader(`{"events":[]}`))
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Content-Type", "application/json")
				if res, err := http.DefaultClient.Do(req); err == nil {
					res.Body.Close()
				}
			}
			// A session token and a password reset token; wrong logins.
			res, _ := form(t, e, "/login", url.Values{"email": {"admin@alpha.example.com"}, "password": {apptest.Password}})
			cookie := sessionCookie(t, res)
			l.secrets["session token"] = cookie.Value
			form(t, e, "/login", url.Values{"email": {"admin@alpha.example.com"}, "password": {"a wrong password for the log"}})
			l.secrets["typed password"] = "a wrong password for the log"
			form(t, e, "/forgot", url.Values{"email": {"ae@alpha.example.com"}})
			capture.mu.Lock()
			l.secrets["reset token"] = capture.token
			capture.mu.Unlock()
			if len(l.secrets["reset token"]) < 40 {
				t.Fatal("no reset token")
			}
			// The SMTP server offers no AUTH: the reset mail fails and is logged; poll the ledger.
			deadline := time.Now().Add(time.Minute)
			for {
				rows, _ := e.App.St.Read().AdminSystemMail(ctx, 5)
				if len(rows) == 1 && rows[0].Attempts > 0 && rows[0].State != store.SystemMailStarted {
					if rows[0].State == store.SystemMailPlanned && !strings.HasPrefix(rows[0].BodyEnc, "v1:") {
						t.Fatalf("a waiting reset mail is not sealed: %.12q", rows[0].BodyEnc)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the reset mail was not tried: %+v", rows)
				}
				time.Sleep(50 * time.Millisecond) // polling the ledger with a deadline
			}

			// Stored columns: sealed or hashed, never the plain text.
			snd, _ := e.App.St.Read().GetMailSender(ctx, e.A.ID)
			im, _ := e.App.St.Read().GetMailIMAP(ctx, e.A.ID)
			ep, _ := e.App.St.Read().GetWebhookEndpoint(ctx, e.A.ID, hook.ID, false)
			for name, v := range map[string]string{"dkim_key_pem": snd.DKIMKeyPEM, "mail_imap password": im.PasswordEnc, "webhook secret": ep.SecretEnc} {
				if !strings.HasPrefix(v, "v1:") {
					t.Errorf("%s is not sealed: %.12q", name, v)
				}
				l.check(t, "stored "+name, v)
			}
			if _, err := e.App.St.Read().APIKeyByHash(ctx, made.Secret); err == nil {
				t.Error("an API key is stored as its plain secret")
			}
			p := e.Principal(t, admin)
			var idem store.IdemKey
			_ = e.App.St.InTx(ctx, func(q store.Q) (err error) {
				idem, _, err = q.ClaimIdemKey(ctx, e.A.ID, store.IdemKey{Principal: "key:" + strconv.FormatInt(p.APIKeyID, 10), Key: "key-create-1", CreatedAt: store.Now(), LockedUntil: store.Now()}, time.Time{})
				return err
			})
			if idem.Status != 201 || !bytes.HasPrefix(idem.Body, []byte("v1:")) {
				t.Errorf("kept idempotent answer: status %d, sealed %v", idem.Status, bytes.HasPrefix(idem.Body, []byte("v1:")))
			}
			l.check(t, "stored idempotent answer", string(idem.Body))
			mails, _ := e.App.St.Read().AdminSystemMail(ctx, 10)
			for _, m := range mails {
				l.check(t, "stored system mail", m.BodyEnc+m.DedupeKey+m.LastText)
			}

			// Every GET route of the API, as admin.
			ids := map[string]string{"id": "1", "object": "contacts"}
			var contact struct{ ID int64 }
			_, b = call("POST", "/api/v1/contacts", `{"email":"walk@x.io"}`)
			_ = json.Unmarshal(b, &contact)
			seen := 0
			for _, rt := range api.New(api.Deps{}).Routes() {
				if rt.Method != "GET" {
					continue
				}
				path := rt.Pattern
				if strings.HasPrefix(path, "/api/v1/webhooks/{id}") {
					path = strings.Replace(path, "{id}", strconv.FormatInt(hook.ID, 10), 1)
				} else if strings.HasPrefix(path, "/api/v1/contacts/{id}") {
					path = strings.Replace(path, "{id}", strconv.FormatInt(contact.ID, 10), 1)
				}
				for k, v := range ids {
					path = strings.ReplaceAll(path, "{"+k+"}", v)
				}
				path = regexp.MustCompile(`\{[a-z_]+\}`).ReplaceAllString(path, "1")
				_, b := call("GET", path, "")
				l.check(t, "GET "+path, string(b))
				seen++
			}
			if seen < 50 {
				t.Fatalf("walked only %d API routes", seen)
			}

			// Every UI page reachable from the dashboard and the settings, as admin.
			queue := []string{"/", "/settings", "/settings/mail", "/settings/webhooks", fmt.Sprintf("/settings/webhooks/%d", hook.ID), "/settings/api-keys", "/settings/password", "/login", "/forgot"}
			visited := map[string]bool{}
			for len(queue) > 0 && len(visited) < 400 {
				p := queue[0]
				queue = queue[1:]
				if visited[p] || strings.HasPrefix(p, "/static/") || strings.HasPrefix(p, "/api/") {
					continue
				}
				visited[p] = true
				res, page := get(t, e, p, cookie)
				hdrs := res.Header.Clone()
				hdrs.Del("Set-Cookie")
				l.check(t, "page "+p, page+fmt.Sprint(hdrs))
				for _, m := range hrefRE.FindAllStringSubmatch(page, -1) {
					if u := html.UnescapeString(m[1]); !visited[u] {
						queue = append(queue, u)
					}
				}
			}
			if len(visited) < 40 {
				t.Fatalf("reached only %d UI pages: %v", len(visited), slices.Sorted(func(yield func(string) bool) {
					for k := range visited {
						if !yield(k) {
							return
						}
					}
				}))
			}
			// The log, everything at debug level.
			out := logs.String()
			if !strings.Contains(out, "/login") || len(out) < 1000 {
				t.Fatalf("the log capture saw little: %d bytes", len(out))
			}
			l.check(t, "the log", out)
		})
	}
}

// captureMailer passes reset mail on to the app's mailer and keeps the last
// token (the test cannot read it from a mail its SMTP server refused).
type captureMailer struct {
	next  auth.ResetMailer
	mu    sync.Mutex
	token string
}

func (c *captureMailer) SendPasswordReset(ctx context.Context, q store.Q, to, token string, exp time.Time) error {
	c.mu.Lock()
	c.token = token
	c.mu.Unlock()
	return c.next.SendPasswordReset(ctx, q, to, token, exp)
}
