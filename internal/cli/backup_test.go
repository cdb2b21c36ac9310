package cli_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// backup and restore through the command line on a SQLite file: the
// workspace created after the backup is gone after the restore, and restore
// says sending is paused.
func TestCLIBackupRestore(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "r.db")
	if code, _, errs := run(t, "workspace", "create", "--db", db, "--name", "Acme", "--slug", "acme"); code != 0 {
		t.Fatalf("workspace: %s", errs)
	}
	if code, _, errs := run(t, "backup", "--db", db); code != 2 || !strings.Contains(errs, "--out is required") {
		t.Fatalf("backup without --out: %d %s", code, errs)
	}
	file := filepath.Join(dir, "acme.backup")
	code, out, errs := run(t, "backup", "--db", db, "--out", file, "--json")
	if code != 0 {
		t.Fatalf("backup: %s", errs)
	}
	var b map[string]any
	if err := json.Unmarshal([]byte(out), &b); err != nil || b["method"] != "sqlite VACUUM INTO" || b["bytes"].(float64) <= 0 {
		t.Fatalf("backup json %s %v", out, err)
	}
	if code, _, errs := run(t, "workspace", "create", "--db", db, "--name", "Later", "--slug", "later"); code != 0 {
		t.Fatalf("workspace later: %s", errs)
	}
	code, out, errs = run(t, "restore", "--db", db, "--from", file)
	if code != 0 || !strings.Contains(out, "Sending is PAUSED") || !strings.Contains(out, "kept as") {
		t.Fatalf("restore: %d %s %s", code, out, errs)
	}
	_, out, _ = run(t, "workspace", "list", "--db", db, "--json")
	if !strings.Contains(out, `"acme"`) || strings.Contains(out, `"later"`) {
		t.Fatalf("workspaces after restore: %s", out)
	}
	if code, _, errs := run(t, "restore", "--db", db, "--from", filepath.Join(dir, "missing")); code != 1 || !strings.Contains(errs, "backup file") {
		t.Fatalf("restore from a missing file: %d %s", code, errs)
	}
}
