package importer_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/rightsize/rightsize/internal/pipeline"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/importer"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
	"github.com/riverqueue/river"
)

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

type fixture struct {
	st  *store.Store
	svc *importer.Service
	ws  int64
	act model.Actor
}

func setup(t *testing.T, st *store.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	w := model.Workspace{Name: "A", Slug: "a", Currency: "EUR"}
	if err := st.InTx(ctx, func(q store.Q) error { return q.CreateWorkspace(ctx, &w) }); err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, ws: w.ID, act: model.Actor{Workspace: w.ID, Label: "test"}}
	f.svc = &importer.Service{St: st, CRM: &crm.Service{St: st}}
	return f
}

func (f *fixture) run(t *testing.T, object, csv string, opts importer.Options) model.Import {
	t.Helper()
	ctx := context.Background()
	im, err := f.svc.CreateLocal(ctx, f.act, object, "test.csv", strings.NewReader(csv), opts)
	if err != nil {
		t.Fatal(err)
	}
	im, err = f.svc.Run(ctx, f.ws, im.ID, nil)
	if err != nil {
		var fe interface{ Error() string }
		if !errors.As(err, &fe) {
			t.Fatal(err)
		}
	}
	if !im.Reconciles() {
		t.Fatalf("does not reconcile: rows %d = accepted %d + rejected %d + merged %d", im.Rows, im.Accepted, im.Rejected, im.Merged)
	}
	return im
}

func (f *fixture) errs(t *testing.T, im model.Import) []model.ImportError {
	t.Helper()
	e, err := f.st.Read().ImportErrors(context.Background(), f.ws, im.ID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// The messy file from the issue: BOM, CRLF, ';' delimiter, a quoted newline,
// mixed date formats per column, thousands separators, a duplicate and one bad row.
const messyContacts = "\ufeffEmail;First Name;Last Name;Company Domain;Lifecycle Stage;Consent Date;Signup;Seats;VIP\r\n" +
	"ann@acme.com;Ann;Lee;acme.com;Lead;05-03-2024;2024-03-05 10:20:30;\"1.200\";yes\r\n" +
	"BOB@Acme.com;Bob;\"O'Neil\r\nJr\";acme.com;MQL;25-12-2023 14:30;3/4/2024;12;no\r\n" +
	"not-an-email;X;;;lead;01-01-2024;;;\r\n" +
	"ann@acme.com;;Lee-Smith;;;;;;\r\n" +
	"carol@beta.io;Carol;;;Customer;13-01-2024;2024-01-13;3;TRUE\r\n"

func TestMessyContactsReconcile(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := setup(t, st)
		acct := model.Account{Name: "Acme", Domain: "acme.com", Currency: "EUR"}
		err := st.InTx(ctx, func(q store.Q) error {
			for _, cf := range []model.CustomField{{ObjectType: "contact", Key: "signup", Label: "Signup", Type: "date"}, {ObjectType: "contact", Key: "seats", Label: "Seats", Type: "number"}, {ObjectType: "contact", Key: "vip", Label: "VIP", Type: "bool"}} {
				if err := q.CreateCustomField(ctx, f.ws, &cf); err != nil {
					return err
				}
			}
			return q.CreateAccount(ctx, f.ws, &acct)
		})
		if err != nil {
			t.Fatal(err)
		}
		im := f.run(t, "contacts", messyContacts, importer.Options{})
		if im.Status != "done" || im.Rows != 5 || im.Accepted != 3 || im.Merged != 1 || im.Rejected != 1 {
			t.Fatalf("import: %+v", im)
		}
		errs := f.errs(t, im)
		if len(errs) != 1 || errs[0].Line != 5 || errs[0].Col != 1 || errs[0].Field != "Email" || !strings.Contains(errs[0].Reason, "not-an-email") {
			t.Fatalf("errors: %+v", errs)
		}
		if errs[0].Raw != "not-an-email;X;;;lead;01-01-2024;;;" {
			t.Fatalf("raw row: %q", errs[0].Raw)
		}
		r := st.Read()
		ann, err := r.ContactByEmail(ctx, f.ws, "ann@acme.com")
		if err != nil {
			t.Fatal(err)
		}
		// The duplicate row overwrote last_name and kept the rest.
		if ann.FirstName != "Ann" || ann.LastName != "Lee-Smith" || ann.AccountID == nil || *ann.AccountID != acct.ID || ann.LifecycleStage != "lead" {
			t.Fatalf("ann: %+v", ann)
		}
		if ann.ConsentAt == nil || !ann.ConsentAt.Equal(time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("ann consent (DD-MM-YYYY decided by 25-12-2023): %v", ann.ConsentAt)
		}
		if ann.Custom["signup"] != "2024-03-05" || ann.Custom["seats"] != 1200.0 || ann.Custom["vip"] != true {
			t.Fatalf("ann custom: %+v", ann.Custom)
		}
		bob, err := r.ContactByEmail(ctx, f.ws, "bob@acme.com")
		if err != nil {
			t.Fatal(err)
		}
		if bob.LastName != "O'Neil\r\nJr" && bob.LastName != "O'Neil\nJr" {
			t.Fatalf("quoted newline: %q", bob.LastName)
		}
		if bob.LifecycleStage != "mql" || bob.Custom["signup"] != "2024-03-04" || bob.ConsentAt == nil || !bob.ConsentAt.Equal(time.Date(2023, 12, 25, 14, 30, 0, 0, time.UTC)) {
			t.Fatalf("bob: %+v consent %v", bob, bob.ConsentAt)
		}
		carol, err := r.ContactByEmail(ctx, f.ws, "carol@beta.io")
		if err != nil || carol.LifecycleStage != "customer" || carol.AccountID != nil {
			t.Fatalf("carol: %+v %v", carol, err)
		}
		p, _ := r.ListContacts(ctx, f.ws, store.ListParams{Count: true}, nil)
		if *p.Total != im.Accepted {
			t.Fatalf("%d contacts stored, %d accepted", *p.Total, im.Accepted)
		}
		if !strings.Contains(string(im.Summary), `"Consent Date"`) {
			t.Fatalf("summary lacks the date decision: %s", im.Summary)
		}
	})
}

