package tracking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rightsize/rightsize/internal/store"
)

// ErrFull is returned by Submit when the buffer holds MaxPending events already:
// the endpoint answers 429 with Retry-After instead of queueing without bound.
var ErrFull = errors.New("tracking: ingest buffer full")

// ErrClosed is returned by Submit after Close.
var ErrClosed = errors.New("tracking: ingester closed")

// Batch is one request's events for one workspace.
type Batch struct {
	Workspace int64
	Events    []store.WebEvent
}

type job struct {
	b    Batch
	at   time.Time
	done chan error
}

// Ingester writes events by group commit: requests hand their batches to Submit,
// one writer goroutine takes everything queued (up to MaxRows) into one
// transaction, commits, and wakes each waiting request with the result. A request
// is answered only after its events are durably committed, and the buffer is
// bounded, so a flood is throttled rather than held in memory.
type Ingester struct {
	Svc *Service
	// MaxPending bounds the events waiting for a commit (default 100,000).
	MaxPending int
	// MaxRows is the most events one transaction writes (default 10,000).
	MaxRows int
	// Linger is how long the writer waits for more requests after the first one
	// arrives at an idle writer (default 10 ms). Under load commits take longer
	// than this and the next batch is already waiting.
	Linger time.Duration
	// Writers is how many transactions may be in flight at once (default 1).
	// SQLite has one writer connection, so more buys nothing there; PostgreSQL
	// overlaps one batch's round trips and commit with the next.
	Writers int
	// Write stores batches in one transaction (default: Svc.WriteBatches). Tests
	// replace it to block the writer.
	Write func(ctx context.Context, bs []Batch) error
	Log   *slog.Logger

	mu      sync.Mutex
	queue   []*job
	pending int
	wake    chan struct{}
	stop    chan struct{}
	stopped sync.WaitGroup
	closed  bool
	once    sync.Once

	accepted, rejected, throttled prometheus.Counter
	commitRows                    prometheus.Histogram
}

// NewIngester builds an ingester on svc and registers its counters with reg
// (nil: unregistered). Call Start before Submit and Close at shutdown.
func NewIngester(svc *Service, reg prometheus.Registerer) *Ingester {
	ev := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rightsize_tracking_events_total", Help: "Tracking events received at /t/e by result: accepted (committed), rejected (invalid), throttled (buffer full)."}, []string{"result"})
	rows := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "rightsize_tracking_commit_events", Help: "Events written per group-commit transaction.", Buckets: prometheus.ExponentialBuckets(1, 4, 8)})
	if reg != nil {
		reg.MustRegister(ev, rows)
	}
	return &Ingester{Svc: svc, accepted: ev.WithLabelValues("accepted"), rejected: ev.WithLabelValues("rejected"), throttled: ev.WithLabelValues("throttled"), commitRows: rows}
}

// Start runs the writer until Close.
func (in *Ingester) Start() {
	in.once.Do(func() {
		if in.MaxPending <= 0 {
			in.MaxPending = 100_000
		}
		if in.MaxRows <= 0 {
			in.MaxRows = 10_000
		}
		if in.Linger <= 0 {
			in.Linger = 10 * time.Millisecond
		}
		if in.Write == nil {
			in.Write = in.Svc.WriteBatches
		}
		if in.Log == nil {
			in.Log = slog.Default()
		}
		in.wake = make(chan struct{}, 1)
		in.stop = make(chan struct{})
		for range max(in.Writers, 1) {
			in.stopped.Add(1)
			go in.run()
		}
	})
}

// Close lets the writer finish what is queued, then stops it.
func (in *Ingester) Close() {
	in.mu.Lock()
	if in.closed || in.stop == nil {
		in.closed = true
		in.mu.Unlock()
		return
	}
	in.closed = true
	in.mu.Unlock()
	close(in.stop)
	in.stopped.Wait()
}

