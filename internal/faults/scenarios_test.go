package faults_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rightsize/rightsize/internal/bench"
	"github.com/rightsize/rightsize/internal/faults"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/webhooks"
)

func scenarios() []scenario {
	sendFigures := []string{"kill_at_hit", "sent_before_kill", "rows", "accepted", "unknown", "unknown_listed", "unknown_arrived", "duplicates", "lost"}
	return []scenario{
		{name: "kill-send-claimed", title: "SIGKILL after a send batch is claimed, before SMTP (`send.claimed`)", figures: sendFigures,
			run: sendKill(faults.SendClaimed, func(r *rig) int { return 1 + r.rng.IntN(2) })},
		{name: "kill-send-before-smtp", title: "SIGKILL after a send group is marked started, before its first SMTP command (`send.before_smtp`)", figures: sendFigures,
			run: sendKill(faults.SendBeforeSMTP, func(r *rig) int { return 1 + r.rng.IntN(12) })},
		{name: "kill-send-after-smtp", title: "SIGKILL after the SMTP server accepted a message, before the ledger records it (`send.after_smtp`)", figures: sendFigures,
			run: sendKill(faults.SendAfterSMTP, func(r *rig) int { return 1 + r.rng.IntN(100) })},
		{name: "kill-import", title: "SIGKILL between import batches (`import.after_batch`)",
			figures: []string{"kill_after_batch", "rows_at_kill", "rows", "accepted", "rejected", "contacts", "lost"}, run: importKill},
		{name: "kill-idempotent-post", title: "SIGKILL after a POST with Idempotency-Key committed, before its answer is stored or sent (`idem.after_commit`)",
			figures: []string{"keyed_posts", "replayed_original", "killed_retry_422", "records_for_killed", "new_key_after_restart"}, run: idemKill},
		{name: "kill-webhook", title: "SIGKILL after a webhook call returned, before its outcome is recorded (`webhook.after_call`)",
			figures: []string{"kill_at_hit", "events", "succeeded", "unknown_attempts", "received_twice", "lost", "bad_signatures"}, run: webhookKill},
		{name: "smtp", title: "SMTP down, then 4xx, 5xx and the connection dropped after DATA (one run, per-recipient answers)",
			figures: []string{"sends", "down_deferred", "temp_4xx_deferred_then_accepted", "perm_5xx_bounced", "dropped_unknown", "dropped_resent", "accepted", "duplicates", "lost"}, run: smtpFaults},
		{name: "db-busy", title: "Database busy for 10 s (SQLite: a write transaction on another connection; PostgreSQL: LOCK TABLE contacts IN EXCLUSIVE MODE)",
			figures: []string{"creates", "answered_503", "answered_5xx_other", "slowest_ms", "lost", "duplicates"}, run: dbBusy(10 * time.Second)},
		{name: "db-busy-15s", extended: true, title: "Database busy for 15 s, past SQLite's 10 s busy_timeout",
			figures: []string{"creates", "answered_503", "answered_5xx_other", "slowest_ms", "lost", "duplicates"}, run: dbBusy(15 * time.Second)},
		{name: "sigterm", title: "SIGTERM under load (4 clients, an upload in flight)",
			figures: []string{"answered", "answered_non_2xx", "dropped_in_flight", "upload_status", "exit_code", "lost"}, run: sigtermUnderLoad},
		{name: "restore-old-backup", title: "Restore of an old backup (sends due in it had gone out since)",
			figures: []string{"stale_sends", "sent_while_paused", "sent_after_resume"}, run: restoreOld},
	}
}

// ---- nurture sends ---------------------------------------------------------------------

