// Package config loads Rightsize's settings with a fixed precedence: built-in
// defaults < a JSON config file < RIGHTSIZE_* environment variables < command-line
// flags, and validates the result with messages that name the setting.
package config

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of the serve command (other commands use a subset).
type Config struct {
	Addr            string        `json:"addr"`
	DB              string        `json:"db"`
	BaseURL         string        `json:"base_url"`
	LogLevel        string        `json:"log_level"`
	LogFormat       string        `json:"log_format"`
	Demo            bool          `json:"demo"`
	MaxBodyBytes    int64         `json:"max_body_bytes"`
	MaxUploadBytes  int64         `json:"max_upload_bytes"`
	ShutdownTimeout time.Duration `json:"shutdown_timeout"`
	Workers         int           `json:"workers"`
	// Role is what a serve process runs (docs/scaling.md): RoleAll (HTTP and
	// job workers), RoleWeb (HTTP only; inserts jobs) or RoleWorker (job
	// workers; HTTP only for /healthz, /readyz and /metrics).
	Role string `json:"role"`
	// Mail delivery (docs/mail.md). SMTPHost "" turns sending off: sends stay planned.
	SMTPHost     string `json:"smtp_host"`
	SMTPPort     int    `json:"smtp_port"`
	SMTPUsername string `json:"smtp_username"`
	SMTPPassword string `json:"smtp_password"`
	// SMTPTLS is starttls-opportunistic, starttls-mandatory or none.
	SMTPTLS   string `json:"smtp_tls"`
	SMTPConns int    `json:"smtp_conns"`
	// MailSecret signs unsubscribe tokens; empty: one generated secret kept in the DB.
	MailSecret string `json:"mail_secret"`
	// MailHookSecret authenticates POST /hooks/mail/events; empty turns the hook off.
	MailHookSecret string `json:"mail_hook_secret"`
	// MailFrom is the From address of the install's own mail (password reset
	// links); empty: no-reply@ the base URL's host.
	MailFrom string `json:"mail_from"`
	// EngageEarlyAck is how many answered open-pixel and click events may
	// wait for the disk (docs/mail.md "Open and click tracking"): a request
	// is answered at once while fewer are waiting, and a crash loses at most
	// that many. 0 answers each request only once its event is durable.
	EngageEarlyAck int `json:"engage_early_ack"`
}

// Serve roles.
const (
	RoleAll    = "all"
	RoleWeb    = "web"
	RoleWorker = "worker"
)

// Defaults are the zero-setup values: a SQLite file in the working directory.
func Defaults() Config {
	return Config{
		Addr:            "127.0.0.1:8080",
		DB:              "rightsize.db",
		LogLevel:        "info",
		LogFormat:       "text",
		MaxBodyBytes:    1 << 20,
		MaxUploadBytes:  512 << 20,
		ShutdownTimeout: 30 * time.Second,
		Workers:         4,
		Role:            RoleAll,
		SMTPPort:        587,
		SMTPTLS:         "starttls-mandatory",
		SMTPConns:       8,
		EngageEarlyAck:  8192,
	}
}

// Load fills cfg from the config file named by --config or RIGHTSIZE_CONFIG, then the
// environment, then the flags actually set on fs. fs must already be parsed and
// define the flags through Bind.
func Load(fs *flag.FlagSet, cfg *Config, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	file := os.Getenv("RIGHTSIZE_CONFIG")
	if f := fs.Lookup("config"); f != nil && f.Value.String() != "" {
		file = f.Value.String()
	}
	base := Defaults()
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("config: %w", err)
		}
		if err := decodeFile(b, &base); err != nil {
			return fmt.Errorf("config %s: %w", file, err)
		}
	}
	if err := fromEnv(&base); err != nil {
		return err
	}
	// Flags the user set win; unset flags take the file/env value.
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	keep := *cfg
	*cfg = base
	if set["addr"] {
		cfg.Addr = keep.Addr
	}
	if set["db"] {
		cfg.DB = keep.DB
	}
	if set["base-url"] {
		cfg.BaseURL = keep.BaseURL
	}
	if set["log-level"] {
		cfg.LogLevel = keep.LogLevel
	}
	if set["log-format"] {
		cfg.LogFormat = keep.LogFormat
	}
	if set["demo"] {
		cfg.Demo = keep.Demo
	}
	if set["workers"] {
		cfg.Workers = keep.Workers
	}
	if set["role"] {
		cfg.Role = keep.Role
	}
	return cfg.Validate()
}

