package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/riverqueue/river"

	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/faults"
	"github.com/rightsize/rightsize/internal/forms"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/secretbox"
	"github.com/rightsize/rightsize/internal/store"
)

// Idempotency-Key on POST (docs/api.md): a client that may retry a POST sends
// a key of its choosing. The first request with the key claims it in the
// database (so several serve processes agree) before the handler runs, and its
// response is kept for IdemTTL. A retry with the same key and the same request
// (method, path, query and body hashed) gets that response again, marked
// Idempotency-Replayed: true; the same key with another request is a 422; a
// retry while the first is still running is a 409. Keys are scoped to the
// workspace and the credential (API key or user) that sent them. A response
// the server failed to produce (5xx) is not kept: the retry runs again, unless
// the request's change committed (the handler's transactions mark the key,
// store.WithIdemEffect): then a retry after the key's lock is answered 422
// idempotency_outcome_unknown and nothing runs twice.

// IdemHeader is the request header.
const IdemHeader = "Idempotency-Key"

const (
	// IdemTTL is how long a key and its response are kept.
	IdemTTL = 24 * time.Hour
	// idemLock is how long a running request holds its key; after that a
	// retry may take it over (the first request's process is presumed dead).
	idemLock = 10 * time.Minute
	// idemMaxKey bounds a key's length.
	idemMaxKey = 255
	// idemMaxStored bounds a response kept for replay.
	idemMaxStored = 1 << 20
	// idemSpool is how much of a request body is hashed in memory before it
	// is spooled to a temporary file (imports are uploads).
	idemSpool = 1 << 20
)

// idemBodyLimit is the body limit of POST routes that raise Wrap's default
// (uploads): the body is read before the handler, under the same limit.
func (a *API) idemBodyLimit(opID string) int64 {
	switch opID {
	case "createImport":
		if a.d.MaxUploadBytes > 0 {
			return a.d.MaxUploadBytes
		}
		return 512 << 20
	case "createContent":
		return forms.MaxFileBytes + maxContentFields + (64 << 10)
	}
	return 0
}

func principalKey(p *auth.Principal) string {
	if p.APIKeyID != 0 {
		return "key:" + strconv.FormatInt(p.APIKeyID, 10)
	}
	return "user:" + strconv.FormatInt(p.UserID, 10)
}

