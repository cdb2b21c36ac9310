package app_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// Through the whole app: the one-click POST from another origin (as a mail
// client's page would send it) passes CrossOriginProtection with no cookie or
// key, a cross-origin POST elsewhere is still refused, and GET only asks.
func TestOneClickUnsubscribeThroughApp(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			e := apptest.New(t, kind)
			_, tok := e.App.Mail.UnsubscribeURL(e.A.ID, 1, "ann@x.test")
			code, body := e.Do(t, "", "GET", "/u/"+tok, "")
			if code != 200 || !strings.Contains(string(body), "Unsubscribe ann@x.test") {
				t.Fatalf("GET %d %s", code, body)
			}
			if _, err := e.App.St.Read().GetSuppression(context.Background(), e.A.ID, "ann@x.test"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("GET unsubscribed: %v", err)
			}
			post := func(path string) int {
				req, _ := http.NewRequest("POST", e.URL+path, strings.NewReader("List-Unsubscribe=One-Click"))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Sec-Fetch-Site", "cross-site")
				req.Header.Set("Origin", "https://mail.example")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				return res.StatusCode
			}
			if c := post("/u/" + tok); c != 200 {
				t.Fatalf("cross-site one-click POST: %d", c)
			}
			if sp, err := e.App.St.Read().GetSuppression(context.Background(), e.A.ID, "ann@x.test"); err != nil || sp.Reason != store.SuppressUnsub {
				t.Fatalf("suppression %+v %v", sp, err)
			}
			if c := post("/login"); c != http.StatusForbidden {
				t.Fatalf("cross-site POST /login: %d (CrossOriginProtection must still apply elsewhere)", c)
			}
		})
	}
}
