// Package tracking owns first-party web tracking: the sites a workspace tracks
// (public key, allowed origins, consent mode), the /t.js script, the public
// /t/e ingest endpoint with its group-commit writer, and identity stitching of an
// anonymous visitor to a contact (docs/tracking.md).
package tracking

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/scoring"
	"github.com/rightsize/rightsize/internal/store"
)

// Consent modes of a site.
const (
	ConsentNone     = "none"     // track on load
	ConsentRequired = "required" // nothing (no cookie, no request) until rightsize('consent', true)
)

// ConsentModes lists the valid consent modes.
var ConsentModes = []string{ConsentNone, ConsentRequired}

const (
	maxOrigins  = 20
	maxSiteName = 100
	// siteTTL is how long a process trusts a cached site (origins, consent); a
	// change made through this process is seen at once.
	siteTTL       = 10 * time.Second
	maxCachedKeys = 10000
)

// Service manages sites and stitching; Ingester (batcher.go) writes events.
type Service struct {
	St      *store.Store
	Scoring *scoring.Service
	// Now is the clock (nil: store.Now); tests set it.
	Now func() time.Time

	mu    sync.Mutex
	cache map[string]cachedSite
}

type cachedSite struct {
	site  store.TrackingSite
	found bool
	at    time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return store.Now()
}

// SiteInput is what an admin sets on a site; nil fields keep their value on update.
type SiteInput struct {
	Name           *string   `json:"name"`
	AllowedOrigins *[]string `json:"allowed_origins"`
	ConsentMode    *string   `json:"consent_mode"`
}

func fieldErr(field, format string, a ...any) error {
	return &store.FieldError{Field: field, Message: fmt.Sprintf(format, a...)}
}

