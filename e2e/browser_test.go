package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// testTimeout bounds one browser test, browser start included.
const testTimeout = 120 * time.Second

// chromiumPath finds the browser: $RIGHTSIZE_CHROMIUM, then the usual names.
func chromiumPath() string {
	if p := os.Getenv("RIGHTSIZE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser is one headless Chromium with one tab, for one test.
type browser struct {
	ctx     context.Context
	t       *testing.T
	mu      sync.Mutex
	console []string // page exceptions and console errors
	shots   []string
}

// newBrowser starts Chromium for t, or skips t when there is none (fails instead
// when RIGHTSIZE_TEST_BROWSER=1). The browser and everything t does with it
// must finish within testTimeout.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	return newBrowserFor(t, testTimeout)
}

// newBrowserFor is newBrowser with another deadline, for a test that walks
// many pages in one tab.
//
// Tests share one Chromium process (started by the first test); each test
// gets its own browser context — cookies, storage and cache of its own, like
// a fresh incognito window — and one tab in it. Starting a browser per test
// was a third of the package's time.
func newBrowserFor(t *testing.T, timeout time.Duration) *browser {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		msg := "no Chromium found (looked for $RIGHTSIZE_CHROMIUM, /usr/bin/chromium, chromium, google-chrome); install Debian's chromium package to run the browser tests"
		if os.Getenv("RIGHTSIZE_TEST_BROWSER") == "1" {
			t.Fatal(msg + " — RIGHTSIZE_TEST_BROWSER=1 requires it")
		}
		t.Skip(msg)
	}
	root, err := sharedChromium(path)
	if err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	b := &browser{t: t}
	tab, closeTab := chromedp.NewContext(root, chromedp.WithNewBrowserContext(), chromedp.WithListener(b.listen))
	t.Cleanup(closeTab)
	ctx, cancel := context.WithTimeout(tab, timeout)
	t.Cleanup(cancel)
	b.ctx = ctx
	// Open the tab now so a failure is reported as such.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1440, 900)); err != nil {
		t.Fatalf("open a tab in chromium: %v", err)
	}
	return b
}

// chromium is the package's one browser process.
var chromium struct {
	once  sync.Once
	ctx   context.Context
	close func()
	err   error
}

// sharedChromium starts the package's Chromium on first use and returns its
// first tab's context, from which every test opens its own browser context.
func sharedChromium(path string) (context.Context, error) {
	chromium.once.Do(func() {
		dir, err := os.MkdirTemp("", "rs-chromium-")
		if err != nil {
			chromium.err = err
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.Headless,
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.NoFirstRun,
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("hide-scrollbars", true),
			chromedp.UserDataDir(dir),
			chromedp.WindowSize(1440, 900),
		)
		actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, bcancel := chromedp.NewContext(actx)
		chromium.ctx = bctx
		chromium.close = func() {
			bcancel()
			acancel()
			os.RemoveAll(dir)
		}
		// The first action starts the process, bound to the context it runs
		// on: so bctx itself, with a timer in case the start hangs.
		timer := time.AfterFunc(testTimeout, bcancel)
		chromium.err = chromedp.Do(bctx, chromedp.EmulateViewport(1440, 900))
		timer.Stop()
	})
	return chromium.ctx, chromium.err
}

// closeChromium ends the shared browser; TestMain calls it after the tests.
func closeChromium() {
	if chromium.close != nil {
		chromium.close()
	}
}

func (b *browser) listen(ev any) {
	var msg string
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		msg = "exception: " + e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			msg += " " + e.ExceptionDetails.Exception.Description
		}
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, strings.Trim(string(a.Value), `"`)+a.Description)
			}
			msg = "console.error: " + strings.Join(parts, " ")
		}
	}
	if msg != "" {
		b.mu.Lock()
		b.console = append(b.console, msg)
		b.mu.Unlock()
	}
}

// run runs steps and fails the test with what was being done.
func (b *browser) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// text returns the text of the first visible element matching sel, with
// runs of white space collapsed (CSS may upper-case it on screen; this does not).
func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.TextContent(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.Join(strings.Fields(s), " ")
}

func (b *browser) location() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}

// screenshot saves a full-page PNG into the test's temp dir and, when
// RIGHTSIZE_SCREENSHOT_DIR is set, there too.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	b.run("scroll to top", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	dirs := []string{b.t.TempDir()}
	if d := os.Getenv("RIGHTSIZE_SCREENSHOT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		p := filepath.Join(d, name+".png")
		if err := os.WriteFile(p, png, 0o644); err != nil {
			b.t.Fatal(err)
		}
		b.shots = append(b.shots, p)
	}
	b.t.Logf("screenshot %s: %s", name, b.shots[len(b.shots)-1])
}

// checkConsole fails the test on page exceptions and console errors (a script
// error or a CSP violation reported by a script).
func (b *browser) checkConsole() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.console {
		b.t.Errorf("browser console: %s", m)
	}
}

func mustContain(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s: %q lacks %q", what, trim(got), w)
		}
	}
}

func trim(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 400 {
		return s[:400] + "…"
	}
	return s
}