func TestDealsStagesOutcomesAndLinks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := setup(t, st)
		err := st.InTx(ctx, func(q store.Q) error {
			for _, a := range []model.Account{{Name: "Acme", ExternalID: "A-1", Currency: "EUR"}, {Name: "Twin", Currency: "EUR"}, {Name: "twin", Currency: "EUR"}} {
				if err := q.CreateAccount(ctx, f.ws, &a); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		csv := "Deal ID,Deal Name,Company ID,Company,Amount,Deal Stage,Close Date\n" +
			"D1,Big one,A-1,,\"$120,000.50\",Negotiation,12/31/2025\n" +
			"D2,Won one,,Acme,\"1,200\",Closed Won,1/15/2025\n" +
			"D3,Lost one,A-1,,900,Closed Lost,2/1/2025\n" +
			"D4,Typo,A-1,,900,Negotation,2/1/2025\n" +
			"D5,Ghost,A-404,,900,Trial,2/1/2025\n" +
			"D6,Twins,,Twin,900,Trial,2/1/2025\n" +
			"D7,Discovery,A-1,,900,Discovery,2/1/2025\n" +
			"D1,Big one renamed,A-1,,\"$130,000\",Negotiation,12/31/2025\n"
		im := f.run(t, "deals", csv, importer.Options{ValueMaps: map[string]map[string]string{"stage": {"Discovery": "approach"}}})
		if im.Rows != 8 || im.Accepted != 4 || im.Merged != 1 || im.Rejected != 3 {
			t.Fatalf("import: %+v", im)
		}
		errs := f.errs(t, im)
		want := map[int64]string{5: "Deal Stage", 6: "Company ID", 7: "Company"}
		for _, e := range errs {
			if want[e.Line] != e.Field {
				t.Errorf("line %d: field %q (%s)", e.Line, e.Field, e.Reason)
			}
			if e.Col == 0 {
				t.Errorf("line %d: no column", e.Line)
			}
		}
		if len(errs) != 3 || !strings.Contains(errs[0].Reason, `did you mean "negotiation"`) {
			t.Fatalf("errors: %+v", errs)
		}
		p, err := st.Read().ListDeals(ctx, f.ws, store.ListParams{Sort: "id"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]model.Deal{}
		for _, d := range p.Items {
			got[d.ExternalID] = d
		}
		d1 := got["D1"]
		if d1.Name != "Big one renamed" || d1.Amount != 13_000_000 || d1.Pipeline != "high_touch" || d1.Stage != "negotiation" || d1.ExpectedCloseDate != "2025-12-31" || d1.Currency != "EUR" {
			t.Errorf("D1: %+v", d1)
		}
		if d := got["D2"]; d.Outcome != "won" || d.Amount != 120_000 || d.AccountID == nil || d.ClosedAt == nil {
			t.Errorf("D2: %+v", d)
		}
		if d := got["D3"]; d.Outcome != "lost" {
			t.Errorf("D3: %+v", d)
		}
		if d := got["D7"]; d.Stage != "approach" || d.Pipeline != "high_touch" {
			t.Errorf("D7 value map: %+v", d)
		}
	})
}

func TestHeaderProblemsFailWithPosition(t *testing.T) {
	t.Parallel()
	f := setup(t, storetest.New(t, store.SQLite))
	im := f.run(t, "contacts", "Name,Phone\nAnn,1\n", importer.Options{})
	if im.Status != "failed" || !strings.Contains(im.Error, `required field "email"`) {
		t.Fatalf("%+v", im)
	}
	im = f.run(t, "contacts", "email,email\nx@y.io,z@y.io\n", importer.Options{})
	if im.Status != "failed" || !strings.Contains(im.Error, "column 2") {
		t.Fatalf("duplicate header: %+v", im)
	}
	im = f.run(t, "contacts", "email,first_name\na@b.io,\"Ann\nb@b.io,Bob\n", importer.Options{})
	if im.Status != "failed" || !strings.Contains(im.Error, "line 2") {
		t.Fatalf("unterminated quote: %+v", im)
	}
	_, err := f.svc.CreateLocal(context.Background(), f.act, "contacts", "x.csv", strings.NewReader("email\n"), importer.Options{DateFormat: "ymd"})
	var fe *store.FieldError
	if !errors.As(err, &fe) || fe.Field != "date_format" {
		t.Fatalf("bad option: %v", err)
	}
}

// A run that dies after its first batch resumes where it stopped: nothing twice,
// nothing lost.
func TestResumeAfterCrash(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		f.svc.BatchSize = 100
		var b strings.Builder
		b.WriteString("email,first_name\n")
		for i := 0; i < 1000; i++ {
			b.WriteString("p" + itoa(i) + "@x.io,P\n")
			if i%100 == 7 {
				b.WriteString("bad" + itoa(i) + ",P\n")
			}
		}
		im, err := f.svc.CreateLocal(context.Background(), f.act, "contacts", "x.csv", strings.NewReader(b.String()), importer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		batches := 0
		_, err = f.svc.Run(ctx, f.ws, im.ID, func(model.Import) {
			if batches++; batches == 3 {
				cancel()
			}
		})
		if err == nil {
			t.Fatal("run survived its cancellation")
		}
		mid, _ := st.Read().GetImport(context.Background(), f.ws, im.ID)
		if mid.Status != "running" || mid.Rows == 0 || mid.Rows >= 1010 {
			t.Fatalf("mid-run state: %+v", mid)
		}
		final, err := f.svc.Run(context.Background(), f.ws, im.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if final.Rows != 1010 || final.Accepted != 1000 || final.Rejected != 10 || final.Merged != 0 {
			t.Fatalf("final: %+v", final)
		}
		p, _ := st.Read().ListContacts(context.Background(), f.ws, store.ListParams{Count: true, Limit: 1}, nil)
		if *p.Total != 1000 {
			t.Fatalf("%d contacts", *p.Total)
		}
		if e := f.errs(t, final); len(e) != 10 {
			t.Fatalf("%d errors kept", len(e))
		}
	})
}

// The durable path: Create stores the file and enqueues a River job in one
// transaction; a worker runs it.
func TestImportRunsAsJob(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		f := setup(t, st)
		workers := river.NewWorkers()
		river.AddWorker(workers, &importer.Worker{Svc: f.svc})
		rc, err := river.NewClient(st.RiverDriver(), &river.Config{Workers: workers, Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}}, TestOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		f.svc.River = rc
		events, stop := rc.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
		defer stop()
		if err := rc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer rc.Stop(context.Background())
		im, err := f.svc.Create(ctx, f.act, "contacts", "x.csv", strings.NewReader("email\na@x.io\nb@x.io\nnope\n"), importer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if im.Status != "queued" {
			t.Fatalf("status %s", im.Status)
		}
		select {
		case ev := <-events:
			if ev.Kind != river.EventKindJobCompleted {
				t.Fatalf("job %s: %+v", ev.Kind, ev.Job.Errors)
			}
		case <-ctx.Done():
			t.Fatal("job did not finish")
		}
		got, _ := st.Read().GetImport(ctx, f.ws, im.ID)
		if got.Status != "done" || got.Accepted != 2 || got.Rejected != 1 {
			t.Fatalf("%+v", got)
		}
	})
}