// NormalizeOrigin checks that o is exactly scheme://host[:port] (http or https,
// no path, query, fragment or credentials) and returns it as browsers send it in
// the Origin header: lower case, default port dropped.
func NormalizeOrigin(o string) (string, error) {
	o = strings.TrimSpace(o)
	u, err := url.Parse(o)
	if err != nil || o == "" {
		return "", fmt.Errorf("%q is not an origin (scheme://host[:port])", clip(o, 100))
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("%q must start with http:// or https://", clip(o, 100))
	}
	if u.User != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || strings.HasSuffix(o, "?") || strings.HasSuffix(o, "#") {
		return "", fmt.Errorf("%q must be exactly scheme://host[:port], with no path, query or credentials", clip(o, 100))
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if host == "" || strings.ContainsAny(host, "*%") {
		return "", fmt.Errorf("%q has no valid host (wildcards are not allowed)", clip(o, 100))
	}
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	out := scheme + "://" + host
	if port != "" {
		out += ":" + port
	}
	return out, nil
}

// apply validates in onto s.
func (in SiteInput) apply(s *store.TrackingSite, creating bool) error {
	if in.Name != nil || creating {
		name := ""
		if in.Name != nil {
			name = strings.TrimSpace(*in.Name)
		}
		if name == "" {
			return fieldErr("name", "is required")
		}
		if len([]rune(name)) > maxSiteName {
			return fieldErr("name", "at most %d characters", maxSiteName)
		}
		s.Name = name
	}
	if in.AllowedOrigins != nil || creating {
		var raw []string
		if in.AllowedOrigins != nil {
			raw = *in.AllowedOrigins
		}
		if len(raw) == 0 {
			return fieldErr("allowed_origins", "needs at least one origin, e.g. https://www.example.com")
		}
		if len(raw) > maxOrigins {
			return fieldErr("allowed_origins", "at most %d origins", maxOrigins)
		}
		seen := map[string]bool{}
		out := make([]string, 0, len(raw))
		for i, o := range raw {
			n, err := NormalizeOrigin(o)
			if err != nil {
				return fieldErr(fmt.Sprintf("allowed_origins[%d]", i), "%s", err.Error())
			}
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
		s.AllowedOrigins = out
	}
	if in.ConsentMode != nil || creating {
		mode := ConsentNone
		if in.ConsentMode != nil {
			mode = *in.ConsentMode
		}
		if !model.Contains(ConsentModes, mode) {
			return fieldErr("consent_mode", "must be one of %s", strings.Join(ConsentModes, ", "))
		}
		s.ConsentMode = mode
	}
	return nil
}

// NewKey returns a random public site key: unguessable, unrelated to any id.
func NewKey() string { return newKey() }

func newKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return "rs_" + base64.RawURLEncoding.EncodeToString(b)
}

// Sites lists ws's sites.
func (s *Service) Sites(ctx context.Context, ws int64) ([]store.TrackingSite, error) {
	return s.St.Read().TrackingSites(ctx, ws)
}

// Site returns site id of ws.
func (s *Service) Site(ctx context.Context, ws, id int64) (store.TrackingSite, error) {
	return s.St.Read().GetTrackingSite(ctx, ws, id)
}

// CreateSite validates in and creates a site with a fresh public key.
func (s *Service) CreateSite(ctx context.Context, act model.Actor, in SiteInput) (store.TrackingSite, error) {
	var site store.TrackingSite
	if err := in.apply(&site, true); err != nil {
		return site, err
	}
	site.PublicKey = newKey()
	err := s.St.InTx(ctx, func(q store.Q) error {
		if err := q.CreateTrackingSite(ctx, act.Workspace, &site); err != nil {
			return err
		}
		return crm.Audit(ctx, q, act, "tracking_site_create", "tracking_site", &site.ID, map[string]any{"name": site.Name, "allowed_origins": site.AllowedOrigins, "consent_mode": site.ConsentMode})
	})
	return site, err
}

// UpdateSite changes the given fields of site id.
func (s *Service) UpdateSite(ctx context.Context, act model.Actor, id int64, in SiteInput) (store.TrackingSite, error) {
	var site store.TrackingSite
	err := s.St.InTx(ctx, func(q store.Q) error {
		var err error
		if site, err = q.GetTrackingSite(ctx, act.Workspace, id); err != nil {
			return err
		}
		if err := in.apply(&site, false); err != nil {
			return err
		}
		if err := q.UpdateTrackingSite(ctx, act.Workspace, &site); err != nil {
			return err
		}
		return crm.Audit(ctx, q, act, "tracking_site_update", "tracking_site", &site.ID, map[string]any{"name": site.Name, "allowed_origins": site.AllowedOrigins, "consent_mode": site.ConsentMode})
	})
	if err == nil {
		s.forget(site.PublicKey)
	}
	return site, err
}

// DeleteSite removes site id; its key stops working at once in this process
// (within siteTTL in others).
func (s *Service) DeleteSite(ctx context.Context, act model.Actor, id int64) error {
	var site store.TrackingSite
	err := s.St.InTx(ctx, func(q store.Q) error {
		var err error
		if site, err = q.GetTrackingSite(ctx, act.Workspace, id); err != nil {
			return err
		}
		if err := q.DeleteTrackingSite(ctx, act.Workspace, id); err != nil {
			return err
		}
		return crm.Audit(ctx, q, act, "tracking_site_delete", "tracking_site", &site.ID, map[string]any{"name": site.Name})
	})
	if err == nil {
		s.forget(site.PublicKey)
	}
	return err
}

func (s *Service) forget(key string) {
	s.mu.Lock()
	delete(s.cache, key)
	s.mu.Unlock()
}

// siteByKey resolves a public key through a short-lived cache (unknown keys are
// cached too, so a flood of bad keys does not reach the database).
func (s *Service) siteByKey(ctx context.Context, key string) (store.TrackingSite, bool, error) {
	now := time.Now()
	s.mu.Lock()
	c, ok := s.cache[key]
	s.mu.Unlock()
	if ok && now.Sub(c.at) < siteTTL {
		return c.site, c.found, nil
	}
	site, err := s.St.Read().AdminTrackingSiteByKey(ctx, key)
	found := err == nil
	if err != nil && err != store.ErrNotFound {
		return site, false, err
	}
	s.mu.Lock()
	if s.cache == nil || len(s.cache) >= maxCachedKeys {
		s.cache = map[string]cachedSite{}
	}
	s.cache[key] = cachedSite{site: site, found: found, at: now}
	s.mu.Unlock()
	return site, found, nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
