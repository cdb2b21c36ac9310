package mail

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"

	"github.com/rightsize/rightsize/internal/scoring"
	"github.com/rightsize/rightsize/internal/store"
)

// Open and click events are written by group commit (docs/mail.md "Open and
// click tracking", docs/benchmarks.md "Open pixel and click: what changed and
// why"): a request verifies its token (no database read) and queues the event;
// one writer takes everything queued into one transaction — one query for the
// batch's unknown sends, a few multi-row INSERTs, the scoring job for its first
// human events — and a syncer makes the commits durable.
//
// When the request is answered (Service.EngageEarlyAck):
//   - 0: after its event is durable. A crash loses no answered event.
//   - N > 0: at once, while fewer than N answered events wait for the disk;
//     beyond that a request waits for its own event, as with 0. A crash of the
//     process or the machine loses at most the N answered events not yet
//     durable (about N ÷ the request rate, plus one commit); a failed write of
//     an answered event is logged and counted as dropped, never silent. A
//     click is answered at once only when its send's facts are known
//     (remembered, or read once: learnSend), so the redirect can carry the
//     contact's identify token; else it waits.
//
// Waiting buys the client nothing here: a mail client does not retry a pixel,
// nor a browser a redirect, so an event whose request failed in a crash is
// lost too. What the early answer changes is the cost: the writer may
// gather events for a few milliseconds into one large commit (the per-commit
// work — the WAL pages, the fsync, the sends lookup — was most of an event's
// CPU at 30 events a commit), and no request waits on the disk.

// Defaults of the engagement writer.
const (
	// EngageMaxPending bounds the events waiting for a commit. A request that
	// finds the queue full is answered (the image or the redirect must work)
	// and its event is counted as dropped, never held in memory without bound.
	EngageMaxPending = 50_000
	// engageMaxRows is the most events one transaction writes.
	engageMaxRows = 5_000
	// engageLinger: a batch of fewer than engageLingerRows events waits this
	// long after its oldest event for company (bounded latency for fewer,
	// larger commits).
	engageLinger     = time.Millisecond
	engageLingerRows = 64
	// With only early-answered events queued (nobody waits), a batch
	// gathers for up to engageEarlyLinger or engageEarlyRows events: larger
	// commits for less CPU an event, at no cost in response time.
	engageEarlyLinger = 10 * time.Millisecond
	engageEarlyRows   = 1024
	// EngageEarlyAckDefault is the app's Service.EngageEarlyAck unless
	// configured (config engage_early_ack): at 25,000 requests a second,
	// about 330 ms of events. The bound is reached only when commits fall
	// behind; 2,048 was reached whenever a SQLite commit took 20–30 ms under
	// load, and the requests that then waited were the p99 (docs/benchmarks.md).
	EngageEarlyAckDefault = 8192
)

// EngageStats counts what the open/click endpoints did with events.
type EngageStats struct {
	Recorded int64 // committed rows (people and machines)
	Unknown  int64 // valid token, but the send is gone: nothing to attach to
	Dropped  int64 // queue full, or the write failed: answered, not stored
	Commits  int64 // transactions
	// Waited counts requests answered only once their event was stored
	// (no early answer: EngageEarlyAck is 0 or its bound was reached, or a
	// click whose send's facts could not be read).
	Waited int64
}

type engageJob struct {
	t       EngageToken
	ua      string
	at      time.Time // the event's time (the service clock)
	queued  time.Time // when it was queued (wall clock, for the linger)
	contact int64     // set by the writer: the send's contact when a person made it
	early   bool      // answered when queued; counted in engageWriter.unsynced
	done    chan error
}

