package cli_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// bench and serve --role refuse what they cannot do with a message naming why.
func TestBenchAndRoleErrors(t *testing.T) {
	if code, _, errs := run(t, "bench"); code != 2 || !strings.Contains(errs, "name a workload") {
		t.Errorf("bench without workload: %d %q", code, errs)
	}
	if code, _, errs := run(t, "bench", "nope"); code != 1 || !strings.Contains(errs, `unknown workload "nope"`) {
		t.Errorf("bench nope: %d %q", code, errs)
	}
	// The two workloads that were "not available yet" run through the CLI.
	if code, out, errs := run(t, "bench", "forecast", "--rows", "300"); code != 0 || !strings.Contains(out, "forecast.Report (worst of 5)") {
		t.Errorf("bench forecast: %d %q %q", code, out, errs)
	}
	if code, out, errs := run(t, "bench", "economics", "--rows", "120", "--json"); code != 0 || !strings.Contains(out, `"recompute: economics.Service.Metrics (worst of 3)"`) {
		t.Errorf("bench economics: %d %q %q", code, out, errs)
	}
	if code, _, errs := run(t, "bench", "import", "--store", "mysql"); code != 2 || !strings.Contains(errs, `--store "mysql"`) {
		t.Errorf("bench --store mysql: %d %q", code, errs)
	}
	for _, n := range []string{"-2", "50001"} {
		if code, _, errs := run(t, "bench", "pixel", "--early-ack", n); code != 2 || !strings.Contains(errs, "--early-ack "+n+": want -1 (the default) or 0..50000") {
			t.Errorf("bench --early-ack %s: %d %q", n, code, errs)
		}
	}
	db := filepath.Join(t.TempDir(), "r.db")
	if code, _, errs := run(t, "serve", "--db", db, "--addr", "127.0.0.1:0", "--role", "boss"); code != 1 || !strings.Contains(errs, `role "boss": want all, web or worker`) {
		t.Errorf("serve --role boss: %d %q", code, errs)
	}
	for _, role := range []string{"web", "worker"} {
		if code, _, errs := run(t, "serve", "--db", db, "--addr", "127.0.0.1:0", "--role", role); code != 1 || !strings.Contains(errs, "needs PostgreSQL") {
			t.Errorf("serve --role %s on SQLite: %d %q", role, code, errs)
		}
	}
}