// validIdemKey: 1 to 255 visible ASCII characters.
func validIdemKey(k string) bool {
	if k == "" || len(k) > idemMaxKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// idempotent runs h once per key: it claims the key, runs h with a recording
// writer, stores what h answered and replays it to retries.
func (a *API) idempotent(rt route, w http.ResponseWriter, r *http.Request, p *auth.Principal, key string) error {
	if !validIdemKey(key) {
		return &httpx.StatusError{Status: http.StatusBadRequest, Code: "invalid_idempotency_key", Field: IdemHeader,
			Msg: fmt.Sprintf("must be 1 to %d visible ASCII characters (a UUID is a good choice)", idemMaxKey)}
	}
	if n := a.idemBodyLimit(rt.doc.id); n > 0 {
		httpx.LiftBodyLimit(w, r, n)
	}
	body, hash, err := spool(r)
	if err != nil {
		return err
	}
	defer body.Close()
	ctx := r.Context()
	now := store.Now()
	k := store.IdemKey{Principal: principalKey(p), Key: key, Method: r.Method, Path: r.URL.Path, RequestHash: hash, CreatedAt: now, LockedUntil: now.Add(idemLock)}
	var stored store.IdemKey
	var claimed bool
	err = a.d.St.InTx(ctx, func(q store.Q) error {
		var err error
		stored, claimed, err = q.ClaimIdemKey(ctx, p.WorkspaceID, k, now.Add(-IdemTTL))
		if err != nil || claimed || stored.RequestHash != hash || stored.Status != 0 || stored.LockedUntil.After(now) || !stored.EffectAt.IsZero() {
			return err
		}
		// Still in progress past its lock and nothing of it committed: the
		// first request's process died before its change; running it is safe.
		claimed, err = q.ReclaimIdemKey(ctx, p.WorkspaceID, k.Principal, key, hash, now, now.Add(idemLock))
		if claimed {
			slog.WarnContext(ctx, "idempotency key taken over after its first request's lock ran out; the request runs again", "workspace", p.WorkspaceID, "principal", k.Principal, "request_id", httpx.RequestID(ctx))
		}
		return err
	})
	if err != nil {
		return err
	}
	if !claimed {
		switch {
		case stored.RequestHash != hash:
			return &httpx.StatusError{Status: http.StatusUnprocessableEntity, Code: "idempotency_key_reused", Field: IdemHeader,
				Msg: fmt.Sprintf("this key was used for another request (%s %s with a different body) in the last 24 hours; use a new key for a new request", stored.Method, stored.Path)}
		case stored.Status == 0 && !stored.EffectAt.IsZero() && !stored.LockedUntil.After(now):
			// The first request's change committed, then its process ended
			// before the answer was stored: running it again would do it twice.
			slog.WarnContext(ctx, "idempotency key retried after its first request took effect and lost its answer; not run again", "workspace", p.WorkspaceID, "principal", k.Principal, "effect_at", stored.EffectAt, "request_id", httpx.RequestID(ctx))
			return &httpx.StatusError{Status: http.StatusUnprocessableEntity, Code: "idempotency_outcome_unknown", Field: IdemHeader,
				Msg: fmt.Sprintf("the first request with this key was carried out (its change was saved at %s) but the server stopped before its answer was stored; it is not run again — look the record up instead of retrying", stored.EffectAt.Format(time.RFC3339))}
		case stored.Status == 0:
			w.Header().Set("Retry-After", "1")
			return &httpx.StatusError{Status: http.StatusConflict, Code: "idempotency_key_in_use", Field: IdemHeader,
				Msg: "a request with this key is still running; retry when it has finished"}
		}
		if stored.ContentType != "" {
			w.Header().Set("Content-Type", stored.ContentType)
		}
		if stored.Location != "" {
			w.Header().Set("Location", stored.Location)
		}
		body := stored.Body
		if secretResponse[rt.doc.id] && len(body) > 0 {
			if body, err = a.openIdemBody(p, key, body); err != nil {
				return &httpx.StatusError{Status: http.StatusConflict, Code: "idempotency_key_unreplayable", Field: IdemHeader,
					Msg: "the first response to this key cannot be replayed (the install key changed); use a new key"}
			}
		}
		w.Header().Set("Idempotency-Replayed", "true")
		w.WriteHeader(stored.Status)
		_, _ = w.Write(body)
		return nil
	}
	r = httpx.ReplaceBody(r, body)
	// The handler's transactions mark the key as having taken effect in the
	// same commit as its change (a crash before the answer is stored then
	// cannot make a retry run it twice).
	r = r.WithContext(store.WithIdemEffect(r.Context(), p.WorkspaceID, k.Principal, key))
	rec := &recorder{ResponseWriter: w}
	herr := rt.h(a, rec, r, p)
	if herr != nil {
		httpx.Error(rec, r, herr)
	}
	faults.Point(faults.IdemAfterCommit)
	// Record with a context of its own: the client may have gone away, and
	// the key must not stay locked because of it.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err = a.d.St.InTx(sctx, func(q store.Q) error {
		// A server failure or a client that went away (499) produced no
		// answer worth replaying: the retry runs again.
		if rec.status >= 500 || rec.status == 0 || rec.status == 499 {
			return q.ReleaseIdemKey(sctx, p.WorkspaceID, k.Principal, key, store.Now())
		}
		stored := rec.buf.Bytes()
		if rec.overflow {
			stored = nil
		}
		if secretResponse[rt.doc.id] && len(stored) > 0 {
			var err error
			if stored, err = a.sealIdemBody(p, key, stored); err != nil {
				return err
			}
		}
		return q.CompleteIdemKey(sctx, p.WorkspaceID, k.Principal, key, rec.status, rec.Header().Get("Content-Type"), rec.Header().Get("Location"), stored, store.Now())
	})
	if err != nil {
		slog.ErrorContext(ctx, "idempotency: recording the response failed; a retry with this key will get 409 until the key's lock runs out", "err", err, "request_id", httpx.RequestID(ctx))
	}
	return nil
}

// secretResponse names the routes whose answer carries a secret shown once
// (an API key, a webhook signing secret): their kept response is sealed, so
// the idempotency table never holds the secret in plain text.
var secretResponse = map[string]bool{"createAPIKey": true, "createWebhook": true}