// seedNurture makes n contacts enrolled in a paused one-email sequence, due
// now; activating it (the API) sends n emails. It returns the sequence id and
// the recipients in order.
func seedNurture(r *rig, n int) (int64, []string) {
	r.t.Helper()
	ctx := context.Background()
	a := r.seedApp()
	defer a.Close()
	seq, err := a.Sequences.Create(ctx, r.ws, model.Sequence{Name: "Nurture", Status: "active", Trigger: model.SequenceTrigger{Kind: "manual"},
		Steps: []model.SequenceStep{{Kind: "send_email", Subject: "Hello {{.Contact.FirstName}}", HTML: "<p>Hi {{.Contact.FirstName}}</p>"}}})
	if err != nil {
		r.t.Fatal(err)
	}
	ids, err := bench.SeedContacts(ctx, a.St, r.ws, n, bench.PlainContact, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := bench.SeedEnrollments(ctx, a.St, r.ws, seq.ID, ids, time.Now().Add(-time.Minute)); err != nil {
		r.t.Fatal(err)
	}
	if _, err := a.Sequences.SetStatus(ctx, r.ws, seq.ID, "paused"); err != nil {
		r.t.Fatal(err)
	}
	emails := make([]string, n)
	for i := range emails {
		emails[i] = bench.PlainContact(i).Email
	}
	return seq.ID, emails
}

func (r *rig) activate(seq int64) {
	r.t.Helper()
	r.must("POST", fmt.Sprintf("/api/v1/sequences/%d/activate", seq), "", http.StatusOK)
}

// sends returns the ledger, keyed by recipient.
func (r *rig) sends(n int) map[string]store.Send {
	r.t.Helper()
	rows, err := r.st.Read().ListSends(context.Background(), r.ws, "", n+100)
	if err != nil {
		r.t.Fatal(err)
	}
	out := map[string]store.Send{}
	for _, s := range rows {
		if _, dup := out[s.ToEmail]; dup {
			r.t.Fatalf("two ledger rows for %s (one per enrollment step is the rule)", s.ToEmail)
		}
		out[s.ToEmail] = s
	}
	return out
}

var terminal = map[string]bool{store.SendAccepted: true, store.SendBounced: true, store.SendSuppressed: true, store.SendUnknown: true}

// settled: n rows and nothing due or in flight (deferred rows wait for a
// later due time).
func (r *rig) settled(n int) bool {
	rows := r.count(`SELECT COUNT(*) FROM send_ledger WHERE workspace_id = $1`, r.ws)
	busy := r.count(`SELECT COUNT(*) FROM send_ledger WHERE workspace_id = $1 AND (state IN ('planned', 'claimed', 'smtp_started') OR (state = 'deferred' AND due_at <= $2))`, r.ws, store.Now())
	return rows == n && busy == 0
}

// unknownListed is how many sends the operator's API list shows as unknown.
func (r *rig) unknownListed() int {
	r.t.Helper()
	a := r.must("GET", "/api/v1/mail/sends?state=unknown&limit=200", "", http.StatusOK)
	var l struct {
		Items []store.Send `json:"items"`
	}
	a.json(r.t, &l)
	return len(l.Items)
}

// checkSends checks the send invariants once every row is final: one row
// per recipient, each accepted row's message arrived exactly once, an
// unknown row's at most once, no Message-ID twice, nothing else arrived, the
// unknown rows are listed for the operator, and at most one group per SMTP
// connection is unknown.
func (r *rig) checkSends(n int) map[string]int {
	r.t.Helper()
	r.poll(fmt.Sprintf("%d sends to be final", n), 3*time.Minute, func() bool {
		if !r.settled(n) {
			return false
		}
		for _, s := range r.sends(n) {
			if !terminal[s.State] {
				return false
			}
		}
		return true
	})
	rows := r.sends(n)
	ids := r.smtp.IDs()
	byID := map[string]store.Send{}
	f := map[string]int{"rows": len(rows)}
	for _, s := range rows {
		byID[s.MessageID] = s
		switch s.State {
		case store.SendAccepted:
			f["accepted"]++
			if ids[s.MessageID] != 1 {
				r.t.Fatalf("accepted send %d (%s) arrived %d times", s.ID, s.ToEmail, ids[s.MessageID])
			}
		case store.SendUnknown:
			f["unknown"]++
			if ids[s.MessageID] > 1 {
				r.t.Fatalf("unknown send %d arrived %d times", s.ID, ids[s.MessageID])
			}
			f["unknown_arrived"] += ids[s.MessageID]
		default:
			f["lost"]++
			r.t.Errorf("send %d to %s ended %s (%s), want accepted or unknown", s.ID, s.ToEmail, s.State, s.LastText)
		}
	}
	for id, c := range ids {
		if _, ok := byID[id]; !ok {
			r.t.Fatalf("the SMTP server got %s (%d times), which no ledger row sent", id, c)
		}
	}
	f["duplicates"] = int(r.smtp.Dups())
	f["unknown_listed"] = r.unknownListed()
	if len(rows) != n || f["duplicates"] != 0 || f["unknown_listed"] != f["unknown"] {
		r.t.Fatalf("sends: %v; want %d rows, no duplicate, every unknown listed", f, n)
	}
	if f["unknown"] > smtpConns*sendGroup {
		r.t.Fatalf("%d sends unknown; a crash may leave at most one group (%d) per connection (%d)", f["unknown"], sendGroup, smtpConns)
	}
	return f
}

// sendKill: a nurture run of 120 emails; the point kills serve at the
// seeded hit; a new serve finishes the run.
func sendKill(point string, hit func(r *rig) int) func(r *rig) map[string]int {
	return func(r *rig) map[string]int {
		const n = 120
		seq, _ := seedNurture(r, n)
		k := hit(r)
		p := r.start(fmt.Sprintf("%s:%d", point, k))
		r.activate(seq)
		r.waitKilled(p, point, 3*time.Minute)
		mid := int(r.smtp.Count())
		r.age()
		r.start("")
		f := r.checkSends(n)
		f["kill_at_hit"], f["sent_before_kill"] = k, mid
		switch point {
		case faults.SendBeforeSMTP:
			// The killed group was started and not one of its messages written.
			if f["unknown"] == 0 || f["unknown"] == f["unknown_arrived"] {
				r.t.Fatalf("killed before SMTP: %v; want an unknown group that did not arrive", f)
			}
		case faults.SendAfterSMTP:
			// The message accepted just before the kill is unknown, not re-sent.
			if f["unknown_arrived"] == 0 {
				r.t.Fatalf("killed after SMTP accepted a message: %v; want it unknown (and arrived once)", f)
			}
		}
		return f
	}
}

// ---- import ------------------------------------------------------------------------------

func importKill(r *rig) map[string]int {
	const n = 3*importBatch + 1 // four batches, the last of one row
	k := 1 + r.rng.IntN(3)
	p := r.start(fmt.Sprintf("%s:%d", faults.ImportAfterBatch, k))
	a, err := r.call("POST", "/api/v1/imports?object=contacts&filename=faults.csv", "text/csv", strings.NewReader(string(bench.ContactsCSV(n))))
	if err != nil || a.status != http.StatusAccepted {
		r.t.Fatalf("upload: %v %d %s", err, a.status, a.body)
	}
	var im model.Import
	a.json(r.t, &im)
	r.waitKilled(p, faults.ImportAfterBatch, 3*time.Minute)
	at, err := r.st.Read().GetImport(context.Background(), r.ws, im.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	if at.Rows != int64(k*importBatch) || at.Status == "done" {
		r.t.Fatalf("at the kill: %+v; want %d rows committed and the import unfinished", at, k*importBatch)
	}
	r.age()
	r.start("")
	r.poll("the import to finish after the restart", 3*time.Minute, func() bool {
		var got model.Import
		r.must("GET", fmt.Sprintf("/api/v1/imports/%d", im.ID), "", http.StatusOK).json(r.t, &got)
		return got.Status == "done" || got.Status == "failed"
	})
	var got model.Import
	r.must("GET", fmt.Sprintf("/api/v1/imports/%d", im.ID), "", http.StatusOK).json(r.t, &got)
	contacts := r.count(`SELECT COUNT(*) FROM contacts WHERE workspace_id = $1`, r.ws)
	f := map[string]int{"kill_after_batch": k, "rows_at_kill": int(at.Rows), "rows": int(got.Rows), "accepted": int(got.Accepted), "rejected": int(got.Rejected), "contacts": contacts}
	f["lost"] = n - contacts
	if got.Status != "done" || got.Rows != n || got.Accepted != n || got.Rejected != 0 || got.Merged != 0 || contacts != n {
		r.t.Fatalf("import after the restart: %+v, %d contacts; want done, %d rows all accepted once", got, contacts, n)
	}
	return f
}

// ---- Idempotency-Key ------------------------------------------------------------------

func idemKill(r *rig) map[string]int {
	m := 1 + r.rng.IntN(3) // the m-th keyed POST is killed
	p := r.start(fmt.Sprintf("%s:%d", faults.IdemAfterCommit, m))
	body := func(i int) string { return fmt.Sprintf(`{"email":"idem-%d@buyer.example","first_name":"Idem"}`, i) }
	key := func(i int) string { return fmt.Sprintf("faults-%d-%d", r.rng.Uint32(), i) }
	keys := make([]string, m+1)
	first := make([]answer, m+1)
	for i := 1; i <= m; i++ {
		keys[i] = key(i)
		a, err := r.call("POST", "/api/v1/contacts", "application/json", strings.NewReader(body(i)), "Idempotency-Key", keys[i])
		if i < m {
			if err != nil || a.status != http.StatusCreated {
				r.t.Fatalf("keyed POST %d: %v %d %s", i, err, a.status, a.body)
			}
			first[i] = a
			continue
		}
		if err == nil {
			r.t.Fatalf("the killed POST was answered: %d %s", a.status, a.body)
		}
	}
	r.waitKilled(p, faults.IdemAfterCommit, time.Minute)
	r.age()
	r.start("")
	f := map[string]int{"keyed_posts": m}
	for i := 1; i < m; i++ {
		a := r.must("POST", "/api/v1/contacts", body(i), http.StatusCreated, "Idempotency-Key", keys[i])
		if a.header.Get("Idempotency-Replayed") != "true" || string(a.body) != string(first[i].body) {
			r.t.Fatalf("replay %d after the restart: %s %q, want the original %s", i, a.header.Get("Idempotency-Replayed"), a.body, first[i].body)
		}
		f["replayed_original"]++
	}
	a := r.must("POST", "/api/v1/contacts", body(m), http.StatusUnprocessableEntity, "Idempotency-Key", keys[m])
	var prob struct {
		Code string `json:"code"`
	}
	a.json(r.t, &prob)
	if prob.Code != "idempotency_outcome_unknown" {
		r.t.Fatalf("retry of the killed POST: %s, want idempotency_outcome_unknown", a.body)
	}
	f["killed_retry_422"] = 1
	f["records_for_killed"] = r.count(`SELECT COUNT(*) FROM contacts WHERE workspace_id = $1 AND email = $2`, r.ws, fmt.Sprintf("idem-%d@buyer.example", m))
	if f["records_for_killed"] != 1 {
		r.t.Fatalf("the killed POST left %d contacts, want 1", f["records_for_killed"])
	}
	// A new key after the restart runs and replays as usual.
	k := key(99)
	a1 := r.must("POST", "/api/v1/contacts", body(99), http.StatusCreated, "Idempotency-Key", k)
	a2 := r.must("POST", "/api/v1/contacts", body(99), http.StatusCreated, "Idempotency-Key", k)
	if string(a1.body) != string(a2.body) || a2.header.Get("Idempotency-Replayed") != "true" {
		r.t.Fatalf("a new key after the restart: %s then %s", a1.body, a2.body)
	}
	f["new_key_after_restart"] = 1
	return f
}

// ---- webhooks ------------------------------------------------------------------------------

// receiver is a webhook endpoint on loopback: it verifies every signature and
// counts each webhook-id.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	got    map[string]int
	bad    []string
}

func newReceiver(r *rig) *receiver {
	rc := &receiver{got: map[string]int{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if err := webhooks.Verify(rc.secret, req.Header, b, time.Now(), 5*time.Minute); err != nil {
			rc.bad = append(rc.bad, err.Error())
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		rc.got[req.Header.Get("webhook-id")]++
		w.WriteHeader(http.StatusNoContent)
	}))
	r.t.Cleanup(rc.srv.Close)
	return rc
}

func webhookKill(r *rig) map[string]int {
	const m = 15
	k := 1 + r.rng.IntN(10)
	rc := newReceiver(r)
	p := r.start(fmt.Sprintf("%s:%d", faults.WebhookAfterCall, k))
	var ep struct {
		ID     int64  `json:"id"`
		Secret string `json:"secret"`
	}
	r.must("POST", "/api/v1/webhooks", fmt.Sprintf(`{"url":%q,"event_types":["contact.created"]}`, rc.srv.URL+"/hook"), http.StatusCreated).json(r.t, &ep)
	rc.mu.Lock()
	rc.secret = ep.Secret
	rc.mu.Unlock()
	// Contacts (one contact.created each) until the kill stops the server.
	created := 0
	for i := range m {
		a, err := r.call("POST", "/api/v1/contacts", "application/json", strings.NewReader(fmt.Sprintf(`{"email":"hook-%d@buyer.example"}`, i)))
		if err != nil {
			break
		}
		if a.status != http.StatusCreated {
			r.t.Fatalf("contact %d: %d %s", i, a.status, a.body)
		}
		created++
	}
	r.waitKilled(p, faults.WebhookAfterCall, 2*time.Minute)
	r.age()
	r.start("")
	type delivery struct {
		EventID string `json:"event_id"`
		State   string `json:"state"`
		Log     []struct {
			Outcome string `json:"outcome"`
		} `json:"log"`
	}
	var ds []delivery
	r.poll("every webhook delivery to succeed", 3*time.Minute, func() bool {
		var l struct {
			Items []delivery `json:"items"`
		}
		r.must("GET", fmt.Sprintf("/api/v1/webhooks/%d/deliveries?limit=200", ep.ID), "", http.StatusOK).json(r.t, &l)
		ds = l.Items
		for _, d := range ds {
			if d.State != "succeeded" {
				return false
			}
		}
		return len(ds) > 0
	})
	events := r.count(`SELECT COUNT(*) FROM contacts WHERE workspace_id = $1`, r.ws)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	f := map[string]int{"kill_at_hit": k, "events": len(ds), "bad_signatures": len(rc.bad)}
	for _, d := range ds {
		if d.State == "succeeded" {
			f["succeeded"]++
		}
		unknown := 0
		for _, a := range d.Log {
			if a.Outcome == "unknown" {
				unknown++
			}
		}
		f["unknown_attempts"] += unknown
		switch n := rc.got[d.EventID]; {
		case n == 0:
			f["lost"]++
		case n > 1:
			f["received_twice"]++
			if unknown == 0 {
				r.t.Errorf("event %s received %d times without an unknown attempt in its log", d.EventID, n)
			}
		}
	}
	if len(ds) != events || events < created || f["lost"] != 0 || len(rc.bad) != 0 || f["unknown_attempts"] == 0 || f["received_twice"] == 0 {
		r.t.Fatalf("webhooks: %v, %d contacts (%d answered 201); want one delivery per contact, none lost, the killed attempt logged unknown and its event received again", f, events, created)
	}
	return f
}

// ---- SMTP ---------------------------------------------------------------------------------

func smtpFaults(r *rig) map[string]int {
	const n = 40
	seq, emails := seedNurture(r, n)
	temp, perm, drop := emails[0:5], emails[5:10], emails[10:13]
	f := map[string]int{"sends": n}
	// Down: every send is deferred, none lost.
	if err := r.smtp.Down(); err != nil {
		r.t.Fatal(err)
	}
	r.start("")
	r.activate(seq)
	r.poll("every send deferred while SMTP is down", 2*time.Minute, func() bool {
		return r.count(`SELECT COUNT(*) FROM send_ledger WHERE workspace_id = $1 AND state = 'deferred' AND attempts >= 1`, r.ws) == n
	})
	f["down_deferred"] = n
	if err := r.smtp.Up(); err != nil {
		r.t.Fatal(err)
	}
	for _, e := range temp {
		r.smtp.RejectRcpt(e, 451)
	}
	for _, e := range perm {
		r.smtp.RejectRcpt(e, 550)
	}
	for _, e := range drop {
		r.smtp.DropAfterData(e)
	}
	// Back up: the retries go out. A dropped connection defers the rest of
	// its group (not sent), so a few rounds may be needed.
	isTemp := map[string]bool{}
	for _, e := range temp {
		isTemp[e] = true
	}
	for round := 0; ; round++ {
		r.retryDeferredNow()
		r.poll("the retries to settle", 2*time.Minute, func() bool { return r.settled(n) })
		waiting := 0
		for e, s := range r.sends(n) {
			if s.State == store.SendDeferred && !isTemp[e] {
				waiting++
			}
		}
		if waiting == 0 {
			break
		}
		if round == 3 {
			r.t.Fatalf("%d sends still deferred after 4 rounds with SMTP up", waiting)
		}
	}
	rows := r.sends(n)
	for _, e := range temp {
		if s := rows[e]; s.State != store.SendDeferred || s.SoftBounces < 1 || s.LastCode != 451 {
			r.t.Fatalf("4xx send: %+v; want deferred with a soft bounce and the code", s)
		}
	}
	for _, e := range perm {
		s := rows[e]
		if s.State != store.SendBounced || s.LastCode != 550 || s.LastText == "" {
			r.t.Fatalf("5xx send: %+v; want bounced with the code and the reason", s)
		}
		if _, err := r.st.Read().GetSuppression(context.Background(), r.ws, e); err != nil {
			r.t.Fatalf("5xx recipient %s not suppressed: %v", e, err)
		}
		f["perm_5xx_bounced"]++
	}
	for _, e := range drop {
		if s := rows[e]; s.State != store.SendUnknown {
			r.t.Fatalf("send dropped after DATA: %+v; want unknown (the server may have it)", s)
		}
		f["dropped_unknown"]++
	}
	// The 4xx clears: the deferred sends are retried and accepted; the
	// bounced and unknown ones are never tried again.
	for _, e := range temp {
		r.smtp.RejectRcpt(e, 0)
	}
	r.retryDeferredNow()
	r.poll("the 4xx sends to be accepted", 2*time.Minute, func() bool {
		rows := r.sends(n)
		for _, e := range temp {
			if rows[e].State != store.SendAccepted {
				return false
			}
		}
		return r.settled(n)
	})
	f["temp_4xx_deferred_then_accepted"] = len(temp)
	rows = r.sends(n)
	ids, dropped := r.smtp.IDs(), r.smtp.Dropped()
	for e, s := range rows {
		switch {
		case s.State == store.SendAccepted:
			f["accepted"]++
			if ids[s.MessageID] != 1 {
				r.t.Fatalf("accepted send to %s arrived %d times", e, ids[s.MessageID])
			}
		case s.State == store.SendBounced:
			if ids[s.MessageID] != 0 {
				r.t.Fatalf("bounced send to %s arrived", e)
			}
		case s.State == store.SendUnknown:
			if dropped[s.MessageID] != 1 || ids[s.MessageID] != 0 {
				r.t.Fatalf("dropped send to %s: read %d times, accepted %d; want read once, never sent again", e, dropped[s.MessageID], ids[s.MessageID])
			}
			f["dropped_resent"] += dropped[s.MessageID] - 1 + ids[s.MessageID]
		default:
			f["lost"]++
		}
	}
	f["duplicates"] = int(r.smtp.Dups())
	if f["accepted"] != n-len(perm)-len(drop) || f["lost"] != 0 || f["duplicates"] != 0 || r.unknownListed() != len(drop) {
		r.t.Fatalf("after the SMTP faults: %v", f)
	}
	return f
}

// ---- database busy -------------------------------------------------------------------------

// dbBusy holds the contacts table's write lock for d from another session
// while four clients create contacts (each with an Idempotency-Key, retried
// on 503 after Retry-After): no 500, every 503 says when to retry, every
// create lands once.
func dbBusy(d time.Duration) func(r *rig) map[string]int {
	return func(r *rig) map[string]int { return busyFor(r, d) }
}

func busyFor(r *rig, d time.Duration) map[string]int {
	r.start("")
	var mu sync.Mutex
	f := map[string]int{}
	var done atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	var slowest time.Duration
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				body := fmt.Sprintf(`{"email":"busy-%d-%d@buyer.example"}`, w, i)
				key := fmt.Sprintf("busy-%d-%d", w, i)
				for attempt := 0; ; attempt++ {
					start := time.Now()
					a, err := r.call("POST", "/api/v1/contacts", "application/json", strings.NewReader(body), "Idempotency-Key", key)
					took := time.Since(start)
					mu.Lock()
					slowest = max(slowest, took)
					mu.Unlock()
					if err != nil {
						r.t.Errorf("create: %v", err)
						return
					}
					if a.status == http.StatusCreated {
						mu.Lock()
						f["creates"]++
						mu.Unlock()
						done.Add(1)
						break
					}
					if a.status == http.StatusServiceUnavailable {
						ra, err := strconv.Atoi(a.header.Get("Retry-After"))
						if err != nil || ra < 1 {
							r.t.Errorf("503 without a usable Retry-After: %q %s", a.header.Get("Retry-After"), a.body)
							return
						}
						mu.Lock()
						f["answered_503"]++
						mu.Unlock()
						time.Sleep(time.Duration(ra) * time.Second) // what a client does with Retry-After
						continue
					}
					mu.Lock()
					f["answered_5xx_other"]++
					mu.Unlock()
					r.t.Errorf("create answered %d %s; want 201 or 503", a.status, a.body)
					return
				}
			}
		}()
	}
	r.poll("traffic before the lock", time.Minute, func() bool { return done.Load() >= 8 })
	hold(r, d)
	after := done.Load()
	r.poll("traffic after the lock", 2*time.Minute, func() bool { return done.Load() >= after+8 })
	stop.Store(true)
	wg.Wait()
	f["slowest_ms"] = int(slowest.Milliseconds())
	contacts := r.count(`SELECT COUNT(*) FROM contacts WHERE workspace_id = $1 AND email LIKE 'busy-%'`, r.ws)
	distinct := r.count(`SELECT COUNT(DISTINCT email) FROM contacts WHERE workspace_id = $1 AND email LIKE 'busy-%'`, r.ws)
	f["lost"], f["duplicates"] = f["creates"]-distinct, contacts-distinct
	if f["lost"] != 0 || f["duplicates"] != 0 || f["answered_5xx_other"] != 0 {
		r.t.Fatalf("busy database: %v, %d contacts", f, contacts)
	}
	return f
}

