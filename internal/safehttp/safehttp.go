// Package safehttp is the HTTP client for every request the server makes to a
// URL someone else chose (webhook endpoints, any later server-side fetch). It
// refuses to reach the server's own network: the address a connection is about
// to use is checked at dial time, after DNS, so a hostname that resolves (or
// re-resolves, DNS rebinding) to loopback, a private range, link-local, CGNAT,
// a unique-local IPv6 address, an IPv4-mapped IPv6 address or a cloud metadata
// address is refused before a byte is sent. URL hosts written as integers, hex
// or octal (http://2130706433/, http://0x7f.1/, http://0177.0.0.1/) are refused
// when the URL is checked. Redirects are not followed, only http and https are
// spoken, no proxy from the environment is used, and every request has a
// connect timeout, a total timeout and a cap on the response body it reads.
package safehttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Defaults of a Client made by New.
const (
	DefaultConnectTimeout = 5 * time.Second
	DefaultTimeout        = 15 * time.Second
	DefaultMaxBody        = 64 << 10
	// MaxURLLength bounds a URL a workspace may store.
	MaxURLLength = 2048
)

// ErrBlocked wraps every refusal to reach an address; errors.Is tells a
// refused destination from a network failure.
var ErrBlocked = errors.New("destination not allowed")

// BlockedError says which address was refused and why.
type BlockedError struct {
	Addr   string
	Reason string
}

func (e *BlockedError) Error() string {
	return fmt.Sprintf("%s is not allowed: %s", e.Addr, e.Reason)
}

// Is lets errors.Is(err, ErrBlocked) match.
func (e *BlockedError) Is(target error) bool { return target == ErrBlocked }

// URLError is a URL refused before any connection, naming what is wrong.
type URLError struct{ Msg string }

func (e *URLError) Error() string { return e.Msg }

// Is lets errors.Is(err, ErrBlocked) match.
func (e *URLError) Is(target error) bool { return target == ErrBlocked }

// Client sends requests to untrusted URLs. The zero value is not usable: make
// one with New.
type Client struct {
	// ConnectTimeout bounds the TCP connect and the TLS handshake each.
	ConnectTimeout time.Duration
	// Timeout bounds the whole request, reading the capped body included.
	Timeout time.Duration
	// MaxBody is how many bytes of a response body Do reads; the rest is
	// dropped and Response.Truncated says so.
	MaxBody int64
	// AllowForTests lets addresses in these prefixes through the checks. It
	// exists so tests can run a receiver on 127.0.0.1; nothing outside tests
	// sets it, and no configuration or workspace setting reaches it.
	AllowForTests []netip.Prefix

	hc *http.Client
}

