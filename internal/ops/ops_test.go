package ops

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/config"
	"github.com/rightsize/rightsize/internal/mail"
	"github.com/rightsize/rightsize/internal/mail/smtptest"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

// seed makes a workspace with a sender, a template, a contact and one send
// planned (due now) in the ledger.
func seed(t *testing.T, st *store.Store) (ws, contact int64) {
	t.Helper()
	ctx := context.Background()
	svc, err := mail.New(ctx, st, mail.Options{BaseURL: "https://crm.test"})
	if err != nil {
		t.Fatal(err)
	}
	err = st.InTx(ctx, func(q store.Q) error {
		w := model.Workspace{Name: "Acme", Slug: "acme", Currency: "USD"}
		if err := q.CreateWorkspace(ctx, &w); err != nil {
			return err
		}
		ws = w.ID
		if err := q.SaveMailSender(ctx, ws, &store.MailSender{FromAddress: "ada@sender.test", PostalAddress: "1 Engine St, London"}); err != nil {
			return err
		}
		tm := store.MailTemplate{Name: "hello", Subject: "Hello", HTML: "<p>Hi</p>"}
		if err := q.SaveMailTemplate(ctx, ws, &tm); err != nil {
			return err
		}
		c := model.Contact{Email: "kept@rcpt.test", FirstName: "Before", LifecycleStage: "lead"}
		if err := q.CreateContact(ctx, ws, &c); err != nil {
			return err
		}
		contact = c.ID
		_, _, err := svc.Plan(ctx, q, ws, mail.PlanRequest{DedupeKey: "stale-step", ContactID: c.ID, TemplateID: tm.ID})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ws, contact
}

// TestBackupMutateRestore: backup, change data, restore; the data is as it
// was at backup time, sending is paused, and the send that was due in the
// backup does not go out until an admin confirms.
func TestBackupMutateRestore(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			ctx := context.Background()
			var dsn string
			if kind == store.SQLite {
				dsn = filepath.Join(t.TempDir(), "rightsize.db")
			} else {
				if _, err := PGTool("pg_dump"); err != nil {
					t.Skip(err.Error())
				}
				dsn = storetest.NewPostgresDSN(t)
			}
			st, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			ws, contact := seed(t, st)
			file := filepath.Join(t.TempDir(), "backup.rsb")
			res, err := Backup(ctx, dsn, file)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := store.SchemaVersion(kind)
			if res.Bytes == 0 || res.SchemaVersion != want {
				t.Fatalf("backup %+v, want schema version %d", res, want)
			}
			if _, err := Backup(ctx, dsn, file); err == nil {
				t.Fatal("a backup overwrote an existing file")
			}
			// After the backup: a rename, a new contact.
			err = st.InTx(ctx, func(q store.Q) error {
				c, err := q.GetContact(ctx, ws, contact)
				if err != nil {
					return err
				}
				c.FirstName = "After"
				if err := q.UpdateContact(ctx, ws, &c); err != nil {
					return err
				}
				n := model.Contact{Email: "new@rcpt.test", LifecycleStage: "lead"}
				return q.CreateContact(ctx, ws, &n)
			})
			if err != nil {
				t.Fatal(err)
			}
			st.Close() // the server is stopped for a restore
			rr, err := Restore(ctx, dsn, file, "cli@test")
			if err != nil {
				t.Fatal(err)
			}
			if !rr.SendingPaused || rr.SchemaVersion != want {
				t.Fatalf("restore %+v", rr)
			}
			if kind == store.SQLite {
				if rr.Previous == "" {
					t.Fatal("the replaced database was not kept")
				}
				if _, err := os.Stat(rr.Previous); err != nil {
					t.Fatalf("kept database: %v", err)
				}
			}
			st, err = store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			c, err := st.Read().GetContact(ctx, ws, contact)
			if err != nil || c.FirstName != "Before" {
				t.Fatalf("restored contact %+v %v, want first name Before", c, err)
			}
			if _, err := st.Read().ContactByEmail(ctx, ws, "new@rcpt.test"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("a contact created after the backup survived the restore: %v", err)
			}
			sending := &Sending{St: st}
			status, err := sending.Status(ctx)
			if err != nil || !status.Paused || !strings.Contains(status.Reason, "backup.rsb") || status.SetBy != "cli@test" {
				t.Fatalf("status %+v %v", status, err)
			}
			// The due send waits while paused…
			srv, err := smtptest.Start("")
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			host, port, _ := strings.Cut(srv.Addr, ":")
			cfg := config.Defaults()
			cfg.SMTPHost, cfg.SMTPTLS = host, "none"
			cfg.SMTPPort, _ = strconv.Atoi(port)
			tr, err := mail.NewTransport(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			m, err := mail.New(ctx, st, mail.Options{Transport: tr, BaseURL: "https://crm.test"})
			if err != nil {
				t.Fatal(err)
			}
			if s, err := m.Drain(ctx); err != nil || s.Accepted != 0 || srv.Count() != 0 {
				t.Fatalf("paused drain sent: %+v %v, %d messages", s, err, srv.Count())
			}
			// …and goes out once an admin confirms.
			uid := int64(1)
			if s, err := sending.Confirm(ctx, model.Actor{Workspace: ws, UserID: &uid, Label: "user:admin"}); err != nil || s.Paused {
				t.Fatalf("confirm: %+v %v", s, err)
			}
			if s, err := m.Drain(ctx); err != nil || s.Accepted != 1 || srv.Count() != 1 {
				t.Fatalf("after confirming: %+v %v, %d messages", s, err, srv.Count())
			}
			audit, err := st.Read().ListAudit(ctx, ws, 10)
			if err != nil || len(audit) == 0 || audit[0].Action != "sending_resume" {
				t.Fatalf("audit %+v %v", audit, err)
			}
		})
	}
}

func TestRestoreRefusesBadBackups(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dsn := filepath.Join(dir, "live.db")
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	seed(t, st)
	st.Close()
	garbage := filepath.Join(dir, "garbage.db")
	_ = os.WriteFile(garbage, []byte("not a database at all, just some text that is long enough to look like a header"), 0o600)
	other := filepath.Join(dir, "other.db")
	o, _ := store.Open(ctx, other)
	_, _ = o.W.Exec(`CREATE TABLE notes (id INTEGER PRIMARY KEY)`)
	o.Close()
	for _, f := range []string{garbage, other, filepath.Join(dir, "missing.db")} {
		if _, err := Restore(ctx, dsn, f, "cli"); err == nil {
			t.Errorf("restore from %s succeeded", filepath.Base(f))
		}
	}
	// The live database is untouched by the refused restores.
	st, err = store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if ok, _ := st.HasTable(ctx, "workspaces"); !ok {
		t.Fatal("a refused restore replaced the live database")
	}
	if paused, _ := st.Read().AdminSendingPaused(ctx); paused {
		t.Fatal("a refused restore paused sending")
	}
}
