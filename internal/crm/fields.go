package crm

import (
	"fmt"
	"math"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Values are decoded JSON (string, float64, bool, nil) or form strings; setters accept
// both so the API and the UI share one set of rules.

func fe(field, format string, a ...any) error {
	return &store.FieldError{Field: field, Message: fmt.Sprintf(format, a...)}
}

func asString(field string, v any, max int) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		x = strings.TrimSpace(x)
		if why := store.BadText(x); why != "" {
			// The HTTP layer refuses such text already; callers that are
			// not HTTP (the UI's forms, jobs, tests) get the same answer.
			return "", fe(field, "%s", why)
		}
		if len(x) > max {
			return "", fe(field, "longer than %d characters", max)
		}
		return x, nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", fe(field, "must be a string")
}

func asInt(field string, v any) (*int64, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return nil, fe(field, "must be a whole number")
		}
		n := int64(x)
		return &n, nil
	case string:
		x = strings.TrimSpace(strings.ReplaceAll(x, ",", ""))
		if x == "" {
			return nil, nil
		}
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return nil, fe(field, "%q is not a whole number", x)
		}
		return &n, nil
	}
	return nil, fe(field, "must be a whole number")
}

func asBool(field string, v any) (bool, error) {
	switch x := v.(type) {
	case nil:
		return false, nil
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "yes", "1", "on":
			return true, nil
		case "false", "no", "0", "off", "":
			return false, nil
		}
	}
	return false, fe(field, "must be true or false")
}

func asNonNegInt(field string, v any) (*int64, error) {
	n, err := asInt(field, v)
	if err == nil && n != nil && *n < 0 {
		return nil, fe(field, "must not be negative")
	}
	return n, err
}

func asEnum(field string, v any, allowed []string, allowEmpty bool) (string, error) {
	s, err := asString(field, v, 64)
	if err != nil {
		return "", err
	}
	s = strings.ToLower(s)
	if s == "" && allowEmpty {
		return "", nil
	}
	if !model.Contains(allowed, s) {
		return "", fe(field, "%q is not one of %s", s, strings.Join(allowed, ", "))
	}
	return s, nil
}

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

func asCurrency(field string, v any) (string, error) {
	s, err := asString(field, v, 3)
	if err != nil {
		return "", err
	}
	s = strings.ToUpper(s)
	if !currencyRE.MatchString(s) {
		return "", fe(field, "must be a 3-letter ISO 4217 code such as USD")
	}
	return s, nil
}

func asTime(field string, v any) (*time.Time, error) {
	s, err := asString(field, v, 64)
	if err != nil || s == "" {
		return nil, err
	}
	for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(l, s); err == nil {
			t = t.UTC().Truncate(time.Microsecond)
			return &t, nil
		}
	}
	return nil, fe(field, "%q is not a date or time (RFC 3339 or YYYY-MM-DD)", s)
}

func asDate(field string, v any) (string, error) {
	s, err := asString(field, v, 10)
	if err != nil || s == "" {
		return "", err
	}
	if _, err := time.Parse("2006-01-02", s); err != nil {
		return "", fe(field, "%q is not a date (YYYY-MM-DD)", s)
	}
	return s, nil
}

func asID(field string, v any) (*int64, error) {
	n, err := asInt(field, v)
	if err == nil && n != nil && *n <= 0 {
		return nil, fe(field, "must be a positive id")
	}
	return n, err
}

// NormalizeEmail lower-cases and validates an address; display names are refused.
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", fmt.Errorf("is required")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", fmt.Errorf("%q is not a valid email address", s)
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || !strings.Contains(s[at+1:], ".") {
		return "", fmt.Errorf("%q is not a valid email address", s)
	}
	return s, nil
}

var domainRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)

// NormalizeDomain turns "https://www.Acme.com/x" or "bob@acme.com" into "acme.com".
func NormalizeDomain(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", nil
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "/?#:"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimPrefix(strings.TrimSuffix(s, "."), "www.")
	if !domainRE.MatchString(s) {
		return "", fmt.Errorf("%q is not a domain name", s)
	}
	return s, nil
}

// applyCustom validates custom field values against their definitions.
func applyCustom(dst model.Custom, v any, defs []model.CustomField) error {
	m, ok := v.(map[string]any)
	if !ok {
		if v == nil {
			return nil
		}
		return fe("custom", "must be an object")
	}
	byKey := map[string]model.CustomField{}
	for _, d := range defs {
		byKey[d.Key] = d
	}
	for k, val := range m {
		field := "custom." + k
		d, ok := byKey[k]
		if !ok {
			return fe(field, "no such custom field")
		}
		if val == nil || val == "" {
			delete(dst, k)
			continue
		}
		switch d.Type {
		case "text":
			s, err := asString(field, val, 2000)
			if err != nil {
				return err
			}
			dst[k] = s
		case "number":
			switch x := val.(type) {
			case float64:
				dst[k] = x
			case string:
				f, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(x), ",", ""), 64)
				if err != nil {
					return fe(field, "%q is not a number", x)
				}
				dst[k] = f
			default:
				return fe(field, "must be a number")
			}
		case "date":
			s, err := asDate(field, val)
			if err != nil {
				return err
			}
			dst[k] = s
		case "bool":
			switch x := val.(type) {
			case bool:
				dst[k] = x
			case string:
				switch strings.ToLower(x) {
				case "true", "yes", "1", "on":
					dst[k] = true
				case "false", "no", "0", "off":
					dst[k] = false
				default:
					return fe(field, "%q is not true or false", x)
				}
			default:
				return fe(field, "must be true or false")
			}
		case "enum":
			s, err := asString(field, val, 200)
			if err != nil {
				return err
			}
			if !model.Contains(d.Options, s) {
				return fe(field, "%q is not one of %s", s, strings.Join(d.Options, ", "))
			}
			dst[k] = s
		}
	}
	return nil
}
