package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

const boardDeals = 10_000

// BenchmarkBoard renders /pipeline?motion=high_touch for a pipeline with
// 10,000 open deals (half with an activity, every one with a recorded stage
// stay), through the loopback HTTP client (so the figure is server time plus a
// local round trip: an upper bound). Run with
//
//	go test ./internal/web -run '^$' -bench Board -benchtime 20x
func BenchmarkBoard(b *testing.B) {
	for _, kind := range storetest.Kinds(b) {
		b.Run(string(kind), func(b *testing.B) {
			e := apptest.New(b, kind)
			ctx := context.Background()
			ws := e.A.ID
			owner := e.A.Users[model.RoleAE].ID
			stages := []string{"suspect", "prospect", "approach", "negotiation", "close", "order"}
			err := e.App.St.InTx(ctx, func(q store.Q) error {
				acct := model.Account{Name: "Bench account", Currency: "USD", Custom: model.Custom{}}
				if err := q.CreateAccount(ctx, ws, &acct); err != nil {
					return err
				}
				start := store.Now().Add(-60 * 24 * time.Hour)
				for i := range boardDeals {
					d := model.Deal{Name: fmt.Sprintf("Deal %05d", i), AccountID: &acct.ID, OwnerID: &owner, Amount: int64(1000 + i), Currency: "USD",
						Pipeline: "high_touch", Stage: stages[i%len(stages)], Custom: model.Custom{}, CreatedAt: start}
					if err := q.CreateDeal(ctx, ws, &d); err != nil {
						return err
					}
					if err := q.EnterStage(ctx, ws, d.ID, d.Pipeline, d.Stage, "bench", "", start.Add(time.Duration(i)*time.Minute)); err != nil {
						return err
					}
					if i%2 == 0 {
						a := model.Activity{Kind: "call", Subject: "c", OccurredAt: start.Add(time.Duration(i) * time.Minute), DealID: &d.ID, Participants: []string{}, Custom: model.Custom{}}
						if err := q.CreateActivity(ctx, ws, &a); err != nil {
							return err
						}
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			c := e.Browser(b, e.A.Users[model.RoleAE].Email)
			b.ResetTimer()
			for range b.N {
				res, err := c.Get(e.URL + "/pipeline?motion=high_touch")
				if err != nil {
					b.Fatal(err)
				}
				body, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil || res.StatusCode != http.StatusOK || !strings.Contains(string(body), "Deal 09999") {
					b.Fatalf("status %d %v", res.StatusCode, err)
				}
			}
		})
	}
}
