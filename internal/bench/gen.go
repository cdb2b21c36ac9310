package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/mail"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Data generators shared by `rightsize bench` and the go-test benchmarks
// (internal/importer, internal/mail, internal/sequences). Everything is
// deterministic: the same n gives the same data.

// CSVHeader is the header of WriteContactsCSV's file.
const CSVHeader = "Email,First Name,Last Name,Job Title,Phone,Lifecycle Stage,Lead Source,Consent Date\n"

// WriteContactsCSV writes n realistic contact rows (8 columns, an M/D/YYYY
// consent date, 5,000 company domains, so contacts link to accounts by
// domain), about 110 bytes a row.
func WriteContactsCSV(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString(CSVHeader)
	stages := []string{"lead", "subscriber", "mql", "sql", "customer"}
	for i := 0; i < n; i++ {
		fmt.Fprintf(bw, "person%d@company%d.example,First%d,Last%d,Head of Operations,+1 555 %07d,%s,content_download,%02d/%02d/2024\n",
			i, i%5000, i, i, i, stages[i%5], 1+i%12, 1+i%28)
	}
	return bw.Flush()
}

// ContactsCSV is WriteContactsCSV into memory.
func ContactsCSV(n int) []byte {
	var b strings.Builder
	b.Grow(n * 110)
	_ = WriteContactsCSV(&b, n)
	return []byte(b.String())
}

// Realistic value sets for list filters: stage and source are skewed the way a
// funnel is (many leads and subscribers, few customers).
var (
	listStages  = []string{"subscriber", "lead", "lead", "lead", "mql", "subscriber", "lead", "sql", "customer", "nurture"}
	listSources = []string{"webinar", "content_download", "organic", "paid_search", "referral", "event", "outbound"}
	lastNames   = []string{"Smith", "Garcia", "Müller", "Nguyen", "Kowalski", "Okafor", "Rossi", "Tanaka", "Dubois", "Silva", "Jensen", "Khan"}
)

// ListContact is contact i of the list workload: 10 % MQLs, 1/7 of each
// source, a last name out of 12.
func ListContact(i int) *model.Contact {
	return &model.Contact{
		Email:          fmt.Sprintf("p%07d@company%d.example", i, i%20000),
		FirstName:      fmt.Sprintf("First%d", i),
		LastName:       lastNames[i%len(lastNames)],
		Title:          "Head of Operations",
		LifecycleStage: listStages[i%len(listStages)],
		Source:         listSources[i%len(listSources)],
		Custom:         model.Custom{},
	}
}

// PlainContact is contact i with only an email (nurture and mail workloads).
func PlainContact(i int) *model.Contact {
	return &model.Contact{Email: fmt.Sprintf("c%07d@bench.io", i), FirstName: fmt.Sprintf("Name%d", i), LastName: "Lovelace", LifecycleStage: "lead", Custom: model.Custom{}}
}