// hold takes the write lock on contacts from another session for d.
func hold(r *rig, d time.Duration) {
	r.t.Helper()
	ctx := context.Background()
	var db *sql.DB
	var lock string
	if r.kind == store.SQLite {
		var err error
		if db, err = sql.Open("sqlite", "file:"+r.dsn+"?_pragma=busy_timeout(10000)&_txlock=immediate"); err != nil {
			r.t.Fatal(err)
		}
		defer db.Close()
		lock = `INSERT INTO instance_flags (name, value, set_by, set_at) VALUES ('fault_busy', '', 'faults', '2026-01-01 00:00:00')`
	} else {
		db = r.st.W
		lock = `LOCK TABLE contacts IN EXCLUSIVE MODE`
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, lock); err != nil {
		r.t.Fatal(err)
	}
	time.Sleep(d) // the fault itself: the lock is held this long
	if err := tx.Rollback(); err != nil {
		r.t.Fatal(err)
	}
}

// ---- SIGTERM ------------------------------------------------------------------------------

func sigtermUnderLoad(r *rig) map[string]int {
	p := r.start("")
	f := map[string]int{}
	// An upload whose body is still coming when SIGTERM arrives. With
	// Expect: 100-continue the body is sent only once the handler reads it,
	// so the first write returning means the request is in the handler.
	csv := bench.ContactsCSV(2000)
	half := len(csv) / 2
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", p.url+"/api/v1/imports?object=contacts&filename=slow.csv", pr)
	req.Header.Set("Authorization", "Bearer "+r.key)
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Expect", "100-continue")
	req.ContentLength = int64(len(csv))
	up := make(chan answer, 1)
	upErr := make(chan error, 1)
	go func() {
		c := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}, Timeout: 2 * time.Minute}
		res, err := c.Do(req)
		if err != nil {
			upErr <- err
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		up <- answer{status: res.StatusCode, body: b}
	}()
	if _, err := pw.Write(csv[:half]); err != nil {
		r.t.Fatal(err)
	}
	// Load: four clients create and list until the server is gone.
	var mu sync.Mutex
	var answered atomic.Int64
	var created []string
	var wg sync.WaitGroup
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	lc := &http.Client{Transport: tr, Timeout: time.Minute}
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				var req *http.Request
				email := fmt.Sprintf("load-%d-%d@buyer.example", w, i)
				if i%2 == 0 {
					req, _ = http.NewRequest("POST", p.url+"/api/v1/contacts", strings.NewReader(fmt.Sprintf(`{"email":%q}`, email)))
					req.Header.Set("Content-Type", "application/json")
					// Keyed: Go's client may resend it on a connection the
					// server closed before reading it (and the key makes that safe).
					req.Header.Set("Idempotency-Key", email)
				} else {
					req, _ = http.NewRequest("GET", p.url+"/api/v1/contacts?limit=5", nil)
				}
				req.Header.Set("Authorization", "Bearer "+r.key)
				res, err := lc.Do(req)
				if err != nil {
					mu.Lock()
					defer mu.Unlock()
					if errors.Is(err, syscall.ECONNREFUSED) {
						return // the listener is closed: the server is going
					}
					f["dropped_in_flight"]++
					r.t.Errorf("a request failed other than by a refused connection: %v", err)
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				answered.Add(1)
				mu.Lock()
				if res.StatusCode/100 != 2 {
					f["answered_non_2xx"]++
					r.t.Errorf("%s %s answered %d during shutdown", req.Method, req.URL.Path, res.StatusCode)
				} else if req.Method == "POST" {
					created = append(created, email)
				}
				mu.Unlock()
			}
		}()
	}
	r.poll("load before SIGTERM", time.Minute, func() bool { return answered.Load() >= 40 })
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		r.t.Fatal(err)
	}
	r.poll("serve to start shutting down", time.Minute, func() bool { return strings.Contains(p.log.String(), "shutting down") })
	// The rest of the upload, after the server began to shut down.
	if _, err := pw.Write(csv[half:]); err != nil {
		r.t.Fatalf("the in-flight upload was cut off: %v", err)
	}
	pw.Close()
	select {
	case a := <-up:
		f["upload_status"] = a.status
		if a.status != http.StatusAccepted {
			r.t.Fatalf("the in-flight upload: %d %s, want 202", a.status, a.body)
		}
	case err := <-upErr:
		r.t.Fatalf("the in-flight upload failed: %v", err)
	case <-time.After(time.Minute):
		r.t.Fatal("the in-flight upload got no answer")
	}
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		r.t.Fatalf("serve did not exit within a minute of SIGTERM:\n%s", p.log.String())
	}
	f["exit_code"] = -1
	if p.err == nil {
		f["exit_code"] = 0
	} else if ee := (*exec.ExitError)(nil); errors.As(p.err, &ee) {
		f["exit_code"] = ee.ExitCode()
	}
	if f["exit_code"] != 0 {
		r.t.Fatalf("serve exited %v after SIGTERM, want 0:\n%s", p.err, p.log.String())
	}
	wg.Wait()
	f["answered"] = int(answered.Load())
	// Every answered create is there; the upload is imported after a restart.
	r.start("")
	for _, e := range created {
		if r.count(`SELECT COUNT(*) FROM contacts WHERE workspace_id = $1 AND email = $2`, r.ws, e) != 1 {
			f["lost"]++
		}
	}
	r.poll("the uploaded import to finish", 2*time.Minute, func() bool {
		return r.count(`SELECT COUNT(*) FROM imports WHERE workspace_id = $1 AND status = 'done' AND rows_total = 2000`, r.ws) == 1
	})
	if f["lost"] != 0 || f["answered_non_2xx"] != 0 || f["dropped_in_flight"] != 0 {
		r.t.Fatalf("SIGTERM under load: %v", f)
	}
	return f
}

