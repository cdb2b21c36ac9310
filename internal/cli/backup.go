package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/rightsize/rightsize/internal/config"
	"github.com/rightsize/rightsize/internal/ops"
)

// runBackup writes a consistent copy of the database (docs/reliability.md).
func runBackup(ctx context.Context, e *env, args []string) error {
	fs := e.flags("backup", "backup --out FILE [--db path|postgres://…] [--json]")
	cfg := config.Defaults()
	config.Bind(fs, &cfg, false)
	out := fs.String("out", "", "file to write (must not exist)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := config.Load(fs, &cfg, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("--out is required: the file to write the backup to")
	}
	res, err := ops.Backup(ctx, cfg.DB, *out)
	if err != nil {
		return err
	}
	if *asJSON {
		return e.printJSON(res)
	}
	fmt.Fprintf(e.stdout, "Backed up the %s database (schema version %d) to %s: %d bytes in %d ms, by %s.\n", res.Kind, res.SchemaVersion, res.File, res.Bytes, res.TookMS, res.Method)
	return nil
}

// runRestore replaces the database with a backup and pauses sending until an
// admin confirms in the UI or the API.
func runRestore(ctx context.Context, e *env, args []string) error {
	fs := e.flags("restore", "restore --from FILE [--db path|postgres://…] [--json]   (stop the server first)")
	cfg := config.Defaults()
	config.Bind(fs, &cfg, false)
	from := fs.String("from", "", "backup file written by rightsize backup")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := config.Load(fs, &cfg, args); err != nil {
		return err
	}
	if *from == "" {
		return usagef("--from is required: the backup file to restore")
	}
	host, _ := os.Hostname()
	res, err := ops.Restore(ctx, cfg.DB, *from, "cli@"+host)
	if err != nil {
		return err
	}
	if *asJSON {
		return e.printJSON(res)
	}
	fmt.Fprintf(e.stdout, "Restored %s into the %s database %s (schema version %d).\n", res.From, res.Kind, res.Into, res.SchemaVersion)
	if res.Previous != "" {
		fmt.Fprintf(e.stdout, "The database it replaced is kept as %s.\n", res.Previous)
	}
	if res.JobsHandedBack > 0 {
		fmt.Fprintf(e.stdout, "%d background job(s) the backup held as running were handed back (they run again when the server starts).\n", res.JobsHandedBack)
	}
	fmt.Fprintln(e.stdout, "Sending is PAUSED: no email, sequence step or webhook goes out until an admin confirms (the banner in the UI, or POST /api/v1/sending/resume).")
	return nil
}