// SeedContacts inserts n contacts of ws made by mk, 10,000 a transaction, and
// returns their ids in order. progress, when set, is called after each chunk.
func SeedContacts(ctx context.Context, st *store.Store, ws int64, n int, mk func(i int) *model.Contact, progress func(done int)) ([]int64, error) {
	ids := make([]int64, 0, n)
	const chunk = 10000
	for start := 0; start < n; start += chunk {
		end := min(start+chunk, n)
		cs := make([]*model.Contact, 0, end-start)
		emails := make([]string, 0, end-start)
		for i := start; i < end; i++ {
			c := mk(i)
			cs = append(cs, c)
			emails = append(emails, c.Email)
		}
		err := st.InTx(ctx, func(q store.Q) error {
			if err := q.InsertContacts(ctx, ws, cs); err != nil {
				return err
			}
			m, err := q.ContactIDsByEmail(ctx, ws, emails)
			if err != nil {
				return err
			}
			for _, e := range emails {
				ids = append(ids, m[e])
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("seed contacts: %w", err)
		}
		if progress != nil {
			progress(end)
		}
	}
	return ids, nil
}

// SeedEnrollments enrolls every contact of ids in seq, all due at due (minus i
// milliseconds for the i-th, so due order is well defined), 10,000 a
// transaction.
func SeedEnrollments(ctx context.Context, st *store.Store, ws, seq int64, ids []int64, due time.Time) error {
	for start := 0; start < len(ids); start += 10000 {
		end := min(start+10000, len(ids))
		es := make([]model.Enrollment, 0, end-start)
		for i, id := range ids[start:end] {
			d := due.Add(-time.Duration(start+i) * time.Millisecond)
			es = append(es, model.Enrollment{SequenceID: seq, ContactID: id, Status: "active", Source: "bench", NextDueAt: &d})
		}
		if err := st.InTx(ctx, func(q store.Q) error { return q.InsertEnrollments(ctx, ws, es) }); err != nil {
			return fmt.Errorf("seed enrollments: %w", err)
		}
	}
	return nil
}

// NewsletterHTML is a ~4.5 kB newsletter body with personalisation.
var NewsletterHTML = `<html><body><h1>Hello {{.Contact.FirstName}} {{.Contact.LastName}},</h1>
<p>Thanks for looking at us from {{.Account.Name}} ({{default "your team" .Account.Industry}}).</p>` +
	strings.Repeat(`<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris.</p>`+"\n", 18) +
	`<p>Reply to this mail, {{.Contact.FirstName}}, and we will set up a call.</p></body></html>`

// SeedPlannedSends makes ws's sender and a newsletter template, and n contacts
// with one planned send each (Message-IDs under domain, so runs that share an
// SMTP sink never repeat one). It returns the send ids in order.
func SeedPlannedSends(ctx context.Context, st *store.Store, ws int64, n int, domain string) ([]int64, error) {
	var tmpl int64
	err := st.InTx(ctx, func(q store.Q) error {
		if err := q.SaveMailSender(ctx, ws, &store.MailSender{FromName: "Ada", FromAddress: "ada@sender.test", PostalAddress: "1 Engine Street, London"}); err != nil {
			return err
		}
		t := store.MailTemplate{Name: "bench", Subject: "Hello {{.Contact.FirstName}}, news for {{.Account.Name}}", HTML: NewsletterHTML}
		if err := q.SaveMailTemplate(ctx, ws, &t); err != nil {
			return err
		}
		tmpl = t.ID
		return nil
	})
	if err != nil {
		return nil, err
	}
	sends := make([]int64, 0, n)
	for from := 0; from < n; from += 5000 {
		to := min(from+5000, n)
		err := st.InTx(ctx, func(q store.Q) error {
			cs := make([]*model.Contact, 0, to-from)
			emails := make([]string, 0, to-from)
			for i := from; i < to; i++ {
				c := &model.Contact{Email: fmt.Sprintf("c%d@rcpt.test", i), FirstName: fmt.Sprintf("Name%d", i), LastName: "Lovelace", LifecycleStage: "lead"}
				cs = append(cs, c)
				emails = append(emails, c.Email)
			}
			if err := q.InsertContacts(ctx, ws, cs); err != nil {
				return err
			}
			ids, err := q.ContactIDsByEmail(ctx, ws, emails)
			if err != nil {
				return err
			}
			for i, e := range emails {
				key := fmt.Sprintf("enrollment:%d:step:1", from+i)
				s := store.Send{DedupeKey: key, ContactID: ids[e], TemplateID: tmpl, ToEmail: e, MessageID: mail.MessageID(ws, key, domain)}
				if _, err := q.PlanSend(ctx, ws, &s); err != nil {
					return err
				}
				sends = append(sends, s.ID)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("seed sends: %w", err)
		}
	}
	return sends, nil
}

// InsertContacts inserts n contacts of ws made by mk, 10,000 a transaction,
// without reading their ids back.
func InsertContacts(ctx context.Context, st *store.Store, ws int64, n int, mk func(i int) *model.Contact) error {
	const chunk = 10000
	for start := 0; start < n; start += chunk {
		end := min(start+chunk, n)
		cs := make([]*model.Contact, 0, end-start)
		for i := start; i < end; i++ {
			cs = append(cs, mk(i))
		}
		if err := st.InTx(ctx, func(q store.Q) error { return q.InsertContacts(ctx, ws, cs) }); err != nil {
			return fmt.Errorf("insert contacts: %w", err)
		}
	}
	return nil
}