type engageWriter struct {
	s      *Service
	mu     sync.Mutex
	queue  []*engageJob
	closed bool
	// Guarded by mu: the queued jobs whose request waits (the writer does
	// not linger for company while one does), the early-answered events not
	// yet durable, and the callers of SyncEngagement waiting for that to
	// reach zero.
	waiting  int
	unsynced int
	idle     []chan struct{}
	wake     chan struct{}
	stop     chan struct{}
	stopped  sync.WaitGroup

	// toSync carries committed batches to the syncer, which answers them
	// once the commit is on disk (Store.SyncWAL; SQLite only).
	toSync   chan syncBatch
	syncDone chan struct{}

	recorded, unknown, dropped, commits, waited atomic.Int64
	// inflight counts events taken from the queue and not yet answered.
	inflight atomic.Int64

	// Read-through memory of facts that never change once true, so a
	// repeated open costs one INSERT row and nothing else: a delivered send's
	// contact, enrollment, step and delivery times (a send row is never
	// deleted, and its outcome is recorded once), and the (send, kind, URL)
	// keys already scored (a scored row is never unscored). Both are bounded
	// and simply start over when full.
	cmu    sync.Mutex
	sends  map[sendKey]sendFacts
	scored map[scoredKey]struct{}
	// agents remembers classifyAgent's answer per user agent (a lower-cased
	// copy and thirty substring searches an event otherwise).
	agents map[string]agentClass
}

type agentClass struct {
	machine bool
	why     string
}

// agentCacheMax bounds the user agents remembered.
const agentCacheMax = 4096

// classify is the package's classify with the user-agent half remembered;
// the caller holds w.cmu.
func (w *engageWriter) classify(ua string, at time.Time, snd store.Send) (bool, string) {
	c, ok := w.agents[ua]
	if !ok {
		c.machine, c.why = classifyAgent(ua)
		if w.agents == nil || len(w.agents) >= agentCacheMax {
			w.agents = make(map[string]agentClass)
		}
		w.agents[ua] = c
	}
	if c.machine {
		return true, c.why
	}
	return classifyTime(at, snd)
}

type sendKey struct{ ws, send int64 }

type scoredKey struct {
	ws, send  int64
	kind, url string
}

// sendFacts is what classifying and recording an event needs of a send.
type sendFacts struct {
	contact, enrollment, step int64 // 0: none
	started, finished         time.Time
}

// engageCacheMax bounds each memory (about 100 bytes an entry).
const engageCacheMax = 50_000

func factsOf(s store.Send) sendFacts {
	f := sendFacts{contact: s.ContactID}
	if s.EnrollmentID != nil {
		f.enrollment = *s.EnrollmentID
	}
	if s.StepID != nil {
		f.step = *s.StepID
	}
	if s.StartedAt != nil {
		f.started = *s.StartedAt
	}
	if s.FinishedAt != nil {
		f.finished = *s.FinishedAt
	}
	return f
}

// send rebuilds the fields of a store.Send that classify and the event row
// read.
func (f sendFacts) send(ws, id int64) store.Send {
	s := store.Send{ID: id, Workspace: ws, ContactID: f.contact}
	if f.enrollment != 0 {
		e := f.enrollment
		s.EnrollmentID = &e
	}
	if f.step != 0 {
		st := f.step
		s.StepID = &st
	}
	if !f.started.IsZero() {
		t := f.started
		s.StartedAt = &t
	}
	if !f.finished.IsZero() {
		t := f.finished
		s.FinishedAt = &t
	}
	return s
}

// syncBatch is a committed batch waiting for its sync.
type syncBatch struct {
	jobs []*engageJob
	err  error
}

// writer starts the engagement writer on first use.
func (s *Service) writer() *engageWriter {
	s.engageOnce.Do(func() {
		w := &engageWriter{s: s, wake: make(chan struct{}, 1), stop: make(chan struct{})}
		if s.St.DeferSync() {
			// Unbuffered: a committed batch waits for the syncer to finish
			// the sync in progress, and meanwhile the queue fills — one
			// commit per sync, each overlapping the previous sync.
			w.toSync, w.syncDone = make(chan syncBatch), make(chan struct{})
			go w.syncer()
		}
		for range max(s.EngageWriters, 1) {
			w.stopped.Add(1)
			go w.run()
		}
		s.ew.Store(w)
	})
	return s.ew.Load()
}

