package auth

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/store"
)

// Limit is at most Max hits per key in a fixed Window that starts at the first
// hit.
type Limit struct {
	Max    int
	Window time.Duration
}

// Throttle limits what can be guessed at: failed logins (and wrong current
// passwords) per account and per client IP, password reset requests per account
// and per IP. The counts live in the database (auth_throttle), so every serve
// process sharing it enforces the same limits.
type Throttle struct {
	Account Limit
	IP      Limit
}

// DefaultThrottle: 5 per account per 15 minutes stops online guessing of one
// password; the per-IP allowance is wider because an office shares one
// address, and still stops one client from walking through many accounts.
var DefaultThrottle = Throttle{Account: Limit{Max: 5, Window: 15 * time.Minute}, IP: Limit{Max: 20, Window: 15 * time.Minute}}

// ThrottledError answers an attempt past a limit: try again after RetryAfter.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many attempts; try again in %s", e.RetryAfter.Round(time.Second))
}

// RetryAfterSeconds is the Retry-After header value (at least 1).
func (e *ThrottledError) RetryAfterSeconds() int {
	return max(1, int((e.RetryAfter+time.Second-1)/time.Second))
}

func (s *Service) limits() Throttle {
	t := s.Throttle
	if t.Account.Max <= 0 || t.Account.Window <= 0 {
		t.Account = DefaultThrottle.Account
	}
	if t.IP.Max <= 0 || t.IP.Window <= 0 {
		t.IP = DefaultThrottle.IP
	}
	return t
}

// limitFor picks the limit of a key by its kind ("…:ip:…" or an account).
func (s *Service) limitFor(key string) Limit {
	if strings.Contains(key, ":ip:") {
		return s.limits().IP
	}
	return s.limits().Account
}

// throttled answers *ThrottledError when any key is at its limit (the longest
// wait wins).
func (s *Service) throttled(ctx context.Context, keys ...string) error {
	now := s.now()
	var wait time.Duration
	r := s.St.Read()
	for _, k := range keys {
		l := s.limitFor(k)
		hits, start, err := r.ThrottleState(ctx, k)
		if err != nil {
			return fmt.Errorf("auth: throttle: %w", err)
		}
		end := start.Add(l.Window)
		if hits >= l.Max && now.Before(end) {
			wait = max(wait, end.Sub(now))
		}
	}
	if wait > 0 {
		return &ThrottledError{RetryAfter: wait}
	}
	return nil
}

// hit counts one attempt on each key in q's transaction.
func (s *Service) hit(ctx context.Context, q store.Q, keys ...string) error {
	now := s.now()
	for _, k := range keys {
		if err := q.ThrottleHit(ctx, k, now, now.Add(-s.limitFor(k).Window)); err != nil {
			return err
		}
	}
	return nil
}