var _ *sql.Tx

func itoa(i int) string {
	const d = "0123456789"
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{d[i%10]}, b...)
	}
	return string(b)
}

// Importing the same people again merges them: stored values are kept where the new
// file is blank and replaced where it has a value; nothing is inserted twice.
func TestReimportMerges(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		f.svc.BatchSize = 50
		var first, second strings.Builder
		first.WriteString("email,first_name,title\n")
		second.WriteString("email,title,lifecycle_stage\n")
		for i := 0; i < 120; i++ {
			fmt.Fprintf(&first, "p%d@x.io,P%d,Engineer\n", i, i)
			if i%2 == 0 {
				fmt.Fprintf(&second, "P%d@X.io,CTO,customer\n", i)
			} else {
				fmt.Fprintf(&second, "n%d@x.io,,\n", i)
			}
		}
		im := f.run(t, "contacts", first.String(), importer.Options{})
		if im.Accepted != 120 {
			t.Fatalf("first: %+v", im)
		}
		im = f.run(t, "contacts", second.String(), importer.Options{})
		if im.Rows != 120 || im.Merged != 60 || im.Accepted != 60 || im.Rejected != 0 {
			t.Fatalf("second: %+v", im)
		}
		c, err := st.Read().ContactByEmail(context.Background(), f.ws, "p42@x.io")
		if err != nil || c.FirstName != "P42" || c.Title != "CTO" || c.LifecycleStage != "customer" {
			t.Fatalf("merged contact: %+v %v", c, err)
		}
		p, _ := st.Read().ListContacts(context.Background(), f.ws, store.ListParams{Count: true, Limit: 1}, nil)
		if *p.Total != 180 {
			t.Fatalf("%d contacts, want 180", *p.Total)
		}
	})
}

