// Package ops holds what an operator runs on a whole install: backup and
// restore of the database, and the sending pause a restore leaves behind
// (docs/reliability.md). A restored database may hold sends, sequence steps
// and webhook deliveries that were due when the backup was taken; they must
// not go out unreviewed, so restore pauses sending until an admin confirms.
package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/store"
)

// BackupResult says what Backup wrote.
type BackupResult struct {
	Kind          store.Kind `json:"store"`
	File          string     `json:"file"`
	Bytes         int64      `json:"bytes"`
	SchemaVersion int64      `json:"schema_version"`
	Method        string     `json:"method"`
	TookMS        int64      `json:"took_ms"`
}

// Backup writes a consistent copy of the database at dsn to file, which must
// not exist. SQLite: VACUUM INTO (an online snapshot; the server may keep
// running), then the copy is opened and checked (integrity_check, Rightsize
// schema). PostgreSQL: pg_dump --format=custom, which must be on PATH and at
// least the server's major version.
func Backup(ctx context.Context, dsn, file string) (BackupResult, error) {
	start := time.Now()
	res := BackupResult{File: file}
	if _, err := os.Stat(file); err == nil {
		return res, fmt.Errorf("%s exists; choose a new file name (a backup never overwrites)", file)
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return res, err
	}
	defer st.Close()
	res.Kind = st.Kind
	if res.SchemaVersion, err = st.AppliedVersion(ctx); err != nil {
		return res, err
	}
	if st.Kind == store.Postgres {
		res.Method = "pg_dump --format=custom"
		if err := pgDump(ctx, dsn, file); err != nil {
			return res, err
		}
	} else {
		res.Method = "sqlite VACUUM INTO"
		if err := st.VacuumInto(ctx, file); err != nil {
			return res, err
		}
		if _, err := CheckSQLiteBackup(ctx, file); err != nil {
			_ = os.Remove(file)
			return res, fmt.Errorf("the backup did not verify and was removed: %w", err)
		}
	}
	fi, err := os.Stat(file)
	if err != nil {
		return res, err
	}
	res.Bytes, res.TookMS = fi.Size(), time.Since(start).Milliseconds()
	return res, nil
}

// CheckSQLiteBackup opens a SQLite backup and checks that it is sound
// (integrity_check), that it is a Rightsize database and that its schema is
// not newer than this binary's. It returns the backup's schema version.
func CheckSQLiteBackup(ctx context.Context, file string) (int64, error) {
	if _, err := os.Stat(file); err != nil {
		return 0, fmt.Errorf("backup file: %w", err)
	}
	// A copy is checked, so opening (which may create -wal/-shm files) never
	// touches the backup itself.
	tmp, err := os.MkdirTemp("", "rightsize-check-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	probe := filepath.Join(tmp, "probe.db")
	if err := copyFile(file, probe); err != nil {
		return 0, err
	}
	st, err := store.Open(ctx, probe)
	if err != nil {
		return 0, fmt.Errorf("%s does not open as SQLite: %w", file, err)
	}
	defer st.Close()
	bad, err := st.IntegrityCheck(ctx)
	if err != nil {
		return 0, fmt.Errorf("%s is not a readable SQLite database: %w", file, err)
	}
	if bad != "" {
		return 0, fmt.Errorf("%s failed the integrity check: %s", file, bad)
	}
	if ok, err := st.HasTable(ctx, "workspaces"); err != nil || !ok {
		return 0, fmt.Errorf("%s is not a Rightsize database (no workspaces table)", file)
	}
	v, err := st.AppliedVersion(ctx)
	if err != nil {
		return 0, err
	}
	ours, err := store.SchemaVersion(store.SQLite)
	if err != nil {
		return 0, err
	}
	if v == 0 {
		return 0, fmt.Errorf("%s has no Rightsize schema version", file)
	}
	if v > ours {
		return v, fmt.Errorf("%s has schema version %d, newer than this binary's %d; restore it with a newer rightsize", file, v, ours)
	}
	return v, nil
}

// RestoreResult says what Restore did.
type RestoreResult struct {
	Kind          store.Kind `json:"store"`
	From          string     `json:"from"`
	Into          string     `json:"into"`
	Previous      string     `json:"previous,omitempty"`
	SchemaVersion int64      `json:"schema_version"`
	Migrated      bool       `json:"migrated"`
	SendingPaused bool       `json:"sending_paused"`
	// JobsHandedBack counts River jobs the backup held as running: no process
	// works them after a restore, so they are available again (or discarded
	// when out of attempts) instead of waiting hours for River's rescuer.
	JobsHandedBack int `json:"jobs_handed_back"`
}

// Restore replaces the database at dsn with the backup in file, migrates it
// to this binary's schema and pauses sending until an admin confirms. The
// server must be stopped. SQLite: the backup is checked first, the current
// file is kept beside it as <db>.pre-restore-<time>, and the copy is moved
// into place atomically. PostgreSQL: pg_restore --clean --if-exists
// --single-transaction into the database (pg_restore must be on PATH).
func Restore(ctx context.Context, dsn, file, by string) (RestoreResult, error) {
	res := RestoreResult{From: file}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		res.Kind, res.Into = store.Postgres, redact(dsn)
		if _, err := os.Stat(file); err != nil {
			return res, fmt.Errorf("backup file: %w", err)
		}
		if err := pgRestore(ctx, dsn, file); err != nil {
			return res, err
		}
	} else {
		res.Kind = store.SQLite
		path := strings.TrimPrefix(dsn, "sqlite:")
		res.Into = path
		v, err := CheckSQLiteBackup(ctx, file)
		if err != nil {
			return res, err
		}
		res.SchemaVersion = v
		if res.Previous, err = swapIn(file, path); err != nil {
			return res, err
		}
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return res, err
	}
	defer st.Close()
	before, err := st.AppliedVersion(ctx)
	if err != nil {
		return res, err
	}
	if err := st.Migrate(ctx); err != nil {
		return res, fmt.Errorf("restored, but migrating the backup failed: %w", err)
	}
	if res.SchemaVersion, err = st.AppliedVersion(ctx); err != nil {
		return res, err
	}
	res.Migrated = res.SchemaVersion != before
	err = st.InTx(ctx, func(q store.Q) error {
		return q.AdminSetFlag(ctx, store.InstanceFlag{Name: store.FlagSendingPaused, SetBy: by, SetAt: store.Now(),
			Value: fmt.Sprintf("restored from %s on %s", filepath.Base(file), time.Now().UTC().Format("2 Jan 2006 15:04 UTC"))})
	})
	if err != nil {
		return res, err
	}
	res.SendingPaused = true
	rescued, discarded, err := st.AdminRescueRunningJobs(ctx, store.Now(), "running in the backup when it was taken; handed back by restore")
	if err != nil {
		return res, err
	}
	res.JobsHandedBack = rescued + discarded
	return res, nil
}

