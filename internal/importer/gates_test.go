package importer_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/importer"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// TestImportedDealsPastGates: a deal imported into a stage whose earlier gates
// it does not meet is imported, flagged needs_review with the unmet gates (the
// same messages crm refuses a move with), and counted in the summary's
// gates_unmet with its id; one that meets them, or is lost, is not.
func TestImportedDealsPastGates(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := setup(t, st)
		csv := "Deal ID,Deal Name,Pipeline,Amount,Deal Stage,Close Date,Outcome\n" +
			"G1,Suspect deal,high_touch,100,suspect,,\n" +
			"G2,Approach with amount,high_touch,100,approach,,\n" +
			"G3,Negotiation no demo,high_touch,100,negotiation,12/31/2026,\n" +
			"G4,Order without sign-offs,high_touch,100,order,12/31/2026,\n" +
			"G5,Lost at close,high_touch,100,close,,lost\n"
		im := f.run(t, "deals", csv, importer.Options{})
		if im.Rows != 5 || im.Accepted != 5 {
			t.Fatalf("import %+v", im)
		}
		var sum importer.Summary
		if err := json.Unmarshal(im.Summary, &sum); err != nil {
			t.Fatal(err)
		}
		p, err := st.Read().ListDeals(ctx, f.ws, store.ListParams{Sort: "id"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		byExt := map[string]model.Deal{}
		var flagged []int64
		for _, d := range p.Items {
			byExt[d.ExternalID] = d
			if d.NeedsReview {
				flagged = append(flagged, d.ID)
			}
		}
		if sum.GatesUnmet != 2 || !slices.Equal(sum.GatesUnmetDeals, flagged) || len(flagged) != 2 {
			t.Fatalf("summary gates_unmet %d %v; flagged %v", sum.GatesUnmet, sum.GatesUnmetDeals, flagged)
		}
		if d := byExt["G3"]; !d.NeedsReview || d.ReviewReason != "gates_unmet: a demo activity is required to leave Approach" {
			t.Errorf("G3: %+v", d)
		}
		g4 := byExt["G4"].ReviewReason
		for _, want := range []string{"a demo activity is required to leave Approach", "a contract discussion activity is required to leave Negotiation", "0 of 6 required committee sign-offs approved to leave Close", "an approved legal sign-off is required to leave Close"} {
			if !strings.Contains(g4, want) {
				t.Errorf("G4 reason lacks %q: %s", want, g4)
			}
		}
		for _, ext := range []string{"G1", "G2", "G5"} {
			if byExt[ext].NeedsReview {
				t.Errorf("%s flagged: %+v", ext, byExt[ext])
			}
		}
	})
}
