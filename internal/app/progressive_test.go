package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// Progressive profiling through the real tracking layer: once a visitor's
// form submission stitched them to a contact, the embed asks that visitor the
// next progressive fields the contact has not answered.
func TestProgressiveProfilingThroughTracking(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			e := apptest.New(t, kind)
			f, err := e.App.Forms.CreateForm(context.Background(), model.Actor{Workspace: e.A.ID, Label: "test"}, model.Form{Name: "Guide", Kind: "signup",
				Progressive: []model.FormField{{Field: "first_name"}, {Field: "title"}, {Field: "phone"}, {Field: "last_name"}}})
			if err != nil {
				t.Fatal(err)
			}
			fields := func(vid string) string {
				res, err := http.Get(e.URL + "/f/" + f.Key + "/fields?vid=" + vid)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				var v struct{ Fields []model.FormField }
				if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, ff := range v.Fields {
					names = append(names, ff.Field)
				}
				return strings.Join(names, ",")
			}
			if got := fields("visitor-prog-1"); got != "email" {
				t.Fatalf("unknown visitor: %s", got)
			}
			res, err := http.Post(e.URL+"/f/"+f.Key, "application/json", strings.NewReader(`{"email":"pat@shop.example","first_name":"Pat","_vid":"visitor-prog-1"}`))
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("submit: %d", res.StatusCode)
			}
			if got := fields("visitor-prog-1"); got != "email,title,phone" {
				t.Fatalf("returning visitor: %s, want email,title,phone (first_name is answered)", got)
			}
			if got := fields("visitor-other-1"); got != "email" {
				t.Fatalf("another visitor: %s", got)
			}
			// A visitor id the script could not have set is not stitched, and
			// the buyer is still accepted.
			res, err = http.Post(e.URL+"/f/"+f.Key, "application/json", strings.NewReader(`{"email":"odd@shop.example","_vid":"x"}`))
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("odd visitor id refused the buyer: %d", res.StatusCode)
			}
		})
	}
}
