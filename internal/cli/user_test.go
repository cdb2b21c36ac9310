package cli_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/app"
	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/config"
)

// rightsize user disable / enable: the email may come first; a disabled user
// cannot log in, an enabled one can again.
func TestCLIUserDisableEnable(t *testing.T) {
	db := filepath.Join(t.TempDir(), "r.db")
	if code, _, errs := run(t, "workspace", "create", "--db", db, "--name", "Acme", "--slug", "acme"); code != 0 {
		t.Fatal(errs)
	}
	const pw = "a long enough password"
	if code, _, errs := run(t, "user", "create", "--db", db, "--email", "ann@acme.io", "--workspace", "acme", "--password", pw); code != 0 {
		t.Fatal(errs)
	}
	canLogin := func() bool {
		cfg := config.Defaults()
		cfg.DB = db
		a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), false)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		_, _, err = a.Auth.Login(context.Background(), "ann@acme.io", pw, "127.0.0.1")
		if err != nil && !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatal(err)
		}
		return err == nil
	}
	code, out, errs := run(t, "user", "disable", "Ann@Acme.io", "--db", db)
	if code != 0 || !strings.Contains(out, "Disabled ann@acme.io") {
		t.Fatalf("disable: %d %s %s", code, out, errs)
	}
	if canLogin() {
		t.Fatal("a disabled user logged in")
	}
	code, out, errs = run(t, "user", "enable", "--db", db, "--email", "ann@acme.io", "--json")
	var res struct {
		Email    string
		Disabled bool
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Email != "ann@acme.io" || res.Disabled {
		t.Fatalf("enable: %d %s %s", code, out, errs)
	}
	if !canLogin() {
		t.Fatal("an enabled user cannot log in")
	}
	if code, _, errs := run(t, "user", "disable", "nobody@acme.io", "--db", db); code != 1 || !strings.Contains(errs, "no user nobody@acme.io") {
		t.Fatalf("unknown user: %d %s", code, errs)
	}
	if code, _, errs := run(t, "user", "disable", "ann@acme.io", "--db", db, "--email", "bob@acme.io"); code != 2 || !strings.Contains(errs, "give the email once") {
		t.Fatalf("two emails: %d %s", code, errs)
	}
}
