package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// postCSV sends a CSV body to path with an API key.
func postCSV(t *testing.T, e *apptest.Env, key, path, csv string) (int, []byte, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.URL+path, strings.NewReader(csv))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "text/csv")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b, res.Header
}

// TestEconomicsFromImportedData: the economics come from imported records
// alone — accounts, a contact with its lead source, subscriptions and a spend
// ledger, all as CSV files through the import API — with no demo-only path;
// the spend import queues a guardrail evaluation in its transaction, and the
// job raises the alert for the red cell.
//
// The book, from month M (four months ago): Y (SMB, 300.00 a month from the
// 10th of M−1, cancelled on the 10th of M+1), X (SMB, 100.00 from the 15th of
// M, its contact came from paid search), Z (enterprise, 2,000.00 from the 1st
// of M+1); spend 1,200.00 on SMB digital in M and 2,000.00 on enterprise high
// touch in M+1.
func TestEconomicsFromImportedData(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			e := apptest.New(t, kind)
			key := e.A.Keys["admin"]
			m0 := time.Now().UTC().AddDate(0, -4, 0)
			m0 = time.Date(m0.Year(), m0.Month(), 1, 0, 0, 0, 0, time.UTC)
			day := func(months, d int) string { return m0.AddDate(0, months, d-1).Format(time.DateOnly) }
			month := func(months int) string { return m0.AddDate(0, months, 0).Format("2006-01") }
			imp := func(object, csv string) {
				t.Helper()
				code, body, h := postCSV(t, e, key, "/api/v1/imports?object="+object+"&filename="+object+".csv", csv)
				if code != http.StatusAccepted {
					t.Fatalf("%s import: %d %s", object, code, body)
				}
				loc := h.Get("Location")
				id, _ := strconv.ParseInt(loc[strings.LastIndexByte(loc, '/')+1:], 10, 64)
				e.WaitImport(t, id)
				code, body = e.Do(t, key, "GET", loc, "")
				if code != 200 || !strings.Contains(string(body), `"rejected":0`) || !strings.Contains(string(body), `"status":"done"`) {
					t.Fatalf("%s import: %s", object, body)
				}
			}
			// An endpoint for guardrail.red only: the alert must leave signed.
			e.App.Webhooks.HTTP.AllowForTests = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
			sink := &eventSink{}
			srv := httptest.NewServer(http.HandlerFunc(sink.handler))
			defer srv.Close()
			code, body := e.Do(t, key, "POST", "/api/v1/webhooks", fmt.Sprintf(`{"url":%q,"event_types":["guardrail.red"]}`, srv.URL+"/econ"))
			if code != http.StatusCreated {
				t.Fatalf("webhook endpoint: %d %s", code, body)
			}
			var ep struct{ Secret string }
			if err := json.Unmarshal(body, &ep); err != nil || ep.Secret == "" {
				t.Fatalf("webhook endpoint secret: %v %s", err, body)
			}
			sink.mu.Lock()
			sink.secret = ep.Secret
			sink.mu.Unlock()
			imp("accounts", "Company ID,Company,Website,Number of employees\nA-X,X Bakery,x.example,12\nA-Y,Y Dental,y.example,8\nA-Z,Z Group,z.example,5000\n")
			imp("contacts", "Email,Lead source,Company domain\nowner@x.example,Paid Search,x.example\n")
			imp("subscriptions", fmt.Sprintf("Subscription ID,Account ID,Plan,Price,Interval,Start Date,End Date\nS-Y,A-Y,Basic,300.00,monthly,%s,%s\nS-X,A-X,Basic,100.00,monthly,%s,\nS-Z,A-Z,Enterprise,2000.00,monthly,%s,\n",
				day(-1, 10), day(1, 10), day(0, 15), day(1, 1)))
			code, body, _ = postCSV(t, e, key, "/api/v1/spend/import?filename=ledger.csv", fmt.Sprintf("month,amount,category,channel,segment,motion\n%s,1200.00,programs,paid_search,smb,digital\n%s,2000.00,programs,events,enterprise,high_touch\n", month(0), month(1)))
			if code != 200 || !strings.Contains(string(body), `"accepted":2`) {
				t.Fatalf("spend import: %d %s", code, body)
			}

			code, body = e.Do(t, key, "GET", fmt.Sprintf("/api/v1/economics/metrics?from=%s&to=%s", month(0), month(2)), "")
			m := decode[economics.Metrics](t, code, body, 200)
			b := m.MRR.Bridge
			if b.Start != 30000 || b.New != 210000 || b.Churn != 30000 || b.End != 210000 || !b.Holds {
				t.Fatalf("bridge %+v", b)
			}
			s := m.Summary
			if s.NewCustomers != 2 || s.PaidNewCustomers != 1 {
				t.Fatalf("new %d, paid %d", s.NewCustomers, s.PaidNewCustomers)
			}
			near := func(what string, got *float64, want float64) {
				t.Helper()
				if got == nil || math.Abs(*got-want) > 1e-6*math.Max(1, want) {
					t.Errorf("%s = %v, want %v", what, got, want)
				}
			}
			near("blended CAC", s.CAC.Blended.Value, 160000)
			near("paid CAC", s.CAC.Paid.Value, 320000)
			var sd, eh economics.CellMetrics
			for _, c := range m.Matrix.Cells {
				switch c.Segment + "/" + c.Motion {
				case "smb/digital":
					sd = c
				case "enterprise/high_touch":
					eh = c
				}
			}
			// The accounts were routed by their imported head counts.
			near("SMB LTV", sd.LTVUsed, 15000*0.8*4)
			near("SMB CAC", sd.CACUsed, 120000)
			near("enterprise CAC", eh.CACUsed, 200000)
			if sd.Status != "red" || eh.Status != "green" {
				t.Errorf("statuses %s %s", sd.Status, eh.Status)
			}
			if len(m.Recommendations) == 0 || m.Recommendations[0].Text != "SMB via digital: CAC 1,200 USD vs max affordable 160 USD → cut CAC by 87 % or raise LTV 7.5× to reach 3:1" {
				t.Errorf("recommendations %+v", m.Recommendations)
			}

			// The spend import queued an evaluation; its alert is the red SMB cell
			// (from no state, or from no_data when the sweep the app runs on
			// start evaluated the workspace before the imports).
			ctx := context.Background()
			e.WaitUntil(t, "economics_guardrails", func() bool {
				as, err := e.App.Econ.Alerts(ctx, e.A.ID, true, 0)
				return err == nil && len(as) > 0
			})
			as, _ := e.App.Econ.Alerts(ctx, e.A.ID, true, 0)
			if len(as) != 1 || as[0].Segment != "smb" || as[0].Motion != "digital" || (as[0].PreviousStatus != "none" && as[0].PreviousStatus != "no_data") {
				t.Fatalf("alerts %+v", as)
			}
			code, body = e.Do(t, key, "GET", "/api/v1/economics/alerts", "")
			if code != 200 || !strings.Contains(string(body), `"event_type":"guardrail.red"`) || !strings.Contains(string(body), `"status":"red"`) {
				t.Errorf("alerts API: %d %s", code, body)
			}
			// The same alert went out as a signed guardrail.red webhook, with
			// the numbers behind it, and nothing else reached this endpoint.
			e.WaitUntil(t, "webhook_drain", func() bool {
				return sink.find(economics.GuardrailRedEvent, func(m map[string]any) bool {
					return m["segment"] == "smb" && m["motion"] == "digital" && m["status"] == "red"
				})
			})
			sink.mu.Lock()
			for _, ev := range sink.events {
				if ev.Type != economics.GuardrailRedEvent {
					t.Errorf("endpoint subscribed to guardrail.red got %s", ev.Type)
				}
			}
			if len(sink.bad) > 0 {
				t.Errorf("deliveries failing verification: %v", sink.bad)
			}
			sink.mu.Unlock()
		})
	}
}