// New returns a client with the default timeouts and body cap.
func New() *Client {
	c := &Client{ConnectTimeout: DefaultConnectTimeout, Timeout: DefaultTimeout, MaxBody: DefaultMaxBody}
	dialer := &net.Dialer{
		Timeout: DefaultConnectTimeout,
		// The last word: the address the socket is about to connect to,
		// whatever name or notation led here.
		Control: func(network, address string, _ syscall.RawConn) error {
			return c.checkDial(network, address)
		},
	}
	tr := &http.Transport{
		Proxy: nil, // an environment proxy would connect for us, past the check
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			d := *dialer
			if c.ConnectTimeout > 0 {
				d.Timeout = c.ConnectTimeout
			}
			return d.DialContext(ctx, network, addr)
		},
		TLSHandshakeTimeout:   DefaultConnectTimeout,
		ResponseHeaderTimeout: DefaultTimeout,
		MaxIdleConns:          32,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       60 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	c.hc = &http.Client{
		Transport: tr,
		// A redirect is an answer, not an instruction: following it would
		// let a public URL send us to an internal one.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

// Response is what Do read: the status, headers and at most MaxBody bytes.
type Response struct {
	Status    int
	Header    http.Header
	Body      []byte
	Truncated bool
}

// Do checks req's URL, sends it and reads at most MaxBody bytes of the answer.
// A 3xx is returned as it is (never followed). The connection is checked at
// dial time whatever the URL said.
func (c *Client) Do(req *http.Request) (*Response, error) {
	if _, err := c.CheckURL(req.URL.String()); err != nil {
		return nil, err
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(req.Context(), timeout)
	defer cancel()
	resp, err := c.hc.Do(req.WithContext(ctx))
	if err != nil {
		var be *BlockedError
		if errors.As(err, &be) {
			return nil, be
		}
		return nil, err
	}
	defer resp.Body.Close()
	limit := c.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	out := &Response{Status: resp.StatusCode, Header: resp.Header}
	if int64(len(body)) > limit {
		body, out.Truncated = body[:limit], true
	}
	out.Body = body
	if err != nil && !out.Truncated {
		// The status arrived; a body cut short by the peer or the timeout is
		// kept as far as it got.
		out.Truncated = true
	}
	return out, nil
}

// CloseIdle drops pooled connections.
func (c *Client) CloseIdle() { c.hc.CloseIdleConnections() }

// Dialer returns a TCP dialer for non-HTTP protocols (an IMAP mailbox a
// workspace names) with the same dial-time check as Do: whatever the host
// name resolves to, a blocked address is refused before the socket connects.
func (c *Client) Dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{
		Timeout: timeout,
		Control: func(network, address string, _ syscall.RawConn) error {
			return c.checkDial(network, address)
		},
	}
}

// CheckHost applies CheckURL's host rules to a bare host name or IP address
// (a mail server a workspace configures), so a setting is refused when it is
// saved rather than at the first connection.
func (c *Client) CheckHost(host string) error {
	if host == "" {
		return &URLError{"is required"}
	}
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return c.CheckIP(ip)
	}
	if numericHost(host) {
		return &URLError{fmt.Sprintf("host %q is an IP address in a non-standard notation (octal, hex, integer or shortened); write it as a.b.c.d", host)}
	}
	return checkHostname(host)
}

// checkDial runs in net.Dialer.Control with the resolved address.
func (c *Client) checkDial(network, address string) error {
	if network != "tcp4" && network != "tcp6" && network != "tcp" {
		return &BlockedError{Addr: address, Reason: "only TCP is allowed"}
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return &BlockedError{Addr: address, Reason: "unparseable address"}
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return &BlockedError{Addr: address, Reason: "not an IP address"}
	}
	return c.CheckIP(ip)
}

// CheckIP refuses an address the server must not reach (see Blocked), unless
// the client's test allow-list covers it.
func (c *Client) CheckIP(ip netip.Addr) error {
	for _, p := range c.AllowForTests {
		if p.Contains(ip) {
			return nil
		}
	}
	if why := Blocked(ip); why != "" {
		return &BlockedError{Addr: ip.String(), Reason: why}
	}
	return nil
}

// blockedPrefixes are the ranges no outgoing request may reach, with the
// reason shown to the admin. IPv4-mapped IPv6 addresses are refused before
// this list is read.
var blockedPrefixes = func() []struct {
	p   netip.Prefix
	why string
} {
	list := []struct{ cidr, why string }{
		{"169.254.169.254/32", "a cloud metadata address"},
		{"fd00:ec2::254/128", "a cloud metadata address"},
		{"0.0.0.0/8", "the \"this network\" range (0.0.0.0/8)"},
		{"10.0.0.0/8", "a private address (RFC 1918)"},
		{"100.64.0.0/10", "a carrier-grade NAT address (100.64.0.0/10)"},
		{"127.0.0.0/8", "a loopback address"},
		{"169.254.0.0/16", "a link-local address"},
		{"172.16.0.0/12", "a private address (RFC 1918)"},
		{"192.0.0.0/24", "an IETF protocol assignment (192.0.0.0/24)"},
		{"192.0.2.0/24", "a documentation address (TEST-NET-1)"},
		{"192.88.99.0/24", "a 6to4 relay address"},
		{"192.168.0.0/16", "a private address (RFC 1918)"},
		{"198.18.0.0/15", "a benchmarking address (198.18.0.0/15)"},
		{"198.51.100.0/24", "a documentation address (TEST-NET-2)"},
		{"203.0.113.0/24", "a documentation address (TEST-NET-3)"},
		{"224.0.0.0/4", "a multicast address"},
		{"240.0.0.0/4", "a reserved address (240.0.0.0/4, broadcast included)"},
		{"::/128", "the unspecified address"},
		{"::1/128", "a loopback address"},
		{"::/96", "an IPv4-compatible IPv6 address"},
		{"64:ff9b::/96", "a NAT64 address (it reaches IPv4 ranges)"},
		{"64:ff9b:1::/48", "a NAT64 address (it reaches IPv4 ranges)"},
		{"100::/64", "a discard-only address"},
		{"2001::/32", "a Teredo address (it embeds an IPv4 address)"},
		{"2001:db8::/32", "a documentation address"},
		{"2002::/16", "a 6to4 address (it embeds an IPv4 address)"},
		{"fc00::/7", "a unique-local IPv6 address (fc00::/7)"},
		{"fe80::/10", "a link-local address"},
		{"fec0::/10", "a site-local IPv6 address"},
		{"ff00::/8", "a multicast address"},
	}
	out := make([]struct {
		p   netip.Prefix
		why string
	}, len(list))
	for i, l := range list {
		out[i].p, out[i].why = netip.MustParsePrefix(l.cidr), l.why
	}
	return out
}()

// Blocked says why ip must not be reached ("" when it may): loopback, private,
// link-local, CGNAT, unique-local, metadata, multicast, broadcast, reserved and
// documentation ranges, and every IPv4-mapped IPv6 address (::ffff:a.b.c.d),
// whatever IPv4 address it carries.
func Blocked(ip netip.Addr) string {
	if !ip.IsValid() {
		return "not a valid address"
	}
	if ip.Zone() != "" {
		return "an address with a zone"
	}
	if ip.Is4In6() {
		return "an IPv4-mapped IPv6 address"
	}
	for _, b := range blockedPrefixes {
		if b.p.Contains(ip) {
			return b.why
		}
	}
	if !ip.IsGlobalUnicast() {
		return "not a global unicast address"
	}
	return ""
}

// ValidateURL is CheckURL of a client without a test allow-list: what a
// stored webhook URL must pass.
func ValidateURL(raw string) (*url.URL, error) { return (&Client{}).CheckURL(raw) }

// CheckURL parses raw and refuses what a request must not go to: a scheme
// other than http or https, credentials in the URL, a missing host, a host
// that is an IP address in a blocked range, a host written in a numeric
// notation other than dotted-decimal IPv4 or bracketed IPv6 (octal, hex,
// integer, shortened forms), and local-only names (localhost, *.localhost,
// *.internal, *.local). A hostname is not resolved here: the dial-time check
// sees the address it resolves to.
func (c *Client) CheckURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, &URLError{"is required"}
	}
	if len(raw) > MaxURLLength {
		return nil, &URLError{fmt.Sprintf("is longer than %d characters", MaxURLLength)}
	}
	for _, r := range raw {
		if r <= ' ' || r == 0x7f {
			return nil, &URLError{"must not contain spaces or control characters"}
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, &URLError{"is not a valid URL"}
	}
	switch u.Scheme {
	case "http", "https":
	case "":
		return nil, &URLError{"must start with https:// or http://"}
	default:
		return nil, &URLError{fmt.Sprintf("scheme %q is not allowed; use https or http", u.Scheme)}
	}
	if u.Opaque != "" {
		return nil, &URLError{"must be an absolute URL (https://host/path)"}
	}
	if u.User != nil {
		return nil, &URLError{"must not contain a user name or password; put credentials in the path or a query token"}
	}
	host := u.Hostname()
	if host == "" {
		return nil, &URLError{"has no host"}
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, &URLError{"has an invalid port"}
		}
	}
	if strings.HasPrefix(u.Host, "[") {
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return nil, &URLError{"has an invalid IPv6 address"}
		}
		if err := c.CheckIP(ip); err != nil {
			return nil, err
		}
		return u, nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if !ip.Is4() {
			return nil, &URLError{"an IPv6 address must be in brackets"}
		}
		if err := c.CheckIP(ip); err != nil {
			return nil, err
		}
		return u, nil
	}
	if numericHost(host) {
		return nil, &URLError{fmt.Sprintf("host %q is an IP address in a non-standard notation (octal, hex, integer or shortened); write it as a.b.c.d", host)}
	}
	if err := checkHostname(host); err != nil {
		return nil, err
	}
	return u, nil
}

