package httpx

import (
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/rightsize/rightsize/internal/store"
)

// BadText is store.BadText: why s cannot be stored as text.
func BadText(s string) string { return store.BadText(s) }

// printable turns a parameter name that is not text into one a message can
// carry.
func printable(s string) string {
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", "\uFFFD"), "\uFFFD")
}

// CheckQuery refuses a query string (or form) whose parameter names or values
// are not text (store.BadText), naming the first such parameter.
func CheckQuery(v url.Values) error {
	for _, k := range slices.Sorted(maps.Keys(v)) {
		if why := BadText(k); why != "" {
			return &store.FieldError{Field: printable(k), Message: "parameter name " + why}
		}
		for _, s := range v[k] {
			if why := BadText(s); why != "" {
				return &store.FieldError{Field: k, Message: why}
			}
		}
	}
	return nil
}

// checkStrings refuses a decoded JSON body holding a string (or object key)
// that is not text, naming it by its JSON path. JSON "\u0000" decodes to a
// NUL byte, which PostgreSQL would refuse mid-write.
func checkStrings(path string, v reflect.Value) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkStrings(path, v.Elem())
	case reflect.String:
		if why := BadText(v.String()); why != "" {
			return &store.FieldError{Field: fieldPath(path), Message: why}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // bytes, not text
		}
		for i := range v.Len() {
			if err := checkStrings(path+"["+strconv.Itoa(i)+"]", v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			name := k.String()
			if k.Kind() == reflect.String {
				if why := BadText(name); why != "" {
					return &store.FieldError{Field: fieldPath(path + "." + printable(name)), Message: "key " + why}
				}
			}
			if err := checkStrings(path+"."+name, v.MapIndex(k)); err != nil {
				return err
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			sf := t.Field(i)
			if !sf.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			p := path + "." + name
			if sf.Anonymous {
				p = path
			}
			if err := checkStrings(p, v.Field(i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func fieldPath(p string) string {
	if p = strings.TrimPrefix(p, "."); p == "" {
		return "body"
	}
	return p
}
