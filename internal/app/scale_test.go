package app_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/app"
	"github.com/rightsize/rightsize/internal/bench"
	"github.com/rightsize/rightsize/internal/config"
	"github.com/rightsize/rightsize/internal/mail/smtptest"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
	"github.com/rightsize/rightsize/internal/tracking"
)

// node is one `rightsize serve` process of a test.
type node struct {
	role string
	url  string
	cmd  *exec.Cmd
	log  *syncWriter
}

// buildBinary builds cmd/rightsize into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "rightsize")
	build := exec.Command("go", "build", "-o", bin, "./cmd/rightsize")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startNode starts `rightsize serve --role role` on dsn and waits (with a
// deadline) until it prints its URL and /readyz answers 200.
func startNode(t *testing.T, bin, dsn, role string, env ...string) *node {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--db", dsn, "--addr", "127.0.0.1:0", "--role", role, "--workers", "1", "--log-level", "info")
	cmd.Env = append(append(os.Environ(), "RIGHTSIZE_CONFIG="), env...)
	n := &node{role: role, cmd: cmd, log: &syncWriter{w: &bytes.Buffer{}}}
	cmd.Stderr = n.log
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "Rightsize is running at "); ok {
				ready <- listenURL(rest)
				_, _ = io.Copy(io.Discard, out)
				return
			}
		}
		close(ready)
	}()
	select {
	case u, ok := <-ready:
		if !ok {
			t.Fatalf("%s node exited before it was ready:\n%s", role, n.log.String())
		}
		n.url = u
	case <-time.After(time.Minute):
		t.Fatalf("%s node not ready within a minute:\n%s", role, n.log.String())
	}
	poll(t, role+" node /readyz", time.Minute, func() bool {
		res, err := http.Get(n.url + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	return n
}

// poll checks cond every 50 ms until it holds, failing the test at the
// deadline (the wait is for other processes; there is nothing to signal on).
func poll(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		<-tick.C
	}
}

// Scale-out on one PostgreSQL (issue 7): three `rightsize serve` processes —
// role all, role worker, role web — share one database. 5,000 enrollments of
// a paused sequence whose first step is an email are resumed through the web
// node's API; while the nurture run goes out, a burst of tracking ingest
// arrives through both HTTP nodes (all and web), a form is submitted to each,
// and a session opened on one node is used and ended on the other. It proves:
// every step sent once (one ledger row per enrollment step, all accepted; the
// SMTP server saw 5,000 messages and no Message-ID twice; 5,000 "sent" step
// log rows); jobs split across the two worker nodes (River's attempted_by of
// the sequences_due_batch jobs — at least 5 for 5,000 steps — names both, and
// never the web node); no lost events (events answered 202 = events stored);
// and the worker node serves only health and metrics.
func TestScaleOutOnePostgres(t *testing.T) {
	if os.Getenv("RIGHTSIZE_TEST_PG") == "" || os.Getenv("RIGHTSIZE_TEST_PG") == "off" {
		t.Skip("needs PostgreSQL: set RIGHTSIZE_TEST_PG (three serve processes share one database)")
	}
	if testing.Short() {
		t.Skip("builds the binary and starts three processes")
	}
	const total = 5000
	bin := buildBinary(t)
	dsn := storetest.NewPostgresDSN(t)
	srv, err := smtptest.Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.CountOnly = true

	// The data, written by this process (it inserts jobs and works none).
	ctx := context.Background()
	cfg := config.Defaults()
	cfg.DB = dsn
	setup, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), false)
	if err != nil {
		t.Fatal(err)
	}
	defer setup.Close()
	ws := model.Workspace{Name: "Scale", Slug: "scale", Currency: "USD"}
	err = setup.St.InTx(ctx, func(q store.Q) error {
		if err := q.CreateWorkspace(ctx, &ws); err != nil {
			return err
		}
		return q.SaveMailSender(ctx, ws.ID, &store.MailSender{FromName: "Ada", FromAddress: "ada@sender.example", PostalAddress: "1 Engine St"})
	})
	if err != nil {
		t.Fatal(err)
	}
	act := model.Actor{Workspace: ws.ID, Label: "test", Role: model.RoleAdmin}
	const password = "correct horse battery staple 7"
	u, err := setup.Auth.CreateUser(ctx, "admin@scale.example", "Admin", password, ws.ID, model.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	uid := u.ID
	_, key, err := setup.Auth.CreateAPIKey(ctx, model.Actor{Workspace: ws.ID, UserID: &uid}, "scale", model.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	const origin = "https://www.scale.example"
	siteName, origins := "Scale site", []string{origin}
	site, err := setup.Tracking.CreateSite(ctx, act, tracking.SiteInput{Name: &siteName, AllowedOrigins: &origins})
	if err != nil {
		t.Fatal(err)
	}
	form, err := setup.Forms.CreateForm(ctx, act, model.Form{Name: "Signup", Kind: "signup", RedirectURL: origin + "/thanks", AllowedOrigins: origins})
	if err != nil {
		t.Fatal(err)
	}
	seq, err := setup.Sequences.Create(ctx, ws.ID, model.Sequence{Name: "Nurture", Status: "active", Trigger: model.SequenceTrigger{Kind: "manual"},
		Steps: []model.SequenceStep{{Kind: "send_email", Subject: "Hello {{.Contact.FirstName}}", HTML: "<p>Hi {{.Contact.FirstName}}</p>"},
			{Kind: "wait", Duration: "3d"}, {Kind: "send_email", Subject: "Again", HTML: "<p>Again</p>"}}})
	if err != nil {
		t.Fatal(err)
	}
	// 5,000 enrollments due a minute ago, then the sequence paused: nothing is
	// due while the nodes start; resuming makes all 5,000 due in one
	// transaction, which also inserts the dispatch job.
	ids, err := bench.SeedContacts(ctx, setup.St, ws.ID, total, bench.PlainContact, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := bench.SeedEnrollments(ctx, setup.St, ws.ID, seq.ID, ids, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := setup.Sequences.SetStatus(ctx, ws.ID, seq.ID, "paused"); err != nil {
		t.Fatal(err)
	}

	host, port, _ := strings.Cut(srv.Addr, ":")
	env := []string{"RIGHTSIZE_SMTP_HOST=" + host, "RIGHTSIZE_SMTP_PORT=" + port, "RIGHTSIZE_SMTP_TLS=none", "RIGHTSIZE_SMTP_CONNS=4", "RIGHTSIZE_BASE_URL=https://crm.scale.example"}
	all := startNode(t, bin, dsn, config.RoleAll, env...)
	worker := startNode(t, bin, dsn, config.RoleWorker, env...)
	web := startNode(t, bin, dsn, config.RoleWeb, env...)
	nodes := []*node{all, worker, web}
	dump := func() {
		for _, n := range nodes {
			t.Logf("%s node log:\n%s", n.role, n.log.String())
		}
	}

	// The worker node answers health and metrics only.
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, "/api/v1/contacts": 404, "/login": 404, tracking.IngestPath: 404} {
		res, err := http.Get(worker.url + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Fatalf("worker node %s: %d, want %d", path, res.StatusCode, want)
		}
	}

	// Resume through the web node's API: 5,000 steps due at once.
	do := func(n *node, method, path, body string) (int, []byte) {
		req, _ := http.NewRequest(method, n.url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	if status, body := do(web, "POST", fmt.Sprintf("/api/v1/sequences/%d/activate", seq.ID), ""); status != http.StatusOK {
		t.Fatalf("activate through the web node: %d %s", status, body)
	}

	// Meanwhile: a burst of ingest through both HTTP nodes, 16 clients, 200
	// requests of 50 page views.
	var accepted, refused atomic.Int64
	perNode := make([]atomic.Int64, 2)
	var next atomic.Int64
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= 200 {
					return
				}
				evs := make([]string, tracking.MaxEvents)
				for j := range evs {
					evs[j] = fmt.Sprintf(`{"kind":"page_view","url":"%s/docs/%d","title":"Docs %d"}`, origin, j, j)
				}
				body := fmt.Sprintf(`{"site":%q,"visitor":"scale-visitor-%04d","events":[%s]}`, site.PublicKey, i%37, strings.Join(evs, ","))
				n := []*node{all, web}[i%2]
				req, _ := http.NewRequest("POST", n.url+tracking.IngestPath, strings.NewReader(body))
				req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
				req.Header.Set("Origin", origin)
				res, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				switch res.StatusCode {
				case http.StatusAccepted:
					accepted.Add(tracking.MaxEvents)
					perNode[i%2].Add(tracking.MaxEvents)
				case http.StatusTooManyRequests:
					refused.Add(tracking.MaxEvents)
				default:
					t.Errorf("ingest on the %s node: %d", n.role, res.StatusCode)
				}
			}
		}()
	}

	// A form submitted to each HTTP node creates its contact.
	for i, n := range []*node{all, web} {
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		vals := url.Values{"email": {fmt.Sprintf("signup%d@buyer.example", i)}, "_hp": {""}}
		req, _ := http.NewRequest("POST", n.url+"/f/"+form.Key, strings.NewReader(vals.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", origin)
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != origin+"/thanks" {
			t.Fatalf("form on the %s node: %d %s", n.role, res.StatusCode, res.Header.Get("Location"))
		}
		if _, err := setup.St.Read().ContactByEmail(ctx, ws.ID, vals.Get("email")); err != nil {
			t.Fatalf("form on the %s node: contact %s: %v", n.role, vals.Get("email"), err)
		}
	}

	// A session opened on the all node works on the web node, and signing out
	// there ends it on the first.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	login := url.Values{"email": {"admin@scale.example"}, "password": {password}}
	req, _ := http.NewRequest("POST", all.url+"/login", strings.NewReader(login.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var session *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "rs_session" {
			session = c
		}
	}
	if res.StatusCode != http.StatusSeeOther || session == nil {
		t.Fatalf("login on the all node: %d, cookie %v", res.StatusCode, session)
	}
	page := func(n *node) int {
		req, _ := http.NewRequest("GET", n.url+"/contacts", nil)
		req.AddCookie(session)
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := page(web); got != http.StatusOK {
		t.Fatalf("the all node's session on the web node: %d, want 200", got)
	}
	req, _ = http.NewRequest("POST", web.url+"/logout", nil)
	req.AddCookie(session)
	if res, err = noRedirect.Do(req); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := page(all); got != http.StatusSeeOther {
		t.Fatalf("after signing out on the web node, the all node answered %d, want 303 to the login", got)
	}
	wg.Wait()

	// Every step sent once.
	poll(t, fmt.Sprintf("the SMTP server to get %d messages", total), 5*time.Minute, func() bool { return srv.Count() >= total })
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(q string, args ...any) int {
		var n int
		if err := db.QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	poll(t, "every send accepted", time.Minute, func() bool {
		return count(`SELECT COUNT(*) FROM send_ledger WHERE workspace_id=$1 AND state='accepted'`, ws.ID) == total
	})
	var rows, enrollments, keys int
	if err := db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT enrollment_id), COUNT(DISTINCT dedupe_key) FROM send_ledger WHERE workspace_id=$1`, ws.ID).Scan(&rows, &enrollments, &keys); err != nil {
		t.Fatal(err)
	}
	if rows != total || enrollments != total || keys != total {
		t.Fatalf("ledger: %d rows, %d enrollments, %d keys; want %d each", rows, enrollments, keys, total)
	}
	if srv.Count() != total || srv.Dups() != 0 || srv.NoID() != 0 {
		t.Fatalf("SMTP server: %d messages, %d repeated Message-IDs, %d without one; want %d, 0, 0", srv.Count(), srv.Dups(), srv.NoID(), total)
	}
	if sent := count(`SELECT COUNT(*) FROM sequence_step_log WHERE workspace_id=$1 AND outcome='sent'`, ws.ID); sent != total {
		t.Fatalf("step log: %d sent, want %d", sent, total)
	}

	// Jobs split across the worker nodes, never on the web node.
	poll(t, "every batch job completed", time.Minute, func() bool {
		return count(`SELECT COUNT(*) FROM river_job WHERE kind='sequences_due_batch' AND state <> 'completed'`) == 0
	})
	batches := count(`SELECT COUNT(*) FROM river_job WHERE kind='sequences_due_batch'`)
	byRole := map[string]int{}
	ran := map[string]int{}
	r, err := db.Query(`SELECT c, kind, COUNT(*) FROM river_job, unnest(attempted_by) AS c GROUP BY c, kind`)
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var c, kind string
		var n int
		if err := r.Scan(&c, &kind, &n); err != nil {
			t.Fatal(err)
		}
		ran[c+" "+kind] = n
		for _, role := range []string{config.RoleAll, config.RoleWorker, config.RoleWeb} {
			if strings.Contains(c, "_"+role+"_") && kind == "sequences_due_batch" {
				byRole[role] += n
			}
			if strings.Contains(c, "_"+config.RoleWeb+"_") {
				t.Errorf("the web node ran a %s job (%s)", kind, c)
			}
		}
	}
	r.Close()
	t.Logf("jobs by River client and kind: %v; batch jobs by role: %v of %d", ran, byRole, batches)
	if batches < total/1000 || byRole[config.RoleAll] == 0 || byRole[config.RoleWorker] == 0 {
		dump()
		t.Fatalf("%d batch jobs (want ≥ %d), run by role %v: want both worker nodes", batches, total/1000, byRole)
	}

	// No lost events.
	stored, _, err := setup.St.Read().CountWebEvents(ctx, ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ingest: %d events accepted (all node %d, web node %d), %d refused (429), %d stored", accepted.Load(), perNode[0].Load(), perNode[1].Load(), refused.Load(), stored)
	if stored != accepted.Load() || perNode[0].Load() == 0 || perNode[1].Load() == 0 {
		t.Fatalf("events: %d accepted (all %d, web %d), %d stored", accepted.Load(), perNode[0].Load(), perNode[1].Load(), stored)
	}
	var health map[string]string
	res, err = http.Get(web.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(res.Body).Decode(&health)
	res.Body.Close()
	if health["role"] != config.RoleWeb {
		t.Fatalf("web node /healthz: %v", health)
	}
}

// listenURL takes the "(listening on host:port, …" part of serve's ready line
// (the line starts with the public base URL, which is not this process).
func listenURL(rest string) string {
	_, after, _ := strings.Cut(rest, "(listening on ")
	addr, _, _ := strings.Cut(after, ",")
	return "http://" + addr
}
