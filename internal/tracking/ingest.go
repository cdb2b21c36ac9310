package tracking

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/store"
)

// Event kinds the script sends.
const (
	KindPageView    = "page_view"
	KindContentView = "content_view"
	KindCustom      = "custom"
)

// Limits on one ingest request. They keep a row narrow and a batch's memory small;
// url and title fit what scoring keeps of an event.
const (
	MaxEvents    = 50
	MaxBodyBytes = 512 << 10
	maxURL       = 2000
	maxTitle     = 500
	maxReferrer  = 2000
	maxName      = 128
	maxProps     = 4096
	// An event may be stamped up to futureSkew ahead of the server clock (client
	// clocks drift) and up to maxAge behind (a beacon queued while offline).
	futureSkew = 5 * time.Minute
	maxAge     = 7 * 24 * time.Hour
)

var (
	siteKeyRE   = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)
	visitorRE   = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)
	customRE    = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)
	errNotObjct = errors.New("request body must be a JSON object")
)

// Body is a parsed ingest request: the site key, the visitor and the events that
// passed validation; Errors name each rejected event (events[i].field), so
// len(Events)+len(Errors) is what the client sent.
type Body struct {
	Site    string
	Visitor string
	Consent bool
	// Identify is the signed token a tracked email click put on the landing
	// page's URL ("" when none): it names the contact this visitor is.
	Identify string
	Events   []store.WebEvent
	Errors   []EventError
}

