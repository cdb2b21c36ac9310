package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// engage_early_ack: 8192 by default, set from the file or the environment
// (the environment wins), 0 allowed (answer each open and click once
// stored), and a bad value is an error that names the setting.
func TestEngageEarlyAck(t *testing.T) {
	if d := Defaults().EngageEarlyAck; d != 8192 {
		t.Fatalf("default %d, want 8192", d)
	}
	// Each case in its own subtest: t.Setenv lasts until its test ends.
	load := func(file string, env map[string]string) (c Config, err error) {
		t.Helper()
		t.Run("", func(t *testing.T) { c, err = loadWith(t, file, env) })
		return c, err
	}
	if c, err := load(`{"engage_early_ack": 0}`, nil); err != nil || c.EngageEarlyAck != 0 {
		t.Fatalf("file 0: %d %v", c.EngageEarlyAck, err)
	}
	if c, err := load(`{"engage_early_ack": 100}`, map[string]string{"RIGHTSIZE_ENGAGE_EARLY_ACK": "500"}); err != nil || c.EngageEarlyAck != 500 {
		t.Fatalf("env over file: %d %v", c.EngageEarlyAck, err)
	}
	for _, bad := range []struct{ file, env string }{{`{"engage_early_ack": -1}`, ""}, {"", "60000"}, {"", "many"}} {
		env := map[string]string{}
		if bad.env != "" {
			env["RIGHTSIZE_ENGAGE_EARLY_ACK"] = bad.env
		}
		if _, err := load(bad.file, env); err == nil || !strings.Contains(strings.ToLower(err.Error()), "engage_early_ack") {
			t.Errorf("%+v: error %v, want one naming engage_early_ack", bad, err)
		}
	}
}

func loadWith(t *testing.T, file string, env map[string]string) (Config, error) {
	for k, v := range env {
		t.Setenv(k, v)
	}
	var args []string
	if file != "" {
		p := filepath.Join(t.TempDir(), "c.json")
		if err := os.WriteFile(p, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		args = []string{"--config", p}
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg := Defaults()
	Bind(fs, &cfg, true)
	if err := Load(fs, &cfg, args); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}