// Submit queues b and waits until it is committed (nil), failed, or refused
// (ErrFull: nothing was queued). A cancelled ctx stops the wait, not the write.
func (in *Ingester) Submit(ctx context.Context, b Batch) error {
	n := len(b.Events)
	j := &job{b: b, at: time.Now(), done: make(chan error, 1)}
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return ErrClosed
	}
	if in.pending+n > in.MaxPending {
		in.mu.Unlock()
		in.throttled.Add(float64(n))
		return ErrFull
	}
	in.pending += n
	in.queue = append(in.queue, j)
	in.mu.Unlock()
	select {
	case in.wake <- struct{}{}:
	default:
	}
	select {
	case err := <-j.done:
		if err == nil {
			in.accepted.Add(float64(n))
		}
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Rejected counts events refused as invalid (the endpoint calls it).
func (in *Ingester) Rejected(n int) { in.rejected.Add(float64(n)) }

func (in *Ingester) run() {
	defer in.stopped.Done()
	for {
		select {
		case <-in.wake:
		case <-in.stop:
			for in.flushOnce() {
			}
			return
		}
		for in.flushOnce() {
		}
	}
}

// flushOnce writes one transaction's worth of queued jobs; false when the queue
// was empty.
func (in *Ingester) flushOnce() bool {
	in.mu.Lock()
	if len(in.queue) == 0 {
		in.mu.Unlock()
		return false
	}
	first := in.queue[0].at
	rows := in.pending
	in.mu.Unlock()
	// Linger only when the writer was idle and the batch is small: under load
	// the oldest job has waited longer than Linger already.
	if wait := in.Linger - time.Since(first); wait > 0 && rows < in.MaxRows {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-in.stop:
			t.Stop()
		}
	}
	in.mu.Lock()
	take, n := 0, 0
	for take < len(in.queue) && (take == 0 || n+len(in.queue[take].b.Events) <= in.MaxRows) {
		n += len(in.queue[take].b.Events)
		take++
	}
	jobs := make([]*job, take)
	copy(jobs, in.queue[:take])
	in.queue = append(in.queue[:0], in.queue[take:]...)
	in.mu.Unlock()

	errs := in.commit(jobs)

	// Free the buffer before answering: a client that sends again as soon as
	// it has its answer must find room for it.
	in.mu.Lock()
	in.pending -= n
	in.mu.Unlock()
	for i, j := range jobs {
		j.done <- errs[i]
	}
	in.commitRows.Observe(float64(n))
	return true
}

// commit writes jobs in one transaction and returns each job's result. If that
// fails and there were several, each is retried alone so one bad batch cannot
// fail the others.
func (in *Ingester) commit(jobs []*job) []error {
	errs := make([]error, len(jobs))
	bs := make([]Batch, len(jobs))
	for i, j := range jobs {
		bs[i] = j.b
	}
	ctx := context.Background()
	err := in.Write(ctx, bs)
	if err != nil && len(jobs) > 1 {
		in.Log.Warn("tracking: group commit failed; retrying requests one by one", "requests", len(jobs), "err", err)
		for i, j := range jobs {
			errs[i] = in.Write(ctx, []Batch{j.b})
		}
		return errs
	}
	if err != nil {
		in.Log.Error("tracking: commit events", "events", len(jobs[0].b.Events), "err", err)
	}
	for i := range errs {
		errs[i] = err
	}
	return errs
}

// WriteBatches stores bs in one transaction: grouped by workspace, events of
// visitors already stitched to a contact go to that contact and to lead scoring
// in the same transaction.
func (s *Service) WriteBatches(ctx context.Context, bs []Batch) error {
	byWS := map[int64][]store.WebEvent{}
	var order []int64
	for _, b := range bs {
		if _, ok := byWS[b.Workspace]; !ok {
			order = append(order, b.Workspace)
		}
		byWS[b.Workspace] = append(byWS[b.Workspace], b.Events...)
	}
	return s.St.InTx(ctx, func(q store.Q) error {
		for _, ws := range order {
			if err := s.writeWorkspace(ctx, q, ws, byWS[ws]); err != nil {
				return fmt.Errorf("tracking: write events of workspace %d: %w", ws, err)
			}
		}
		return nil
	})
}

func (s *Service) writeWorkspace(ctx context.Context, q store.Q, ws int64, evs []store.WebEvent) error {
	seen := map[string]bool{}
	var visitors []string
	for i := range evs {
		if v := evs[i].VisitorID; !seen[v] {
			seen[v] = true
			visitors = append(visitors, v)
		}
	}
	if err := q.LockVisitors(ctx, ws, visitors, false); err != nil {
		return err
	}
	linked, err := q.StitchedVisitors(ctx, ws, visitors)
	if err != nil {
		return err
	}
	var known []store.WebEvent
	if len(linked) > 0 {
		for i := range evs {
			if c, ok := linked[evs[i].VisitorID]; ok {
				cid := c
				evs[i].ContactID = &cid
				known = append(known, evs[i])
			}
		}
	}
	if err := q.InsertWebEvents(ctx, ws, evs); err != nil {
		return err
	}
	return s.score(ctx, q, ws, known)
}
