package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `rightsize import subscriptions file.csv`: the object and file as words,
// accounts linked by external id, history dates kept, reconciliation printed.
func TestCLIImportSubscriptions(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "r.db")
	if code, _, errs := run(t, "workspace", "create", "--db", db, "--name", "Acme", "--slug", "acme"); code != 0 {
		t.Fatalf("workspace: %s", errs)
	}
	accounts := filepath.Join(dir, "accounts.csv")
	subs := filepath.Join(dir, "subs.csv")
	if err := os.WriteFile(accounts, []byte("Account ID,Company\nA-1,Acme One\nA-2,Acme Two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(subs, []byte("Subscription ID,Account ID,Plan,Seats,Price,Interval,Start Date,End Date\n"+
		"S-1,A-1,Pro,5,20.00,monthly,2025-03-01,2026-02-01\n"+
		"S-2,A-2,Pro,1,1200.00,annual,2025-05-15,\n"+
		"S-3,A-3,Pro,1,10.00,monthly,2025-05-15,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := run(t, "import", "accounts", accounts, "--db", db, "--workspace", "acme"); code != 0 {
		t.Fatalf("accounts: %s %s", out, errs)
	}
	code, out, errs := run(t, "import", "subscriptions", subs, "--db", db, "--workspace", "acme", "--json")
	if code != 0 {
		t.Fatalf("subscriptions: %s %s", out, errs)
	}
	var res struct {
		Import struct {
			ObjectType                       string `json:"object_type"`
			Rows, Accepted, Rejected, Merged int64
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
	if res.Import.ObjectType != "subscription" || res.Import.Rows != 3 || res.Import.Accepted != 2 || res.Import.Rejected != 1 || !res.Reconciles ||
		len(res.Errors) != 1 || res.Errors[0].Line != 4 || res.Errors[0].Column != 5 || !strings.Contains(res.Errors[0].Reason, `"A-3"`) {
		t.Fatalf("import result: %s", out)
	}
	// The flag form still works, and the object is given once.
	if code, _, errs := run(t, "import", "subscriptions", subs, "--object", "subscriptions", "--db", db, "--workspace", "acme"); code != 2 || !strings.Contains(errs, "give the object once") {
		t.Fatalf("object twice: %d %s", code, errs)
	}
	if code, out, errs := run(t, "import", "--db", db, "--workspace", "acme", "--object", "subscriptions", "--file", subs); code != 0 || !strings.Contains(out, "merged duplicates 2") {
		t.Fatalf("flag form re-import: %s %s", out, errs)
	}
}
