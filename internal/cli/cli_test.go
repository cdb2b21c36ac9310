package cli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/cli"
)

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

// The scripted path a CI job or an operator takes, end to end on a SQLite file.
func TestCLIEndToEnd(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "r.db")
	if code, _, errs := run(t, "migrate", "--db", db); code != 0 {
		t.Fatalf("migrate: %s", errs)
	}
	if code, _, errs := run(t, "workspace", "create", "--db", db, "--name", "Acme", "--slug", "acme", "--currency", "EUR"); code != 0 {
		t.Fatalf("workspace: %s", errs)
	}
	code, out, errs := run(t, "user", "create", "--db", db, "--email", "Ann@Acme.io", "--workspace", "acme", "--role", "admin", "--json")
	if code != 0 {
		t.Fatalf("user: %s", errs)
	}
	var u map[string]any
	if err := json.Unmarshal([]byte(out), &u); err != nil || u["email"] != "ann@acme.io" || len(u["password"].(string)) < 16 {
		t.Fatalf("user json: %s %v", out, err)
	}
	// The agency operator: one user, a second workspace, a role there, then removal.
	if code, _, errs := run(t, "workspace", "create", "--db", db, "--name", "Beta", "--slug", "beta"); code != 0 {
		t.Fatalf("workspace beta: %s", errs)
	}
	if code, _, errs := run(t, "user", "add", "--db", db, "--email", "ann@acme.io", "--workspace", "beta"); code != 2 || !strings.Contains(errs, "needs --role") {
		t.Fatalf("user add without role: %d %s", code, errs)
	}
	if code, out, errs := run(t, "user", "add", "--db", db, "--email", "ann@acme.io", "--workspace", "beta", "--role", "ae"); code != 0 || !strings.Contains(out, "ae in beta") {
		t.Fatalf("user add: %s %s", out, errs)
	}
	if code, _, errs := run(t, "user", "add", "--db", db, "--email", "nobody@acme.io", "--workspace", "beta", "--role", "ae"); code != 1 || !strings.Contains(errs, "no user nobody@acme.io") {
		t.Fatalf("user add unknown: %d %s", code, errs)
	}
	if code, out, errs := run(t, "user", "remove", "--db", db, "--email", "ann@acme.io", "--workspace", "beta"); code != 0 || !strings.Contains(out, "Removed") {
		t.Fatalf("user remove: %s %s", out, errs)
	}
	if code, _, errs := run(t, "user", "remove", "--db", db, "--email", "ann@acme.io", "--workspace", "beta"); code != 1 || !strings.Contains(errs, "not a member of beta") {
		t.Fatalf("user remove twice: %d %s", code, errs)
	}
	code, out, errs = run(t, "apikey", "create", "--db", db, "--workspace", "acme", "--name", "ci", "--role", "manager", "--json")
	if code != 0 {
		t.Fatalf("apikey: %s", errs)
	}
	var k struct {
		Secret string
		Key    struct{ ID int64 }
	}
	if err := json.Unmarshal([]byte(out), &k); err != nil || !strings.HasPrefix(k.Secret, "rsk_") {
		t.Fatalf("apikey json: %s %v", out, err)
	}
	// A partner key acts for a partner member (who is granted the role first).
	if code, _, errs := run(t, "apikey", "create", "--db", db, "--workspace", "acme", "--name", "dialer", "--role", "partner"); code == 0 || !strings.Contains(errs, "user_id") {
		t.Fatalf("partner key without a member: %d %s", code, errs)
	}
	if code, _, errs := run(t, "user", "create", "--db", db, "--email", "sdr@outsourced.io", "--workspace", "acme", "--role", "partner"); code != 0 {
		t.Fatalf("partner user: %s", errs)
	}
	if code, out, errs := run(t, "apikey", "create", "--db", db, "--workspace", "acme", "--name", "dialer", "--role", "partner", "--user", "sdr@outsourced.io", "--json"); code != 0 || !strings.Contains(out, `"role": "partner"`) || !strings.Contains(out, `"user_id"`) {
		t.Fatalf("partner key: %d %s %s", code, out, errs)
	}
	code, out, _ = run(t, "apikey", "list", "--db", db, "--workspace", "acme")
	if code != 0 || !strings.Contains(out, "ci") || strings.Contains(out, k.Secret) {
		t.Fatalf("apikey list shows the secret or not the key: %s", out)
	}
	if code, _, errs := run(t, "apikey", "revoke", "--db", db, "--workspace", "acme", "--id", "999"); code == 0 || !strings.Contains(errs, "no active key 999") {
		t.Fatalf("revoke missing key: %d %s", code, errs)
	}

	csv := filepath.Join(dir, "c.csv")
	content := "\ufeffEmail;First Name;Signed up\r\nann@x.io;Ann;25-12-2024\r\nbad;Bob;01-01-2024\r\n=cmd@x.io;Eve;02-01-2024\r\n"
	if err := os.WriteFile(csv, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs = run(t, "import", "--db", db, "--workspace", "acme", "--object", "contacts", "--file", csv, "--json")
	if code != 0 {
		t.Fatalf("import: %s %s", out, errs)
	}
	var res struct {
		Import struct {
			Rows, Accepted, Rejected, Merged int64
			Status                           string
		}
		Errors []struct {
			Line, Column int64
			Reason       string
		}
		Reconciles bool
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Import.Rows != 3 || res.Import.Accepted != 2 || res.Import.Rejected != 1 || !res.Reconciles || len(res.Errors) != 1 || res.Errors[0].Line != 3 || res.Errors[0].Column != 1 {
		t.Fatalf("import result: %s", out)
	}
	code, out, errs = run(t, "export", "--db", db, "--workspace", "acme", "--object", "contacts")
	// "=cmd@x.io" is a valid address; the export must not hand it to a spreadsheet as a formula.
	if code != 0 || !strings.Contains(out, "ann@x.io") || !strings.Contains(out, ",'=cmd@x.io,") {
		t.Fatalf("export: %s %s", out, errs)
	}
	if code, _, errs := run(t, "export", "--db", db, "--workspace", "nope", "--object", "contacts"); code == 0 || !strings.Contains(errs, `no workspace with slug "nope"`) {
		t.Fatalf("unknown workspace: %s", errs)
	}
}

func TestCLIUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"bogus"}, 2, "unknown command"},
		{[]string{"import", "--db", filepath.Join(t.TempDir(), "x.db"), "--object", "widgets"}, 2, "--object must be"},
		{[]string{"serve", "--addr", "nonsense"}, 1, `addr "nonsense"`},
		{[]string{"serve", "--log-level", "loud"}, 1, `log_level "loud"`},
		{[]string{"user"}, 2, "want one of"},
	} {
		code, _, errs := run(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%v: code %d, stderr %q; want %d and %q", c.args, code, errs, c.code, c.want)
		}
	}
	if code, out, _ := run(t, "help"); code != 0 || !strings.Contains(out, "serve") {
		t.Errorf("help: %d %s", code, out)
	}
}

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "c.json")
	os.WriteFile(cfgFile, []byte(`{"db": "`+filepath.Join(dir, "file.db")+`", "log_level": "warn"}`), 0o600)
	t.Setenv("RIGHTSIZE_DB", filepath.Join(dir, "env.db"))
	// env beats file: migrate creates env.db, not file.db
	if code, _, errs := run(t, "migrate", "--config", cfgFile); code != 0 {
		t.Fatal(errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "env.db")); err != nil {
		t.Fatalf("env did not beat the file: %v", err)
	}
	// flag beats env
	if code, _, errs := run(t, "migrate", "--config", cfgFile, "--db", filepath.Join(dir, "flag.db")); code != 0 {
		t.Fatal(errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "flag.db")); err != nil {
		t.Fatalf("flag did not beat env: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "file.db")); err == nil {
		t.Fatal("file value used despite env and flag")
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{\n  \"db\": \"x\",\n  \"addr\" 1\n}"), 0o600)
	if code, _, errs := run(t, "migrate", "--config", bad); code == 0 || !strings.Contains(errs, "3:") {
		t.Fatalf("bad config file: %s", errs)
	}
	os.WriteFile(bad, []byte(`{"colour": "blue"}`), 0o600)
	if code, _, errs := run(t, "migrate", "--config", bad); code == 0 || !strings.Contains(errs, `unknown setting "colour"`) {
		t.Fatalf("unknown setting: %s", errs)
	}
}