// The pipeline option names one of the workspace's own (editable) pipelines, not
// only the built-in keys: a workspace with a "renewals" pipeline imports into it.
func TestImportIntoWorkspacePipeline(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := setup(t, st)
		ps := append(pipeline.Defaults(), model.PipelineDef{Key: "renewals", Name: "Renewals", Stages: []model.StageDef{{Key: "due"}, {Key: "renewing"}}})
		if _, err := (&pipeline.Service{St: st}).Save(ctx, model.Actor{Workspace: f.ws, Label: "test", Role: model.RoleAdmin}, ps); err != nil {
			t.Fatal(err)
		}
		im := f.run(t, "deals", "Deal Name,Amount,Stage\nAcme renewal,100,renewing\n", importer.Options{Pipeline: "renewals"})
		if im.Accepted != 1 {
			t.Fatalf("import: %+v %+v", im, f.errs(t, im))
		}
		p, err := st.Read().ListDeals(ctx, f.ws, store.ListParams{}, nil)
		if err != nil || len(p.Items) != 1 || p.Items[0].Pipeline != "renewals" || p.Items[0].Stage != "renewing" {
			t.Fatalf("deals: %+v %v", p.Items, err)
		}
		_, err = f.svc.CreateLocal(ctx, f.act, "deals", "x.csv", strings.NewReader("Deal Name\nX\n"), importer.Options{Pipeline: "plg"})
		var fe *store.FieldError
		if !errors.As(err, &fe) || fe.Field != "pipeline" || !strings.Contains(fe.Message, "renewals") {
			t.Fatalf("unknown pipeline: %v", err)
		}
	})
}