// EventError is why one event was rejected.
type EventError struct {
	Index   int    `json:"index"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

type wireEvent struct {
	Kind     string          `json:"kind"`
	Name     string          `json:"name"`
	Asset    string          `json:"asset"`
	URL      string          `json:"url"`
	Title    string          `json:"title"`
	Referrer string          `json:"referrer"`
	Props    json.RawMessage `json:"props"`
	TS       *int64          `json:"ts"` // Unix milliseconds
}

type wireBody struct {
	Site     *string     `json:"site"`
	Visitor  *string     `json:"visitor"`
	Consent  bool        `json:"consent"`
	Identify string      `json:"identify"`
	Events   []wireEvent `json:"events"`
}

type wireBodyRaw struct {
	Site     *string           `json:"site"`
	Visitor  *string           `json:"visitor"`
	Consent  bool              `json:"consent"`
	Identify string            `json:"identify"`
	Events   []json.RawMessage `json:"events"`
}

// ValidVisitor reports whether id has the shape of a visitor id the script
// sets (8–64 characters of A–Z, a–z, 0–9, _ and -).
func ValidVisitor(id string) bool { return visitorRE.MatchString(id) }

// Parse reads an ingest body. A request-level problem (not JSON, no site, a bad
// visitor, no or too many events) is a *store.FieldError and nothing is
// accepted; a bad event is reported in Body.Errors and the others are kept. now
// stamps received_at and bounds the event times.
func Parse(raw []byte, now time.Time) (*Body, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, fieldErr("body", "%s", errNotObjct.Error())
	}
	var w wireBody
	var perEvent []json.RawMessage
	if err := strictDecode(raw, &w); err != nil {
		// Slow path, only for bad input: decode the events one by one so the
		// error names the event it is in.
		var wr wireBodyRaw
		if err2 := strictDecode(raw, &wr); err2 != nil {
			return nil, jsonFieldErr(err2, "")
		}
		w = wireBody{Site: wr.Site, Visitor: wr.Visitor, Consent: wr.Consent, Identify: wr.Identify}
		perEvent = wr.Events
		if perEvent == nil {
			perEvent = []json.RawMessage{}
		}
	}
	if len(w.Identify) > 200 {
		return nil, fieldErr("identify", "is longer than 200 characters")
	}
	b := &Body{Consent: w.Consent, Identify: w.Identify}
	if w.Site == nil || *w.Site == "" {
		return nil, fieldErr("site", "is required: the data-site key of the snippet")
	}
	if !siteKeyRE.MatchString(*w.Site) {
		return nil, fieldErr("site", "is not a site key")
	}
	b.Site = *w.Site
	if w.Visitor == nil || !visitorRE.MatchString(*w.Visitor) {
		return nil, fieldErr("visitor", "must be 8–64 characters of A–Z, a–z, 0–9, _ and -")
	}
	b.Visitor = *w.Visitor
	n := len(w.Events)
	if perEvent != nil {
		n = len(perEvent)
	}
	if n == 0 {
		return nil, fieldErr("events", "needs at least one event")
	}
	if n > MaxEvents {
		return nil, fieldErr("events", "at most %d events per request, got %d", MaxEvents, n)
	}
	b.Events = make([]store.WebEvent, 0, n)
	for i := 0; i < n; i++ {
		var we wireEvent
		if perEvent != nil {
			if err := strictDecode(perEvent[i], &we); err != nil {
				fe := jsonFieldErr(err, "")
				var sfe *store.FieldError
				if errors.As(fe, &sfe) {
					field := sfe.Field
					if field == "body" {
						field = "" // the event itself: "events[i].event"
					}
					b.reject(i, field, sfe.Message)
				}
				continue
			}
		} else {
			we = w.Events[i]
		}
		ev, field, msg := validEvent(&we, now)
		if field != "" {
			b.reject(i, field, msg)
			continue
		}
		ev.VisitorID = b.Visitor
		b.Events = append(b.Events, ev)
	}
	return b, nil
}

func (b *Body) reject(i int, field, msg string) {
	if field == "" {
		field = "event"
	}
	b.Errors = append(b.Errors, EventError{Index: i, Field: fmt.Sprintf("events[%d].%s", i, field), Message: msg})
}

func strictDecode(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("json: data after the object")
	}
	return nil
}

// jsonFieldErr turns a decoding error into a FieldError naming the field.
func jsonFieldErr(err error, prefix string) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		if i := strings.Index(field, "."); i >= 0 && strings.HasPrefix(field, "events.") {
			field = field[i+1:]
		}
		return fieldErr(prefix+field, "must be %s", te.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if name == "" {
			return fieldErr(prefix+"body", `unknown field ""`)
		}
		return fieldErr(prefix+name, "unknown field")
	case errors.As(err, &se):
		return fieldErr(prefix+"body", "malformed JSON at byte %d: %s", se.Offset, se.Error())
	}
	return fieldErr(prefix+"body", "malformed JSON: %s", err.Error())
}

// validEvent checks one event; field is "" when it is fine.
func validEvent(we *wireEvent, now time.Time) (ev store.WebEvent, field, msg string) {
	ev.Kind, ev.URL, ev.Title, ev.Referrer, ev.ReceivedAt = we.Kind, we.URL, we.Title, we.Referrer, now
	switch we.Kind {
	case "":
		return ev, "kind", "is required"
	case KindPageView:
		if we.URL == "" {
			return ev, "url", "is required for a page_view"
		}
		if we.Name != "" || we.Asset != "" {
			return ev, "name", "only custom events have a name and only content views an asset"
		}
	case KindContentView:
		if we.Asset == "" {
			return ev, "asset", "is required for a content_view"
		}
		if len(we.Asset) > maxName || hasNUL(we.Asset) {
			return ev, "asset", fmt.Sprintf("at most %d characters, no NUL", maxName)
		}
		ev.Name = we.Asset
	case KindCustom:
		if !customRE.MatchString(we.Name) {
			return ev, "name", "is required for a custom event: 1–64 characters of A–Z, a–z, 0–9, _ . : -"
		}
		ev.Name = we.Name
	default:
		return ev, "kind", fmt.Sprintf("%q is not one of page_view, content_view, custom", clip(we.Kind, 32))
	}
	if len(we.URL) > maxURL {
		return ev, "url", fmt.Sprintf("at most %d characters", maxURL)
	}
	if we.URL != "" && !httpURL(we.URL) {
		return ev, "url", "must be an absolute http(s) URL"
	}
	if len(we.Title) > maxTitle || hasNUL(we.Title) {
		return ev, "title", fmt.Sprintf("at most %d characters, no NUL", maxTitle)
	}
	if len(we.Referrer) > maxReferrer || hasNUL(we.Referrer) {
		return ev, "referrer", fmt.Sprintf("at most %d characters, no NUL", maxReferrer)
	}
	if p := bytes.TrimSpace(we.Props); len(p) > 0 && !bytes.Equal(p, []byte("null")) {
		if p[0] != '{' {
			return ev, "props", "must be an object"
		}
		if len(p) > maxProps {
			return ev, "props", fmt.Sprintf("at most %d bytes of JSON", maxProps)
		}
		var c bytes.Buffer
		if err := json.Compact(&c, p); err != nil {
			return ev, "props", "must be valid JSON"
		}
		ev.Props = c.String()
	}
	if we.TS == nil {
		ev.OccurredAt = now
	} else {
		ms := *we.TS
		if ms < now.Add(-maxAge).UnixMilli() {
			return ev, "ts", "is more than 7 days in the past"
		}
		if ms > now.Add(futureSkew).UnixMilli() {
			return ev, "ts", "is in the future"
		}
		ev.OccurredAt = time.UnixMilli(ms).UTC()
	}
	return ev, "", ""
}

func hasNUL(s string) bool { return strings.IndexByte(s, 0) >= 0 }

func httpURL(s string) bool {
	if hasNUL(s) {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
