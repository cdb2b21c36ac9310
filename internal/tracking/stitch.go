package tracking

import (
	"context"
	"net/url"
	"strings"

	"github.com/rightsize/rightsize/internal/scoring"
	"github.com/rightsize/rightsize/internal/store"
)

// StitchResult says what a Stitch did.
type StitchResult struct {
	// Attached is how many anonymous events joined the contact (0 on a repeat).
	Attached int `json:"attached"`
	// Scored is how many of them lead scoring counted.
	Scored int `json:"scored"`
}

// Stitch links visitorID to contactID in the caller's transaction q (a form
// submit, a tracked email click): the visitor's earlier anonymous events join the
// contact and are fed to lead scoring, and later events go to the contact as they
// arrive. Events already attached are not attached or scored again, so a second
// Stitch of the same pair changes nothing. A contact of another workspace answers
// store.ErrNotFound.
func (s *Service) Stitch(ctx context.Context, q store.Q, ws int64, visitorID string, contactID int64) (StitchResult, error) {
	if !visitorRE.MatchString(visitorID) {
		return StitchResult{}, fieldErr("visitor", "must be 8–64 characters of A–Z, a–z, 0–9, _ and -")
	}
	if _, err := q.GetContact(ctx, ws, contactID); err != nil {
		return StitchResult{}, err
	}
	if err := q.LockVisitors(ctx, ws, []string{visitorID}, true); err != nil {
		return StitchResult{}, err
	}
	if err := q.LinkVisitor(ctx, ws, visitorID, contactID, s.now()); err != nil {
		return StitchResult{}, err
	}
	evs, err := q.AttachVisitorEvents(ctx, ws, visitorID, contactID)
	if err != nil {
		return StitchResult{}, err
	}
	for i := range evs {
		evs[i].ContactID = &contactID
	}
	n, err := s.scoreCount(ctx, q, ws, evs)
	return StitchResult{Attached: len(evs), Scored: n}, err
}

func (s *Service) score(ctx context.Context, q store.Q, ws int64, evs []store.WebEvent) error {
	_, err := s.scoreCount(ctx, q, ws, evs)
	return err
}

// scoreCount feeds events that belong to a contact to lead scoring: a page view
// of a /pricing page is pricing_page_view, any other page view page_view, a
// content view content_view when the workspace weighs that kind and
// content_download otherwise, and a custom event counts when its name is an event
// kind of the workspace's scoring configuration. Others are kept but not scored.
func (s *Service) scoreCount(ctx context.Context, q store.Q, ws int64, evs []store.WebEvent) (int, error) {
	if s.Scoring == nil || len(evs) == 0 {
		return 0, nil
	}
	cfg, err := scoring.LoadConfig(ctx, q, ws)
	if err != nil {
		return 0, err
	}
	out := make([]scoring.Event, 0, len(evs))
	for i := range evs {
		e := &evs[i]
		if e.ContactID == nil {
			continue
		}
		kind := ScoringKind(e.Kind, e.Name, e.URL, cfg.EventWeights)
		if kind == "" {
			continue
		}
		title := e.Title
		if title == "" && e.Kind == KindContentView {
			title = "content " + e.Name
		}
		out = append(out, scoring.Event{ContactID: *e.ContactID, Kind: kind, OccurredAt: e.OccurredAt, URL: e.URL, Title: title})
	}
	if len(out) == 0 {
		return 0, nil
	}
	res, err := s.Scoring.IngestTx(ctx, q, ws, out)
	return res.Applied, err
}

// ScoringKind maps a web event to the scoring kind it counts as ("" when it does
// not count); weights are the workspace's event weights.
func ScoringKind(kind, name, rawURL string, weights map[string]float64) string {
	k := ""
	switch kind {
	case KindPageView:
		k = "page_view"
		if isPricing(rawURL) {
			k = "pricing_page_view"
		}
	case KindContentView:
		k = "content_download"
		if _, ok := weights["content_view"]; ok {
			k = "content_view"
		}
	case KindCustom:
		k = name
	}
	if _, ok := weights[k]; !ok {
		return ""
	}
	return k
}

// isPricing: the page's path is /pricing or under it (any locale prefix of one
// segment too, e.g. /de/pricing).
func isPricing(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	p := strings.ToLower(strings.TrimSuffix(u.Path, "/"))
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	return (len(segs) >= 1 && segs[0] == "pricing") || (len(segs) >= 2 && len(segs[0]) <= 5 && segs[1] == "pricing")
}