// syncer answers committed batches once they are durable: one SyncWAL for
// every batch committed before it began, while the writer commits the next
// (Store.InTxDeferSync). A batch is answered only after its sync, so an
// answered event is on disk as with a synchronous commit.
func (w *engageWriter) syncer() {
	defer close(w.syncDone)
	for b := range w.toSync {
		batches := []syncBatch{b}
	more:
		for {
			select {
			case b, ok := <-w.toSync:
				if !ok {
					break more
				}
				batches = append(batches, b)
			default:
				break more
			}
		}
		serr := w.s.St.SyncWAL()
		if serr != nil {
			w.s.Log.Error("mail: engagement events committed but not synced to disk", "batches", len(batches), "err", serr)
		}
		for _, b := range batches {
			err := b.err
			if err == nil && serr != nil {
				err = serr
			}
			w.finish(b.jobs, err)
			w.inflight.Add(-int64(len(b.jobs)))
		}
	}
}

// Close writes the open and click events still queued and stops the writer.
func (s *Service) Close() {
	w := s.ew.Load()
	if w == nil {
		return
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	w.stopped.Wait()
	if w.toSync != nil {
		close(w.toSync)
		<-w.syncDone
	}
}

// EngageStats reports the open/click writer's counters since start.
func (s *Service) EngageStats() EngageStats {
	w := s.ew.Load()
	if w == nil {
		return EngageStats{}
	}
	return EngageStats{Recorded: w.recorded.Load(), Unknown: w.unknown.Load(), Dropped: w.dropped.Load(), Commits: w.commits.Load(), Waited: w.waited.Load()}
}

var errEngageFull = errors.New("mail: engagement queue full")
var errEngageClosed = errors.New("mail: engagement writer closed")

// record queues one event and waits for its commit. It returns the send's
// contact when a person (not a scanner or prefetch) made the event, else 0.
// A cancelled ctx stops the wait, not the write.
func (s *Service) record(ctx context.Context, t EngageToken, ua string) (int64, error) {
	if len(ua) > 512 {
		ua = ua[:512]
	}
	w := s.writer()
	j := &engageJob{t: t, ua: ua, at: s.Now().UTC(), queued: time.Now()}
	limit := s.EngageMaxPending
	if limit <= 0 {
		limit = EngageMaxPending
	}
	// An early answer needs what the request returns: nothing for an open;
	// for a click, the contact when a person clicked — from the send's
	// facts, remembered or read once (learnSend).
	canEarly := s.EngageEarlyAck > 0
	var contact int64 // the writer owns j.contact once the job is queued
	if canEarly && t.Kind == store.MailClick {
		w.cmu.Lock()
		f, known := w.sends[sendKey{t.Workspace, t.Send}]
		w.cmu.Unlock()
		if !known {
			f, known = w.learnSend(ctx, t.Workspace, t.Send)
		}
		canEarly = known
		if known {
			// The writer classifies the event from the same facts, user
			// agent and time: the same answer.
			w.cmu.Lock()
			if machine, _ := w.classify(ua, j.at, f.send(t.Workspace, t.Send)); !machine {
				contact = f.contact
			}
			w.cmu.Unlock()
		}
	}
	w.mu.Lock()
	switch {
	case w.closed:
		w.mu.Unlock()
		w.dropped.Add(1)
		return 0, errEngageClosed
	case len(w.queue) >= limit:
		w.mu.Unlock()
		w.dropped.Add(1)
		return 0, errEngageFull
	}
	j.early = canEarly && w.unsynced < s.EngageEarlyAck
	if j.early {
		w.unsynced++
	} else {
		w.waiting++
		w.waited.Add(1)
		j.done = make(chan error, 1)
	}
	w.queue = append(w.queue, j)
	// Wake the writer for the first event, a waiting request, or a full
	// early batch; otherwise it is lingering on a timer or busy committing.
	wake := len(w.queue) == 1 || !j.early || len(w.queue) == engageEarlyRows
	w.mu.Unlock()
	if wake {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	if j.early {
		return contact, nil
	}
	select {
	case err := <-j.done:
		return j.contact, err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// learnSend reads a send's facts for the first click of a send (one indexed
// read), so the click is answered at once like the next ones instead of
// waiting for its event's commit and sync — under load that wait was the
// clicks' p99 (docs/benchmarks.md). Only a delivered send's facts are kept
// (they never change); anything else — gone, another workspace's, not
// finished, a failed read — answers false and the click waits for the
// writer, which decides and reports it as before.
func (w *engageWriter) learnSend(ctx context.Context, ws, id int64) (sendFacts, bool) {
	got, err := w.s.St.Read().SendsByIDs(ctx, ws, []int64{id})
	snd, ok := got[id]
	if err != nil || !ok || snd.FinishedAt == nil {
		return sendFacts{}, false
	}
	f := factsOf(snd)
	w.cmu.Lock()
	if w.sends == nil || len(w.sends) >= engageCacheMax {
		w.sends = make(map[sendKey]sendFacts)
	}
	w.sends[sendKey{ws, id}] = f
	w.cmu.Unlock()
	return f, true
}

func (w *engageWriter) run() {
	defer w.stopped.Done()
	for {
		select {
		case <-w.wake:
		case <-w.stop:
			for w.flush() {
			}
			return
		}
		for w.flush() {
		}
	}
}

// flush commits what is queued (up to engageMaxRows); false when nothing was.
// A small batch waits a little after its oldest event for company: per
// commit costs (the WAL pages, the fsync, the sends lookup) are the same for
// 5 events and for 100. While a request waits for its event that is at most
// engageLinger; with only early-answered events queued, engageEarlyLinger.
func (w *engageWriter) flush() bool {
	w.mu.Lock()
	for len(w.queue) > 0 && !w.closed {
		linger, rows := engageEarlyLinger, engageEarlyRows
		if w.waiting > 0 {
			linger, rows = engageLinger, engageLingerRows
		}
		wait := linger - time.Since(w.queue[0].queued)
		if len(w.queue) >= rows || wait <= 0 {
			break
		}
		w.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-w.wake: // a waiting request, or a full early batch
		case <-w.stop:
		}
		t.Stop()
		w.mu.Lock()
	}
	n := min(len(w.queue), engageMaxRows)
	if n == 0 {
		w.mu.Unlock()
		return false
	}
	jobs := make([]*engageJob, n)
	copy(jobs, w.queue[:n])
	clear(w.queue[:n])
	w.queue = append(w.queue[:0], w.queue[n:]...)
	for _, j := range jobs {
		if !j.early {
			w.waiting--
		}
	}
	more := len(w.queue) > 0
	w.inflight.Add(int64(n))
	w.mu.Unlock()
	defer w.inflight.Add(-int64(n))
	if more {
		// Another writer (PostgreSQL runs four) may take the rest meanwhile.
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	ctx := context.Background()
	err := w.s.writeEngage(ctx, jobs)
	// After a commit (SQLite: the engine's page writes and checkpoints run on
	// this goroutine), let waiting request goroutines run first; see
	// store.insertMailEvents.
	runtime.Gosched()
	if err != nil && len(jobs) > 1 {
		// One bad event must not lose the others: each alone.
		w.s.Log.Warn("mail: engagement group commit failed; writing events one by one", "events", len(jobs), "err", err)
		for _, j := range jobs {
			w.done([]*engageJob{j}, w.s.writeEngage(ctx, []*engageJob{j}))
		}
		return true
	}
	w.done(jobs, err)
	return true
}

// done hands a written batch to the syncer, or answers it at once when the
// commit was durable already (PostgreSQL) or failed.
func (w *engageWriter) done(jobs []*engageJob, err error) {
	if w.toSync == nil || err != nil {
		w.finish(jobs, err)
		return
	}
	w.inflight.Add(int64(len(jobs))) // answered by the syncer
	w.toSync <- syncBatch{jobs: jobs}
}

func (w *engageWriter) finish(jobs []*engageJob, err error) {
	if err != nil {
		w.dropped.Add(int64(len(jobs)))
	} else {
		w.commits.Add(1)
	}
	early := 0
	for _, j := range jobs {
		if j.early {
			early++
			if err != nil {
				// Answered already: nobody else will say it was lost.
				w.s.Log.Error("mail: answered engagement event not stored", "workspace", j.t.Workspace, "send", j.t.Send, "kind", j.t.Kind, "err", err)
			}
			continue
		}
		if err != nil {
			j.contact = 0
		}
		j.done <- err
	}
	if early > 0 {
		w.mu.Lock()
		w.unsynced -= early
		if w.unsynced == 0 {
			for _, c := range w.idle {
				close(c)
			}
			w.idle = nil
		}
		w.mu.Unlock()
	}
}

// SyncEngagement waits until every open and click event answered so far is
// durable (or its write failed and was logged): the barrier for a caller that
// must read what a request it made stored, with EngageEarlyAck set. Under
// continuous traffic it returns once the writer has caught up.
func (s *Service) SyncEngagement(ctx context.Context) error {
	w := s.ew.Load()
	if w == nil {
		return nil
	}
	w.mu.Lock()
	if w.unsynced == 0 {
		w.mu.Unlock()
		return nil
	}
	c := make(chan struct{})
	w.idle = append(w.idle, c)
	w.mu.Unlock()
	select {
	case <-c:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// writeEngage stores jobs' events in one transaction: per workspace, one
// query for the sends not yet known, machine or person decided per event, the
// rows in bulk (the first human event per send, kind and URL marked scored,
// race-free in the database), and the scoring of those — a job (ScoreLater)
// or inline — in the same transaction.
func (s *Service) writeEngage(ctx context.Context, jobs []*engageJob) error {
	byWS := map[int64][]*engageJob{}
	var order []int64
	for _, j := range jobs {
		j.contact = 0
		if _, ok := byWS[j.t.Workspace]; !ok {
			order = append(order, j.t.Workspace)
		}
		byWS[j.t.Workspace] = append(byWS[j.t.Workspace], j)
	}
	w := s.ew.Load()
	var recorded, unknown int64
	var newlyScored []scoredKey
	// The commit's sync is the syncer's: a waiting request is answered after it.
	err := s.St.InTxDeferSync(ctx, func(q store.Q) error {
		recorded, unknown, newlyScored = 0, 0, newlyScored[:0]
		// The lookups first, for every workspace of the batch: then the
		// writes' foreign-key checks may reuse cached plans (PostgreSQL).
		sendsOf := make(map[int64]map[int64]store.Send, len(order))
		for _, ws := range order {
			js := byWS[ws]
			sends := make(map[int64]store.Send, len(js))
			sendsOf[ws] = sends
			var ids []int64
			asked := map[int64]bool{}
			w.cmu.Lock()
			for _, j := range js {
				if _, ok := sends[j.t.Send]; ok || asked[j.t.Send] {
					continue
				}
				if f, ok := w.sends[sendKey{ws, j.t.Send}]; ok {
					sends[j.t.Send] = f.send(ws, j.t.Send)
				} else {
					asked[j.t.Send] = true
					ids = append(ids, j.t.Send)
				}
			}
			w.cmu.Unlock()
			if len(ids) > 0 {
				got, err := q.SendsByIDs(ctx, ws, ids)
				if err != nil {
					return err
				}
				w.cmu.Lock()
				if w.sends == nil || len(w.sends)+len(got) > engageCacheMax {
					w.sends = make(map[sendKey]sendFacts, len(got))
				}
				for id, snd := range got {
					sends[id] = snd
					if snd.FinishedAt != nil {
						// The outcome is recorded: nothing read here changes again.
						w.sends[sendKey{ws, id}] = factsOf(snd)
					}
				}
				w.cmu.Unlock()
			}
		}
		if err := q.CacheForeignKeyPlans(ctx); err != nil {
			return err
		}
		for _, ws := range order {
			js, sends := byWS[ws], sendsOf[ws]
			evs := make([]*store.MailEvent, 0, len(js))
			w.cmu.Lock()
			for _, j := range js {
				snd, ok := sends[j.t.Send]
				if !ok {
					// A signed token for a send that is gone (or another
					// workspace's id): nothing to attach the event to.
					unknown++
					continue
				}
				e := &store.MailEvent{SendID: snd.ID, ContactID: snd.ContactID, EnrollmentID: snd.EnrollmentID, StepID: snd.StepID, Kind: j.t.Kind, URL: j.t.URL, UserAgent: j.ua, At: j.at}
				e.Machine, e.Reason = w.classify(j.ua, j.at, snd)
				if !e.Machine {
					j.contact = snd.ContactID
				}
				if _, done := w.scored[scoredKey{ws, snd.ID, e.Kind, e.URL}]; !done {
					// Known scored already: stored unscored without asking.
					e.Scored = !e.Machine && s.Scoring != nil
				}
				evs = append(evs, e)
			}
			w.cmu.Unlock()
			if err := q.InsertMailEvents(ctx, ws, evs); err != nil {
				return err
			}
			recorded += int64(len(evs))
			for _, e := range evs {
				if e.Scored {
					newlyScored = append(newlyScored, scoredKey{ws, e.SendID, e.Kind, e.URL})
				}
			}
			var sc []scoring.Event
			for _, e := range evs {
				if !e.Scored {
					continue
				}
				kind := "email_open"
				if e.Kind == store.MailClick {
					kind = "email_click"
				}
				sc = append(sc, scoring.Event{ContactID: e.ContactID, Kind: kind, OccurredAt: e.At, URL: e.URL})
			}
			if len(sc) == 0 {
				continue
			}
			if err := s.score(ctx, q, ws, sc); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && w != nil {
		w.recorded.Add(recorded)
		w.unknown.Add(unknown)
		// Remembered only once committed: a rolled-back score did not happen.
		w.cmu.Lock()
		if w.scored == nil || len(w.scored)+len(newlyScored) > engageCacheMax {
			w.scored = make(map[scoredKey]struct{}, len(newlyScored))
		}
		for _, k := range newlyScored {
			w.scored[k] = struct{}{}
		}
		w.cmu.Unlock()
	}
	return err
}

// EngageScoreArgs is the River job that applies the lead-scoring effect of
// first human opens and clicks (docs/mail.md): the open/click writer decides
// in its transaction which events are the first of their send, kind and URL
// (race-free, in the database) and, when Service.ScoreLater is set, enqueues
// this job in the same transaction instead of scoring inline. The pixel then
// costs a few INSERT rows; scoring — which reads and locks contacts and
// rewrites their scores — runs on a worker node.
type EngageScoreArgs struct {
	Workspace int64           `json:"workspace"`
	Events    []scoring.Event `json:"events"`
}

// Kind names the job.
func (EngageScoreArgs) Kind() string { return "mail_engage_score" }

// InsertOpts: a failed run rolled back; the retry applies the same events.
func (EngageScoreArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 10} }

// engageScoreChunk bounds the events of one scoring job.
const engageScoreChunk = 500

// EngageScoreWorker applies a batch of first human opens and clicks to lead
// scoring in one transaction.
type EngageScoreWorker struct {
	river.WorkerDefaults[EngageScoreArgs]
	Svc *Service
}

// Work scores the events; rejected ones (the kind was removed from the
// weights, the contact is gone) are logged, as inline scoring does.
func (w *EngageScoreWorker) Work(ctx context.Context, j *river.Job[EngageScoreArgs]) error {
	if w.Svc.Scoring == nil {
		return nil
	}
	return w.Svc.St.InTx(ctx, func(q store.Q) error {
		return w.Svc.scoreNow(ctx, q, j.Args.Workspace, j.Args.Events)
	})
}

// scoreNow feeds events to lead scoring in q's transaction.
func (s *Service) scoreNow(ctx context.Context, q store.Q, ws int64, events []scoring.Event) error {
	res, err := s.Scoring.IngestTx(ctx, q, ws, events)
	if err != nil {
		return err
	}
	for _, re := range res.Errors {
		// The workspace dropped the kind from its weights, or the contact is
		// gone: the event stays recorded, it just does not score.
		s.Log.Info("mail: engagement not scored", "workspace", ws, "event", re.Field, "why", re.Message)
	}
	return nil
}

// score applies or enqueues the scoring of a batch's first human events.
func (s *Service) score(ctx context.Context, q store.Q, ws int64, events []scoring.Event) error {
	if s.ScoreLater == nil {
		return s.scoreNow(ctx, q, ws, events)
	}
	for start := 0; start < len(events); start += engageScoreChunk {
		if err := s.ScoreLater(ctx, q, EngageScoreArgs{Workspace: ws, Events: events[start:min(start+engageScoreChunk, len(events))]}); err != nil {
			return err
		}
	}
	return nil
}
