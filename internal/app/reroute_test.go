package app_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// Saving routing rules re-routes existing accounts in the background: the
// stored segment follows the new rules without the account being written.
func TestRuleChangeReroutesAccounts(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			e := apptest.New(t, kind)
			key := e.A.Keys["admin"]
			code, body := e.Do(t, key, "POST", "/api/v1/accounts", `{"name":"Eighty","employees":80}`)
			if code != 201 {
				t.Fatalf("create: %d %s", code, body)
			}
			var acct struct {
				ID      int64  `json:"id"`
				Segment string `json:"segment"`
			}
			if err := json.Unmarshal(body, &acct); err != nil || acct.Segment != "smb" {
				t.Fatalf("account %s %v", body, err)
			}
			_, body = e.Do(t, key, "GET", "/api/v1/routing/rules", "")
			rules := strings.Replace(strings.Replace(string(body), `"value":100`, `"value":50`, -1), `"default_segment_rules":true`, `"default_segment_rules":false`, 1)
			var set map[string]any
			if err := json.Unmarshal([]byte(rules), &set); err != nil {
				t.Fatal(err)
			}
			in, _ := json.Marshal(map[string]any{"segment_rules": set["segment_rules"], "routing_rules": set["routing_rules"]})
			if code, body := e.Do(t, key, "PUT", "/api/v1/routing/rules", string(in)); code != 200 {
				t.Fatalf("save rules: %d %s", code, body)
			}
			e.WaitJobs(t, "routing_reroute", 1)
			_, body = e.Do(t, key, "GET", fmt.Sprintf("/api/v1/accounts/%d", acct.ID), "")
			if !strings.Contains(string(body), `"segment":"mid_market"`) {
				t.Fatalf("after the rule change: %s", body)
			}
		})
	}
}
