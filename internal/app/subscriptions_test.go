package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
	"github.com/rightsize/rightsize/internal/subscriptions"
)

func decode[T any](t *testing.T, code int, body []byte, want int) T {
	t.Helper()
	var v T
	if code != want {
		t.Fatalf("status %d, want %d: %s", code, want, body)
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return v
}

type idOnly struct {
	ID int64 `json:"id"`
}

type customer struct {
	MRR       int64  `json:"mrr"`
	Status    string `json:"status"`
	Movements []struct {
		Kind   string `json:"kind"`
		Amount int64  `json:"amount"`
		Date   string `json:"date"`
	} `json:"movements"`
	Subscriptions []struct {
		ID     int64 `json:"id"`
		DealID int64 `json:"deal_id"`
	} `json:"subscriptions"`
}

// TestWonDealOpensSubscription: a deal won through the API makes its account a
// customer in the same write (the wiring of crm's Won hooks), and merging
// another customer into it carries that one's subscription and MRR over.
func TestWonDealOpensSubscription(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			e := apptest.New(t, kind)
			key := e.A.Keys["ae"]
			code, body := e.Do(t, key, "POST", "/api/v1/accounts", `{"name":"Won Co"}`)
			acct := decode[idOnly](t, code, body, 201)
			code, body = e.Do(t, key, "POST", "/api/v1/deals", fmt.Sprintf(`{"name":"Won Co — Growth","pipeline":"digital","account_id":%d,"amount":600000}`, acct.ID))
			deal := decode[idOnly](t, code, body, 201)
			closed := time.Now().UTC().AddDate(0, 0, -3).Format(time.DateOnly)
			code, body = e.Do(t, key, "PATCH", fmt.Sprintf("/api/v1/deals/%d", deal.ID), fmt.Sprintf(`{"stage":"won","outcome":"won","closed_at":%q}`, closed))
			decode[idOnly](t, code, body, 200)
			code, body = e.Do(t, key, "GET", fmt.Sprintf("/api/v1/customers/%d", acct.ID), "")
			c := decode[customer](t, code, body, 200)
			// 6,000.00 ACV → 500.00 a month, new on the close date.
			if c.MRR != 50000 || c.Status != "active" || len(c.Movements) != 1 || c.Movements[0].Kind != "new" || c.Movements[0].Date != closed ||
				len(c.Subscriptions) != 1 || c.Subscriptions[0].DealID != deal.ID {
				t.Fatalf("customer after the win: %s", body)
			}

			// Another customer (1,200.00 a year → 100.00 a month) merged into it.
			code, body = e.Do(t, key, "POST", "/api/v1/accounts", `{"name":"Won Co (dup)"}`)
			dup := decode[idOnly](t, code, body, 201)
			start := time.Now().UTC().AddDate(0, -2, 0).Format(time.DateOnly)
			code, body = e.Do(t, key, "POST", "/api/v1/subscriptions", fmt.Sprintf(`{"account_id":%d,"unit_price":120000,"interval":"year","start_date":%q}`, dup.ID, start))
			decode[idOnly](t, code, body, 201)
			code, body = e.Do(t, e.A.Keys["admin"], "POST", fmt.Sprintf("/api/v1/accounts/%d/merge", acct.ID), fmt.Sprintf(`{"merge_id":%d}`, dup.ID))
			decode[idOnly](t, code, body, 200)
			code, body = e.Do(t, key, "GET", fmt.Sprintf("/api/v1/customers/%d", acct.ID), "")
			c = decode[customer](t, code, body, 200)
			// Its history is now one customer's: new when the dup started, an
			// expansion when the deal's subscription joined.
			if c.MRR != 60000 || len(c.Subscriptions) != 2 || len(c.Movements) != 2 ||
				c.Movements[0].Kind != "new" || c.Movements[0].Amount != 10000 || c.Movements[0].Date != start ||
				c.Movements[1].Kind != "expansion" || c.Movements[1].Amount != 50000 {
				t.Fatalf("after the merge: %s", body)
			}
			if code, _ := e.Do(t, key, "GET", fmt.Sprintf("/api/v1/customers/%d", dup.ID), ""); code != 404 {
				t.Fatalf("merged-away customer: %d", code)
			}
		})
	}
}

// TestRenewalJobs runs the renewal work through River: the sweep enqueues one
// job per workspace with subscriptions, the job opens the renewal, and the
// job is unique per workspace while queued.
func TestRenewalJobs(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			e := apptest.New(t, kind)
			ctx := context.Background()
			key := e.A.Keys["csm"]
			code, body := e.Do(t, key, "POST", "/api/v1/accounts", `{"name":"Renews soon"}`)
			acct := decode[idOnly](t, code, body, 201)
			start := time.Now().UTC().AddDate(-1, 1, 0).Format(time.DateOnly) // renews in about a month
			code, body = e.Do(t, key, "POST", "/api/v1/subscriptions", fmt.Sprintf(`{"account_id":%d,"unit_price":360000,"interval":"year","start_date":%q}`, acct.ID, start))
			decode[idOnly](t, code, body, 201)

			// The unique key: a second insert for the workspace while the
			// first is queued is skipped.
			err := e.App.St.InTx(ctx, func(q store.Q) error {
				first, err := e.App.River.InsertTx(ctx, q.Tx(), subscriptions.RenewalsArgs{WorkspaceID: e.A.ID}, nil)
				if err != nil {
					return err
				}
				second, err := e.App.River.InsertTx(ctx, q.Tx(), subscriptions.RenewalsArgs{WorkspaceID: e.A.ID}, nil)
				if err != nil {
					return err
				}
				if first.UniqueSkippedAsDuplicate || !second.UniqueSkippedAsDuplicate || second.Job.ID != first.Job.ID {
					return fmt.Errorf("unique key: first skipped=%v, second skipped=%v", first.UniqueSkippedAsDuplicate, second.UniqueSkippedAsDuplicate)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			e.WaitUntil(t, "subscriptions_renewals", func() bool {
				_, body := e.Do(t, key, "GET", fmt.Sprintf("/api/v1/renewals?account_id=%d&status=open", acct.ID), "")
				var r struct{ Items []any }
				return json.Unmarshal(body, &r) == nil && len(r.Items) == 1
			})

			// The sweep enqueues workspace jobs; with the renewal already open,
			// they find nothing new to open.
			done := e.JobsDone("subscriptions_renewals")
			for {
				swept := e.JobsDone("subscriptions_renewals_sweep")
				res, err := e.App.River.Insert(ctx, subscriptions.SweepArgs{}, nil)
				if err != nil {
					t.Fatal(err)
				}
				e.WaitJobs(t, "subscriptions_renewals_sweep", swept+1)
				if !res.UniqueSkippedAsDuplicate {
					break // ours ran (not the start-up sweep still in flight)
				}
			}
			e.WaitJobs(t, "subscriptions_renewals", done+1)
			_, body = e.Do(t, key, "GET", fmt.Sprintf("/api/v1/renewals?account_id=%d", acct.ID), "")
			var all struct{ Items []any }
			if err := json.Unmarshal(body, &all); err != nil || len(all.Items) != 1 {
				t.Fatalf("renewals after the sweep: %s", body)
			}
		})
	}
}