const idemLabel = "idempotent-response:v1"

func idemAAD(p *auth.Principal, key string) string {
	return strconv.FormatInt(p.WorkspaceID, 10) + "|" + principalKey(p) + "|" + key
}

func (a *API) sealIdemBody(p *auth.Principal, key string, body []byte) ([]byte, error) {
	if a.d.Mail == nil {
		return nil, nil // no install key: keep nothing rather than plain text
	}
	enc, err := secretbox.Seal(a.d.Mail.Secret, idemLabel, idemAAD(p, key), body)
	return []byte(enc), err
}

func (a *API) openIdemBody(p *auth.Principal, key string, body []byte) ([]byte, error) {
	if a.d.Mail == nil {
		return nil, secretbox.ErrOpen
	}
	return secretbox.Open(a.d.Mail.Secret, idemLabel, idemAAD(p, key), string(body))
}

// recorder passes a response through and keeps a copy for replay.
type recorder struct {
	http.ResponseWriter
	status   int
	buf      bytes.Buffer
	overflow bool
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if !r.overflow {
		if r.buf.Len()+len(b) > idemMaxStored {
			r.overflow = true
			r.buf.Reset()
		} else {
			r.buf.Write(b)
		}
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// spool reads the request body, hashing method, path, query and body, and
// returns a reader over the same bytes (memory up to idemSpool, then a
// temporary file removed on Close).
func spool(r *http.Request) (io.ReadCloser, string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n", r.Method, r.URL.Path, r.URL.RawQuery)
	if r.Body == nil {
		return io.NopCloser(bytes.NewReader(nil)), hex.EncodeToString(h.Sum(nil)), nil
	}
	var mem bytes.Buffer
	n, err := io.Copy(io.MultiWriter(h, &mem), io.LimitReader(r.Body, idemSpool))
	if err != nil {
		return nil, "", readErr(err)
	}
	if n < idemSpool {
		return io.NopCloser(bytes.NewReader(mem.Bytes())), hex.EncodeToString(h.Sum(nil)), nil
	}
	f, err := os.CreateTemp("", "rightsize-idem-*")
	if err != nil {
		return nil, "", err
	}
	cleanup := func() { f.Close(); os.Remove(f.Name()) }
	if _, err := f.Write(mem.Bytes()); err != nil {
		cleanup()
		return nil, "", err
	}
	if _, err := io.Copy(io.MultiWriter(h, f), r.Body); err != nil {
		cleanup()
		return nil, "", readErr(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		cleanup()
		return nil, "", err
	}
	return &tempBody{f}, hex.EncodeToString(h.Sum(nil)), nil
}

func readErr(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err
	}
	return &httpx.StatusError{Status: http.StatusBadRequest, Code: "body_read", Msg: "the request body could not be read: " + err.Error()}
}

type tempBody struct{ *os.File }

func (t *tempBody) Close() error {
	err := t.File.Close()
	_ = os.Remove(t.File.Name())
	return err
}

// ---- cleanup job -------------------------------------------------------------------

// IdemCleanupArgs is the periodic job that deletes keys older than IdemTTL.
type IdemCleanupArgs struct{}

// Kind names the job.
func (IdemCleanupArgs) Kind() string { return "idempotency_cleanup" }

// IdemCleanupWorker deletes expired keys.
type IdemCleanupWorker struct {
	river.WorkerDefaults[IdemCleanupArgs]
	St *store.Store
}

// Work deletes keys created more than IdemTTL ago.
func (w *IdemCleanupWorker) Work(ctx context.Context, _ *river.Job[IdemCleanupArgs]) error {
	return w.St.InTx(ctx, func(q store.Q) error {
		_, err := q.AdminDeleteIdemKeys(ctx, store.Now().Add(-IdemTTL))
		return err
	})
}

// IdemCleanupPeriodicJob runs the cleanup every interval on the leader.
func IdemCleanupPeriodicJob(every time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(every), func() (river.JobArgs, *river.InsertOpts) {
		return IdemCleanupArgs{}, nil
	}, &river.PeriodicJobOpts{ID: "idempotency_cleanup", RunOnStart: true})
}