// ---- restore ------------------------------------------------------------------------------

func restoreOld(r *rig) map[string]int {
	const n = 20
	seq, _ := seedNurture(r, n)
	if err := r.smtp.Down(); err != nil {
		r.t.Fatal(err)
	}
	p := r.start("")
	r.activate(seq)
	r.poll("the sends deferred (SMTP down)", 2*time.Minute, func() bool {
		return r.count(`SELECT COUNT(*) FROM send_ledger WHERE workspace_id = $1 AND state = 'deferred'`, r.ws) == n
	})
	// The backup holds n sends due; then they go out.
	backup := filepath.Join(r.dir, "backup.db")
	if r.kind == store.Postgres {
		backup = filepath.Join(r.dir, "backup.dump")
	}
	r.mark("deferred")
	cli(r, "backup", "--db", r.dsn, "--out", backup)
	r.mark("backed up")
	if err := r.smtp.Up(); err != nil {
		r.t.Fatal(err)
	}
	r.retryDeferredNow()
	r.poll("the sends to go out", 2*time.Minute, func() bool {
		return r.count(`SELECT COUNT(*) FROM send_ledger WHERE workspace_id = $1 AND state = 'accepted'`, r.ws) == n
	})
	r.mark("sent")
	if code := r.stop(p, time.Minute); code != 0 {
		r.t.Fatalf("serve exited %d on SIGTERM", code)
	}
	r.mark("stopped")
	r.st.Close()
	cli(r, "restore", "--db", r.dsn, "--from", backup)
	r.mark("restored")
	var err error
	if r.st, err = store.Open(context.Background(), r.dsn); err != nil {
		r.t.Fatal(err)
	}
	r.start("")
	var s struct {
		Paused bool `json:"paused"`
	}
	r.must("GET", "/api/v1/sending", "", http.StatusOK).json(r.t, &s)
	if !s.Paused {
		r.t.Fatal("sending not paused after a restore")
	}
	// The stale sends are due and a delivery run is asked for; it runs and
	// sends nothing.
	before := r.count(`SELECT COUNT(*) FROM river_job WHERE kind = 'mail_deliver_now' AND state = 'completed'`)
	r.retryDeferredNow()
	r.poll("the delivery run while paused", 2*time.Minute, func() bool {
		return r.count(`SELECT COUNT(*) FROM river_job WHERE kind = 'mail_deliver_now' AND state = 'completed'`) > before &&
			r.count(`SELECT COUNT(*) FROM river_job WHERE kind IN ('mail_deliver_now', 'mail_deliver') AND state IN ('available', 'running')`) == 0
	})
	f := map[string]int{"stale_sends": r.count(`SELECT COUNT(*) FROM send_ledger WHERE workspace_id = $1 AND state = 'deferred' AND due_at <= $2`, r.ws, store.Now())}
	f["sent_while_paused"] = int(r.smtp.Count()) - n
	if f["stale_sends"] != n || f["sent_while_paused"] != 0 {
		r.t.Fatalf("after the restore, paused: %v", f)
	}
	// An admin resumes: the stale sends go (the admin's decision).
	r.must("POST", "/api/v1/sending/resume", "", http.StatusOK)
	r.poll("the sends after resume", 2*time.Minute, func() bool {
		return r.count(`SELECT COUNT(*) FROM send_ledger WHERE workspace_id = $1 AND state = 'accepted'`, r.ws) == n
	})
	f["sent_after_resume"] = int(r.smtp.Count()) - n
	if f["sent_after_resume"] != n {
		r.t.Fatalf("after resume: %v", f)
	}
	return f
}

func cli(r *rig, args ...string) {
	r.t.Helper()
	cmd := exec.Command(r.bin, args...)
	cmd.Env = append(cmd.Environ(), "RIGHTSIZE_CONFIG=")
	if out, err := cmd.CombinedOutput(); err != nil {
		r.t.Fatalf("rightsize %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}