// swapIn copies file next to path, syncs it, keeps the current database as
// path.pre-restore-<time> (with its -wal and -shm files) and renames the copy
// into place.
func swapIn(file, path string) (string, error) {
	dir := filepath.Dir(path)
	tmp := filepath.Join(dir, "."+filepath.Base(path)+".restore-tmp")
	_ = os.Remove(tmp)
	if err := copyFile(file, tmp); err != nil {
		return "", err
	}
	prev := ""
	if _, err := os.Stat(path); err == nil {
		prev = path + ".pre-restore-" + time.Now().UTC().Format("20060102T150405Z")
		if err := os.Rename(path, prev); err != nil {
			_ = os.Remove(tmp)
			return "", fmt.Errorf("keep the current database: %w", err)
		}
		for _, suf := range []string{"-wal", "-shm"} {
			if _, err := os.Stat(path + suf); err == nil {
				if err := os.Rename(path+suf, prev+suf); err != nil {
					return prev, fmt.Errorf("keep the current database's %s file: %w", suf, err)
				}
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		return prev, fmt.Errorf("move the backup into place: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return prev, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// ---- PostgreSQL --------------------------------------------------------------------

// pgEnv turns a postgres:// URL into the tool's --dbname argument and
// environment: the password goes in PGPASSWORD, not on the command line
// (where ps would show it).
func pgEnv(dsn string) (string, []string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", nil, fmt.Errorf("bad PostgreSQL URL: %w", err)
	}
	env := os.Environ()
	if u.User != nil {
		if pw, ok := u.User.Password(); ok {
			env = append(env, "PGPASSWORD="+pw)
			u.User = url.User(u.User.Username())
		}
	}
	return u.String(), env, nil
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://…"
	}
	return u.Redacted()
}

// PGTool finds a PostgreSQL client tool, with a message saying how to get it.
func PGTool(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s is not on PATH: install the PostgreSQL client tools of your server's major version or newer (Debian: apt-get install postgresql-client), or run it yourself: see docs/reliability.md", name)
	}
	return p, nil
}

func pgDump(ctx context.Context, dsn, file string) error {
	tool, err := PGTool("pg_dump")
	if err != nil {
		return err
	}
	db, env, err := pgEnv(dsn)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, tool, "--format=custom", "--no-owner", "--file="+file, "--dbname="+db)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		_ = os.Remove(file)
		return fmt.Errorf("pg_dump failed: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

func pgRestore(ctx context.Context, dsn, file string) error {
	tool, err := PGTool("pg_restore")
	if err != nil {
		return err
	}
	db, env, err := pgEnv(dsn)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, tool, "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error", "--dbname="+db, file)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pg_restore failed (nothing was changed: it runs in one transaction): %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}
