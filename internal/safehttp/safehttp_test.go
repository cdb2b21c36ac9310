package safehttp

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestBlocked(t *testing.T) {
	cases := []struct {
		ip      string
		blocked bool
	}{
		{"127.0.0.1", true}, {"127.255.255.254", true}, {"10.1.2.3", true}, {"172.16.0.1", true}, {"172.31.255.255", true},
		{"192.168.1.1", true}, {"169.254.169.254", true}, {"169.254.1.1", true}, {"100.64.0.1", true}, {"100.127.255.255", true},
		{"0.0.0.0", true}, {"0.1.2.3", true}, {"224.0.0.1", true}, {"239.255.255.250", true}, {"255.255.255.255", true},
		{"240.0.0.1", true}, {"192.0.2.10", true}, {"198.18.0.1", true},
		{"::1", true}, {"::", true}, {"fc00::1", true}, {"fd00:ec2::254", true}, {"fd12:3456::1", true}, {"fe80::1", true},
		{"ff02::1", true}, {"::ffff:127.0.0.1", true}, {"::ffff:8.8.8.8", true}, {"::127.0.0.1", true},
		{"64:ff9b::a00:1", true}, {"2002:7f00:1::1", true}, {"2001:0:4136:e378::1", true}, {"2001:db8::1", true},
		// Public addresses pass.
		{"8.8.8.8", false}, {"93.184.216.34", false}, {"172.15.255.255", false}, {"172.32.0.0", false}, {"100.63.255.255", false},
		{"100.128.0.0", false}, {"2606:4700:4700::1111", false}, {"2a00:1450:4001::200e", false},
	}
	for _, c := range cases {
		why := Blocked(netip.MustParseAddr(c.ip))
		if (why != "") != c.blocked {
			t.Errorf("Blocked(%s) = %q, want blocked=%v", c.ip, why, c.blocked)
		}
	}
}

func TestCheckURL(t *testing.T) {
	refused := []string{
		"", "example.com/hook", "ftp://example.com/", "file:///etc/passwd", "gopher://example.com/", "javascript:alert(1)",
		"http://user:pass@example.com/", "https://@example.com/", "http:///path",
		"http://127.0.0.1/", "http://127.1/", "http://0x7f.1/", "http://0x7f000001/", "http://2130706433/", "http://0177.0.0.1/",
		"http://0177.0.0.01/", "http://017700000001/", "http://0/", "http://0.0.0.0:8080/", "http://10.0.0.1/", "http://192.168.0.1/",
		"http://172.16.5.4/", "http://100.64.1.1/", "http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/",
		"http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", "http://[0:0:0:0:0:ffff:127.0.0.1]/",
		"http://[fe80::1%25eth0]/", "http://[fc00::1]:8443/", "http://224.0.0.1/", "http://255.255.255.255/",
		"http://localhost/", "http://LOCALHOST:8080/", "http://app.localhost/", "http://metadata.google.internal/",
		"http://printer.local/", "http://intranet/", "http://example.com:0/", "http://example.com:99999/",
		"http://exa mple.com/", "http://example.com/\n", "http://ex\x00ample.com/", "http://1.2.3.4.5/",
		"https://" + strings.Repeat("a", MaxURLLength) + ".com/", "http://ünïcode.example/",
	}
	for _, raw := range refused {
		if u, err := ValidateURL(raw); err == nil {
			t.Errorf("ValidateURL(%q) accepted %v", raw, u)
		} else if !errors.Is(err, ErrBlocked) {
			t.Errorf("ValidateURL(%q): %v does not match ErrBlocked", raw, err)
		}
	}
	accepted := []string{
		"https://example.com/hook", "https://hooks.example.com:8443/rightsize?token=abc", "http://93.184.216.34/x",
		"https://[2606:4700:4700::1111]/hook", "https://xn--nicode-5ua.example/", "https://example.com./trailing-dot",
	}
	for _, raw := range accepted {
		if _, err := ValidateURL(raw); err != nil {
			t.Errorf("ValidateURL(%q): %v", raw, err)
		}
	}
}

// receiver is a loopback HTTP server counting requests.
func receiver(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func loopbackOK() []netip.Prefix {
	return []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}

// TestDefaultClientRefusesLoopback: the client without a test allow-list
// never reaches a loopback server, whether the URL names the address (refused
// when the URL is checked) or a name that resolves to it (refused at dial
// time: the request below skips the URL check on purpose).
func TestDefaultClientRefusesLoopback(t *testing.T) {
	srv, hits := receiver(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	c := New()
	req, _ := http.NewRequest("POST", srv.URL+"/hook", strings.NewReader("{}"))
	if _, err := c.Do(req); !errors.Is(err, ErrBlocked) {
		t.Fatalf("Do(%s) = %v, want ErrBlocked", srv.URL, err)
	}
	port := srv.URL[strings.LastIndexByte(srv.URL, ':')+1:]
	for _, raw := range []string{srv.URL + "/direct", "http://localhost:" + port + "/by-name"} {
		req, _ := http.NewRequest("POST", raw, strings.NewReader("{}"))
		_, err := c.hc.Do(req) // past CheckURL: only the dial-time check stands
		var be *BlockedError
		if !errors.As(err, &be) {
			t.Fatalf("dial %s = %v, want a BlockedError from the dial-time check", raw, err)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("the loopback receiver got %d requests", hits.Load())
	}
}

func TestAllowForTestsAndBodyCap(t *testing.T) {
	srv, hits := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, strings.Repeat("x", 5000))
	})
	c := New()
	c.AllowForTests = loopbackOK()
	c.MaxBody = 1024
	req, _ := http.NewRequest("GET", srv.URL+"/big", nil)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 200 || len(res.Body) != 1024 || !res.Truncated {
		t.Fatalf("status %d, %d bytes, truncated %v; want 200, 1024, true", res.Status, len(res.Body), res.Truncated)
	}
	if hits.Load() != 1 {
		t.Fatalf("hits %d", hits.Load())
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	target, targetHits := receiver(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/internal", http.StatusFound)
	})
	c := New()
	c.AllowForTests = loopbackOK()
	req, _ := http.NewRequest("POST", srv.URL+"/hook", strings.NewReader("{}"))
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusFound {
		t.Fatalf("status %d, want 302 returned as is", res.Status)
	}
	if targetHits.Load() != 0 {
		t.Fatalf("the redirect target was requested %d times", targetHits.Load())
	}
}