// Bind defines the shared flags on fs, writing into cfg.
func Bind(fs *flag.FlagSet, cfg *Config, serve bool) {
	d := Defaults()
	fs.String("config", "", "JSON config file (env RIGHTSIZE_CONFIG)")
	fs.StringVar(&cfg.DB, "db", d.DB, "SQLite file path or postgres:// URL (env RIGHTSIZE_DB)")
	fs.StringVar(&cfg.LogLevel, "log-level", d.LogLevel, "debug, info, warn or error (env RIGHTSIZE_LOG_LEVEL)")
	fs.StringVar(&cfg.LogFormat, "log-format", d.LogFormat, "text or json (env RIGHTSIZE_LOG_FORMAT)")
	if serve {
		fs.StringVar(&cfg.Addr, "addr", d.Addr, "listen address host:port (env RIGHTSIZE_ADDR)")
		fs.StringVar(&cfg.BaseURL, "base-url", "", "public URL, e.g. https://crm.example.com; https turns on Secure cookies (env RIGHTSIZE_BASE_URL)")
		fs.BoolVar(&cfg.Demo, "demo", false, "seed a demo workspace when the database is empty (env RIGHTSIZE_DEMO)")
		fs.IntVar(&cfg.Workers, "workers", d.Workers, "background job workers (env RIGHTSIZE_WORKERS)")
		fs.StringVar(&cfg.Role, "role", d.Role, "all (HTTP and jobs), web (HTTP, no jobs) or worker (jobs; HTTP only /healthz, /readyz, /metrics); web and worker need PostgreSQL (env RIGHTSIZE_ROLE)")
	}
}

func decodeFile(b []byte, c *Config) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := lineCol(b, se.Offset)
			return fmt.Errorf("%d:%d: %v", line, col, err)
		}
		return err
	}
	for k, v := range raw {
		var err error
		switch k {
		case "addr":
			err = json.Unmarshal(v, &c.Addr)
		case "db":
			err = json.Unmarshal(v, &c.DB)
		case "base_url":
			err = json.Unmarshal(v, &c.BaseURL)
		case "log_level":
			err = json.Unmarshal(v, &c.LogLevel)
		case "log_format":
			err = json.Unmarshal(v, &c.LogFormat)
		case "demo":
			err = json.Unmarshal(v, &c.Demo)
		case "max_body_bytes":
			err = json.Unmarshal(v, &c.MaxBodyBytes)
		case "max_upload_bytes":
			err = json.Unmarshal(v, &c.MaxUploadBytes)
		case "workers":
			err = json.Unmarshal(v, &c.Workers)
		case "role":
			err = json.Unmarshal(v, &c.Role)
		case "smtp_host":
			err = json.Unmarshal(v, &c.SMTPHost)
		case "smtp_port":
			err = json.Unmarshal(v, &c.SMTPPort)
		case "smtp_username":
			err = json.Unmarshal(v, &c.SMTPUsername)
		case "smtp_password":
			err = json.Unmarshal(v, &c.SMTPPassword)
		case "smtp_tls":
			err = json.Unmarshal(v, &c.SMTPTLS)
		case "smtp_conns":
			err = json.Unmarshal(v, &c.SMTPConns)
		case "engage_early_ack":
			err = json.Unmarshal(v, &c.EngageEarlyAck)
		case "mail_secret":
			err = json.Unmarshal(v, &c.MailSecret)
		case "mail_hook_secret":
			err = json.Unmarshal(v, &c.MailHookSecret)
		case "mail_from":
			err = json.Unmarshal(v, &c.MailFrom)
		case "shutdown_timeout":
			var s string
			if err = json.Unmarshal(v, &s); err == nil {
				c.ShutdownTimeout, err = time.ParseDuration(s)
			}
		default:
			return fmt.Errorf("unknown setting %q", k)
		}
		if err != nil {
			return fmt.Errorf("setting %q: %v", k, err)
		}
	}
	return nil
}