// numericHost reports whether every dot-separated label of host is a number
// in some base (decimal, 0x hex, 0-prefixed octal), or empty: the inet_aton
// notations resolvers accept as IP addresses (0x7f.1, 2130706433, 0177.0.0.1,
// 127.1). A dotted-decimal IPv4 address never gets here (netip parsed it).
func numericHost(host string) bool {
	host = strings.TrimSuffix(host, ".")
	if host == "" {
		return true
	}
	for _, l := range strings.Split(host, ".") {
		if l == "" {
			return true // "1..2": no resolver treats it as a name either
		}
		s := strings.ToLower(l)
		if h, ok := strings.CutPrefix(s, "0x"); ok {
			if strings.Trim(h, "0123456789abcdef") != "" {
				return false
			}
			continue
		}
		if strings.Trim(s, "0123456789") != "" {
			return false
		}
	}
	return true
}

// checkHostname refuses names that only mean something on this machine or
// its network, and names that are not valid DNS names.
func checkHostname(host string) error {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if len(h) > 253 {
		return &URLError{"has a host name longer than 253 characters"}
	}
	for _, l := range strings.Split(h, ".") {
		if l == "" || len(l) > 63 {
			return &URLError{fmt.Sprintf("host %q is not a valid host name", host)}
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return &URLError{fmt.Sprintf("host %q is not a valid host name (use the punycode form of international names)", host)}
			}
		}
	}
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return &BlockedError{Addr: host, Reason: "a loopback name"}
	}
	for _, suf := range []string{".internal", ".local", ".localdomain", ".home.arpa", ".in-addr.arpa", ".ip6.arpa"} {
		if h == suf[1:] || strings.HasSuffix(h, suf) {
			return &BlockedError{Addr: host, Reason: "a local-network name (" + suf + ")"}
		}
	}
	if !strings.Contains(h, ".") {
		return &BlockedError{Addr: host, Reason: "a single-label name (resolved on the local network)"}
	}
	return nil
}
