// Package smtptest is a real SMTP server (emersion/go-smtp) on loopback for
// tests and the delivery benchmark: it records or counts messages, refuses
// chosen recipients, and can stop accepting connections for a while.
package smtptest

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/mail"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/emersion/go-smtp"
)

// Message is one message the server accepted.
type Message struct {
	From string
	To   []string
	Raw  []byte
}

// Server is a loopback SMTP server.
type Server struct {
	Addr string
	// CountOnly keeps no bodies: it counts messages and checks Message-IDs.
	CountOnly bool
	// OnData, when set, is called with the running count after each accepted
	// message (tests use it to act at an exact point of a run).
	OnData func(count int64)

	srv  *smtp.Server
	ln   net.Listener
	mu   sync.Mutex
	msgs []Message
	// Reject maps a recipient to the SMTP code its RCPT gets (550, 451...).
	reject map[string]int
	// drop: recipients whose message is read to the end of DATA and then
	// the connection is closed without an answer.
	drop    map[string]bool
	dropped map[string]int
	ids     map[string]int
	n       atomic.Int64
	dups    atomic.Int64
	noID    atomic.Int64
}

// Start listens on 127.0.0.1 (addr "" picks a port).
func Start(addr string) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	s := &Server{reject: map[string]int{}, ids: map[string]int{}, drop: map[string]bool{}, dropped: map[string]int{}}
	s.srv = smtp.NewServer(s)
	s.srv.Domain = "sink.test"
	s.srv.AllowInsecureAuth = true
	s.srv.MaxRecipients = 50
	s.srv.MaxMessageBytes = 10 << 20
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s.ln, s.Addr = ln, ln.Addr().String()
	go s.srv.Serve(ln) //nolint:errcheck // returns when closed
	return s, nil
}

// Down closes the listener: new connections are refused until Up.
func (s *Server) Down() error { return s.ln.Close() }

// Up listens again on the same address.
func (s *Server) Up() error {
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return err
	}
	s.ln = ln
	s.srv = smtp.NewServer(s)
	s.srv.Domain = "sink.test"
	s.srv.AllowInsecureAuth = true
	go s.srv.Serve(ln) //nolint:errcheck
	return nil
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// RejectRcpt makes RCPT TO:<to> answer code (0: accept again).
func (s *Server) RejectRcpt(to string, code int) {
	s.mu.Lock()
	s.reject[strings.ToLower(to)] = code
	s.mu.Unlock()
}

// DropAfterData makes a message to to be read through the end of DATA and
// then the connection closed with no answer: the sender cannot know whether
// it was accepted. Such a message is not counted as accepted (Count, IDs);
// Dropped lists it.
func (s *Server) DropAfterData(to string) {
	s.mu.Lock()
	s.drop[strings.ToLower(to)] = true
	s.mu.Unlock()
}

// Dropped returns how often each Message-ID was read and then dropped.
func (s *Server) Dropped() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.dropped))
	for k, v := range s.dropped {
		out[k] = v
	}
	return out
}

// IDs returns how often each Message-ID arrived.
func (s *Server) IDs() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.ids))
	for k, v := range s.ids {
		out[k] = v
	}
	return out
}

// Messages returns a copy of what was accepted.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Count is the number of accepted messages; Dups how many repeated a
// Message-ID; NoID how many had none.
func (s *Server) Count() int64 { return s.n.Load() }
func (s *Server) Dups() int64  { return s.dups.Load() }
func (s *Server) NoID() int64  { return s.noID.Load() }

// NewSession implements smtp.Backend.
func (s *Server) NewSession(c *smtp.Conn) (smtp.Session, error) { return &session{s: s, c: c}, nil }

type session struct {
	s    *Server
	c    *smtp.Conn
	from string
	to   []string
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }
func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	code := x.s.reject[strings.ToLower(to)]
	x.s.mu.Unlock()
	if code != 0 {
		return &smtp.SMTPError{Code: code, Message: "recipient refused by test server"}
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	id := messageID(raw)
	x.s.mu.Lock()
	for _, to := range x.to {
		if x.s.drop[strings.ToLower(to)] {
			x.s.dropped[id]++
			x.s.mu.Unlock()
			// The body is in; the answer never comes.
			_ = x.c.Conn().Close()
			return errors.New("connection dropped after DATA (test server)")
		}
	}
	if id == "" {
		x.s.noID.Add(1)
	} else {
		if x.s.ids[id] > 0 {
			x.s.dups.Add(1)
		}
		x.s.ids[id]++
	}
	if !x.s.CountOnly {
		x.s.msgs = append(x.s.msgs, Message{From: x.from, To: x.to, Raw: raw})
	}
	x.s.mu.Unlock()
	n := x.s.n.Add(1)
	if x.s.OnData != nil {
		x.s.OnData(n)
	}
	return nil
}

func messageID(raw []byte) string {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return ""
	}
	return m.Header.Get("Message-ID")
}