func lineCol(b []byte, off int64) (int, int) {
	line, col := 1, 1
	for i := int64(0); i < off-1 && i < int64(len(b)); i++ {
		if b[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

func fromEnv(c *Config) error {
	str := func(k string, dst *string) {
		if v, ok := os.LookupEnv(k); ok {
			*dst = v
		}
	}
	str("RIGHTSIZE_ADDR", &c.Addr)
	str("RIGHTSIZE_DB", &c.DB)
	str("RIGHTSIZE_BASE_URL", &c.BaseURL)
	str("RIGHTSIZE_LOG_LEVEL", &c.LogLevel)
	str("RIGHTSIZE_LOG_FORMAT", &c.LogFormat)
	str("RIGHTSIZE_SMTP_HOST", &c.SMTPHost)
	str("RIGHTSIZE_SMTP_USERNAME", &c.SMTPUsername)
	str("RIGHTSIZE_SMTP_PASSWORD", &c.SMTPPassword)
	str("RIGHTSIZE_SMTP_TLS", &c.SMTPTLS)
	str("RIGHTSIZE_MAIL_SECRET", &c.MailSecret)
	str("RIGHTSIZE_MAIL_HOOK_SECRET", &c.MailHookSecret)
	str("RIGHTSIZE_MAIL_FROM", &c.MailFrom)
	str("RIGHTSIZE_ROLE", &c.Role)
	for k, dst := range map[string]*int{"RIGHTSIZE_SMTP_PORT": &c.SMTPPort, "RIGHTSIZE_SMTP_CONNS": &c.SMTPConns, "RIGHTSIZE_ENGAGE_EARLY_ACK": &c.EngageEarlyAck} {
		if v, ok := os.LookupEnv(k); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("config: %s=%q is not a number", k, v)
			}
			*dst = n
		}
	}
	if v, ok := os.LookupEnv("RIGHTSIZE_DEMO"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("config: RIGHTSIZE_DEMO=%q is not true or false", v)
		}
		c.Demo = b
	}
	if v, ok := os.LookupEnv("RIGHTSIZE_WORKERS"); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("config: RIGHTSIZE_WORKERS=%q is not a number", v)
		}
		c.Workers = n
	}
	return nil
}

// Validate checks every setting and names the bad one.
func (c *Config) Validate() error {
	var errs []string
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Sprintf("addr %q: want host:port (%v)", c.Addr, err))
	}
	if strings.TrimSpace(c.DB) == "" {
		errs = append(errs, "db: empty; give a SQLite file path or a postgres:// URL")
	}
	if c.BaseURL != "" && !strings.HasPrefix(c.BaseURL, "http://") && !strings.HasPrefix(c.BaseURL, "https://") {
		errs = append(errs, fmt.Sprintf("base_url %q: must start with http:// or https://", c.BaseURL))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Sprintf("log_level %q: want debug, info, warn or error", c.LogLevel))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Sprintf("log_format %q: want text or json", c.LogFormat))
	}
	if c.Workers < 1 || c.Workers > 1000 {
		errs = append(errs, fmt.Sprintf("workers %d: want 1..1000", c.Workers))
	}
	switch c.Role {
	case RoleAll, RoleWeb, RoleWorker:
	default:
		errs = append(errs, fmt.Sprintf("role %q: want all, web or worker", c.Role))
	}
	switch c.SMTPTLS {
	case "starttls-opportunistic", "starttls-mandatory", "none":
	default:
		errs = append(errs, fmt.Sprintf("smtp_tls %q: want starttls-opportunistic, starttls-mandatory or none", c.SMTPTLS))
	}
	if c.SMTPPort < 1 || c.SMTPPort > 65535 {
		errs = append(errs, fmt.Sprintf("smtp_port %d: want 1..65535", c.SMTPPort))
	}
	if c.SMTPConns < 1 || c.SMTPConns > 100 {
		errs = append(errs, fmt.Sprintf("smtp_conns %d: want 1..100", c.SMTPConns))
	}
	if c.EngageEarlyAck < 0 || c.EngageEarlyAck > 50000 {
		errs = append(errs, fmt.Sprintf("engage_early_ack %d: want 0..50000 (0: answer opens and clicks only once stored)", c.EngageEarlyAck))
	}
	if c.MailFrom != "" && (!strings.Contains(c.MailFrom, "@") || strings.ContainsAny(c.MailFrom, "\r\n<> ")) {
		errs = append(errs, fmt.Sprintf("mail_from %q: want a plain address like no-reply@example.com", c.MailFrom))
	}
	if c.MaxBodyBytes < 1024 {
		errs = append(errs, "max_body_bytes: at least 1024")
	}
	if len(errs) > 0 {
		return errors.New("config: " + strings.Join(errs, "; "))
	}
	return nil
}

// SecureCookies reports whether cookies must carry Secure (the public URL is https).
// PublicURL is where links in emails and embed snippets point: base_url, or
// the listen address when none is set (fine on one machine; set base_url for
// anything others open).
func (c *Config) PublicURL() string {
	if c.BaseURL != "" {
		return strings.TrimRight(c.BaseURL, "/")
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return "http://" + c.Addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func (c *Config) SecureCookies() bool { return strings.HasPrefix(c.BaseURL, "https://") }