func TestTotalTimeout(t *testing.T) {
	release := make(chan struct{})
	srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		select { // hold the answer until the client gives up (or the test ends)
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) }) // runs before the server's Close
	c := New()
	c.AllowForTests = loopbackOK()
	c.Timeout = 300 * time.Millisecond
	req, _ := http.NewRequest("POST", srv.URL+"/slow", strings.NewReader("{}"))
	start := time.Now()
	_, err := c.Do(req)
	if err == nil {
		t.Fatal("a receiver that never answers did not time out")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("took %v with a 300ms timeout", took)
	}
}

// inetAton parses host the way C resolvers' inet_aton does (1 to 4 parts,
// each decimal, 0x hex or 0-prefixed octal; the last part fills the
// remaining bytes), the notation a permissive resolver turns into an IPv4
// address.
func inetAton(host string) (netip.Addr, bool) {
	parts := strings.Split(host, ".")
	if len(parts) == 0 || len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		base := 10
		s := strings.ToLower(p)
		switch {
		case strings.HasPrefix(s, "0x"):
			base, s = 16, s[2:]
			if s == "" {
				s = "0"
			}
		case len(s) > 1 && s[0] == '0':
			base, s = 8, s[1:]
		}
		v, err := strconv.ParseUint(s, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	var n uint64
	for i := 0; i < len(vals)-1; i++ {
		if vals[i] > 255 {
			return netip.Addr{}, false
		}
		n |= vals[i] << (8 * (3 - i))
	}
	last := vals[len(vals)-1]
	if last >= 1<<(8*(4-len(vals)+1)) {
		return netip.Addr{}, false
	}
	n |= last
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

func TestInetAton(t *testing.T) {
	for host, want := range map[string]string{"2130706433": "127.0.0.1", "0x7f.1": "127.0.0.1", "0177.0.0.1": "127.0.0.1", "127.1": "127.0.0.1", "10.1.258": "10.1.1.2"} {
		got, ok := inetAton(host)
		if !ok || got.String() != want {
			t.Errorf("inetAton(%q) = %v %v, want %s", host, got, ok, want)
		}
	}
}

// FuzzValidateURL: whatever the input, ValidateURL does not panic, and a URL
// it accepts is http(s), has a host and no credentials, and its host is not
// an address the server must not reach in any notation a resolver accepts.
// Seeds: testdata/fuzz/FuzzValidateURL.
func FuzzValidateURL(f *testing.F) {
	for _, s := range []string{"https://example.com/hook", "http://0x7f.1/", "http://[::ffff:127.0.0.1]/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := ValidateURL(raw)
		if err != nil {
			if !errors.Is(err, ErrBlocked) {
				t.Fatalf("error %v does not match ErrBlocked", err)
			}
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			t.Fatalf("accepted scheme %q", u.Scheme)
		}
		if u.User != nil {
			t.Fatalf("accepted credentials in %q", raw)
		}
		host := u.Hostname()
		if host == "" {
			t.Fatalf("accepted %q without a host", raw)
		}
		if ip, err := netip.ParseAddr(host); err == nil {
			if why := Blocked(ip); why != "" {
				t.Fatalf("accepted %q: %s", raw, why)
			}
		}
		if ip, ok := inetAton(strings.TrimSuffix(host, ".")); ok {
			if why := Blocked(ip); why != "" {
				t.Fatalf("accepted %q, whose host a resolver reads as %s (%s)", raw, ip, why)
			}
			if canon, err := netip.ParseAddr(host); err != nil || canon != ip {
				t.Fatalf("accepted %q: a non-canonical numeric host (%s)", raw, ip)
			}
		}
		if h := strings.ToLower(host); h == "localhost" || strings.HasSuffix(h, ".localhost") {
			t.Fatalf("accepted loopback name in %q", raw)
		}
	})
}

func ExampleValidateURL() {
	for _, raw := range []string{"https://hooks.example.com/rs", "http://0x7f.1/", "http://169.254.169.254/"} {
		_, err := ValidateURL(raw)
		fmt.Println(raw, "→", err)
	}
	// Output:
	// https://hooks.example.com/rs → <nil>
	// http://0x7f.1/ → host "0x7f.1" is an IP address in a non-standard notation (octal, hex, integer or shortened); write it as a.b.c.d
	// http://169.254.169.254/ → 169.254.169.254 is not allowed: a cloud metadata address
}
