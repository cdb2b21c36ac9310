package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A spend CSV through `rightsize import spend`, then `rightsize economics
// --json` reads the ledger back allocated, with the pending list.
func TestCLIEconomics(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "r.db")
	if code, _, errs := run(t, "workspace", "create", "--db", db, "--name", "Acme", "--slug", "acme", "--currency", "EUR"); code != 0 {
		t.Fatalf("workspace: %s", errs)
	}
	csv := filepath.Join(dir, "spend.csv")
	if err := os.WriteFile(csv, []byte("month,amount,category,segment,motion,external_id\n2026-01,\"1,000.00\",programs,smb,digital,A1\n2026-01,oops,tools,,,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The file before the flags, as the brief writes it.
	code, out, errs := run(t, "import", "spend", csv, "--db", db, "--workspace", "acme")
	if code != 0 || !strings.Contains(out, "rows 2 = accepted 1 + merged 0 + rejected 1 (reconciled)") || !strings.Contains(out, "line 3:") {
		t.Fatalf("import spend: %d\n%s%s", code, out, errs)
	}
	code, out, errs = run(t, "import", "spend", "--db", db, "--workspace", "acme", "--json", csv)
	var rep map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep["merged"] != 1.0 || rep["rejected"] != 1.0 {
		t.Fatalf("re-import: %d %s %s", code, out, errs)
	}
	if code, _, errs := run(t, "import", "spend", "--db", db, "--workspace", "acme"); code != 2 || !strings.Contains(errs, "give one spend CSV") {
		t.Fatalf("no file: %d %s", code, errs)
	}
	bad := filepath.Join(dir, "bad.csv")
	_ = os.WriteFile(bad, []byte("amount,category\n1,tools\n"), 0o644)
	if code, _, errs := run(t, "import", "spend", bad, "--db", db, "--workspace", "acme"); code != 1 || !strings.Contains(errs, "no month column") {
		t.Fatalf("bad file: %d %s", code, errs)
	}

	code, out, errs = run(t, "economics", "--db", db, "--workspace", "acme", "--from", "2026-01", "--to", "2026-03", "--json")
	if code != 0 {
		t.Fatalf("economics: %s", errs)
	}
	var r struct {
		From   string `json:"from"`
		Inputs struct {
			Spend struct {
				Allocated []struct {
					Segment  string `json:"segment"`
					Currency string `json:"currency"`
					Total    int64  `json:"total"`
				} `json:"allocated"`
			} `json:"spend"`
			Pending []string `json:"pending"`
		} `json:"inputs"`
		Metrics struct {
			Currency string `json:"currency"`
			Churn    string `json:"churn_convention"`
			Summary  struct {
				CAC struct {
					Blended struct {
						Cost  int64    `json:"cost"`
						Value *float64 `json:"value"`
					} `json:"blended"`
				} `json:"cac"`
			} `json:"summary"`
			Matrix struct {
				Cells []struct {
					Segment     string `json:"segment"`
					Motion      string `json:"motion"`
					BlendedCost int64  `json:"blended_cost"`
					Status      string `json:"status"`
				} `json:"cells"`
			} `json:"matrix"`
		} `json:"metrics"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("economics json: %v\n%s", err, out)
	}
	if r.From != "2026-01" || len(r.Inputs.Spend.Allocated) != 1 || r.Inputs.Spend.Allocated[0].Total != 100000 || r.Inputs.Spend.Allocated[0].Currency != "EUR" || len(r.Inputs.Pending) == 0 {
		t.Fatalf("economics report %+v", r)
	}
	// The metrics: 1,000.00 of spend and no customer yet, so no CAC.
	if r.Metrics.Currency != "EUR" || r.Metrics.Churn != "start_of_period" || r.Metrics.Summary.CAC.Blended.Cost != 100000 || r.Metrics.Summary.CAC.Blended.Value != nil {
		t.Fatalf("metrics %+v", r.Metrics)
	}
	if c := r.Metrics.Matrix.Cells[0]; c.Segment != "smb" || c.Motion != "digital" || c.BlendedCost != 100000 || c.Status != "no_data" {
		t.Fatalf("matrix %+v", r.Metrics.Matrix.Cells)
	}
	if code, _, errs := run(t, "economics", "--db", db, "--workspace", "acme", "--churn", "median"); code != 2 || !strings.Contains(errs, "--churn") {
		t.Fatalf("bad churn: %d %s", code, errs)
	}
	code, out, _ = run(t, "economics", "--db", db, "--workspace", "acme", "--from", "2026-01", "--to", "2026-03")
	if code != 0 || !strings.Contains(out, "1,000.00 EUR") || !strings.Contains(out, "Pending (next phase)") || !strings.Contains(out, "Segment × motion (LTV:CAC target 3, amber within 20 %)") {
		t.Fatalf("economics table: %d\n%s", code, out)
	}
	if code, _, errs := run(t, "economics", "--db", db, "--workspace", "acme", "--from", "2026-13"); code != 2 || !strings.Contains(errs, "--from") {
		t.Fatalf("bad month: %d %s", code, errs)
	}
}
