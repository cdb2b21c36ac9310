package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Load is a closed-loop HTTP/1.1 load generator in the style of wrk: Conns
// keep-alive connections, each sending its next request as soon as the last
// answer is read, for Duration (or until MaxRequests). It speaks raw HTTP on
// the socket — a request is pre-built bytes, an answer is parsed just enough
// to find its status and its end — so the client costs a few µs of CPU per
// request instead of net/http's tens, and leaves the CPU to the server.
type Load struct {
	Addr        string
	Conns       int
	Duration    time.Duration
	MaxRequests int64
	// Request returns the i-th request of connection c (i counts from 0).
	Request func(c int, i int64) []byte
	// Check, when set, inspects an answer (status, headers) and returns a
	// problem to count as a failure.
	Check func(status int, header []byte) error
}

// LoadResult is what a load run saw.
type LoadResult struct {
	Requests int64
	Status   map[int]int64
	Failures int64 // transport errors and Check failures
	FirstErr string
	Elapsed  time.Duration
	P50, P90 time.Duration
	P99      time.Duration
	P999     time.Duration
	Max      time.Duration
}

// Rate is answered requests per second.
func (r LoadResult) Rate() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// Run drives the load and returns when every connection has finished.
func (l Load) Run(ctx context.Context) (LoadResult, error) {
	var res LoadResult
	res.Status = map[int]int64{}
	lat := make([][]time.Duration, l.Conns)
	status := make([]map[int]int64, l.Conns)
	var sent, failures atomic.Int64
	var errOnce sync.Once
	fail := func(err error) {
		failures.Add(1)
		errOnce.Do(func() { res.FirstErr = err.Error() })
	}
	ctx, cancel := context.WithTimeout(ctx, l.Duration)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for c := range l.Conns {
		lat[c] = make([]time.Duration, 0, 1<<14)
		status[c] = map[int]int64{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var conn net.Conn
			var br *bufio.Reader
			defer func() {
				if conn != nil {
					conn.Close()
				}
			}()
			for i := int64(0); ctx.Err() == nil; i++ {
				if l.MaxRequests > 0 && sent.Add(1) > l.MaxRequests {
					return
				}
				if conn == nil {
					var err error
					if conn, err = net.Dial("tcp", l.Addr); err != nil {
						fail(err)
						return
					}
					br = bufio.NewReaderSize(conn, 16<<10)
				}
				req := l.Request(c, i)
				t0 := time.Now()
				if _, err := conn.Write(req); err != nil {
					fail(err)
					conn.Close()
					conn = nil
					continue
				}
				code, hdr, keep, err := readResponse(br)
				if err != nil {
					if ctx.Err() == nil {
						fail(err)
					}
					conn.Close()
					conn = nil
					continue
				}
				lat[c] = append(lat[c], time.Since(t0))
				status[c][code]++
				if l.Check != nil {
					if err := l.Check(code, hdr); err != nil {
						fail(err)
					}
				}
				if !keep {
					conn.Close()
					conn = nil
				}
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	all := slices.Concat(lat...)
	slices.Sort(all)
	res.Requests = int64(len(all))
	for _, m := range status {
		for k, v := range m {
			res.Status[k] += v
		}
	}
	res.Failures = failures.Load()
	if len(all) == 0 {
		return res, fmt.Errorf("no request was answered (%s)", res.FirstErr)
	}
	q := func(p float64) time.Duration { return all[min(len(all)-1, int(float64(len(all))*p))] }
	res.P50, res.P90, res.P99, res.P999, res.Max = q(0.50), q(0.90), q(0.99), q(0.999), all[len(all)-1]
	return res, nil
}

var (
	crlf      = []byte("\r\n")
	errShort  = errors.New("malformed HTTP response")
	hdrCL     = []byte("content-length:")
	hdrConn   = []byte("connection:")
	hdrChunk  = []byte("transfer-encoding:")
	closeWord = []byte("close")
)

// readResponse reads one HTTP/1.1 response: status code, raw header block,
// whether the connection stays open. Bodies are length-delimited or chunked.
func readResponse(br *bufio.Reader) (int, []byte, bool, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, nil, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, nil, false, errShort
	}
	code, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, nil, false, errShort
	}
	var hdr []byte
	length, chunked, keep := int64(-1), false, true
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return 0, nil, false, err
		}
		if len(line) <= 2 {
			break
		}
		hdr = append(hdr, line...)
		l := bytes.ToLower(bytes.TrimRight(line, "\r\n"))
		switch {
		case bytes.HasPrefix(l, hdrCL):
			length, err = strconv.ParseInt(string(bytes.TrimSpace(l[len(hdrCL):])), 10, 64)
			if err != nil {
				return 0, nil, false, errShort
			}
		case bytes.HasPrefix(l, hdrConn):
			keep = !bytes.Contains(l, closeWord)
		case bytes.HasPrefix(l, hdrChunk):
			chunked = bytes.Contains(l, []byte("chunked"))
		}
	}
	switch {
	case chunked:
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				return 0, nil, false, err
			}
			n, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.SplitN(line, []byte(";"), 2)[0])), 16, 64)
			if err != nil {
				return 0, nil, false, errShort
			}
			if _, err := br.Discard(int(n) + len(crlf)); err != nil {
				return 0, nil, false, err
			}
			if n == 0 {
				break
			}
		}
	case length > 0:
		if _, err := io.CopyN(io.Discard, br, length); err != nil {
			return 0, nil, false, err
		}
	case length < 0 && code != 204 && code != 304:
		return code, hdr, false, nil // read to close: not used by the server
	}
	return code, hdr, keep, nil
}
