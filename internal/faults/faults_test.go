package faults

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

func TestArmParses(t *testing.T) {
	defer func() { _ = Arm("") }()
	for _, bad := range []string{"send.nope:1", "send.after_smtp:0", "send.after_smtp:x", "import.after_batch:-2"} {
		if err := Arm(bad); err == nil {
			t.Errorf("Arm(%q) accepted", bad)
		}
	}
	if err := Arm(" send.after_smtp:3 , import.after_batch "); err != nil {
		t.Fatal(err)
	}
	if !armed.Load() || points[SendAfterSMTP].at != 3 || points[ImportAfterBatch].at != 1 || len(points) != 2 {
		t.Fatalf("armed %v, points %v", armed.Load(), points)
	}
	if err := Arm(""); err != nil || armed.Load() {
		t.Fatalf("disarm: %v, armed %v", err, armed.Load())
	}
}

func TestPointKillsOnTheNthHit(t *testing.T) {
	defer func() { _ = Arm("") }()
	old := kill
	defer func() { kill = old }()
	killed := 0
	kill = func() { killed++ }
	if err := Arm(SendAfterSMTP + ":3"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		Point(SendAfterSMTP)
		Point(SendClaimed) // not armed: never kills
		want := 0
		if i >= 3 {
			want = 1
		}
		if killed != want {
			t.Fatalf("after hit %d: killed %d times, want %d", i, killed, want)
		}
	}
	if Hits(SendAfterSMTP) != 5 || Hits(SendClaimed) != 0 {
		t.Fatalf("hits %d, %d", Hits(SendAfterSMTP), Hits(SendClaimed))
	}
}

// The real thing: a process armed through the environment dies by SIGKILL
// at the armed hit, after saying where.
func TestPointSIGKILLsTheProcess(t *testing.T) {
	if os.Getenv("FAULTS_CHILD") == "1" {
		for range 5 {
			Point(WebhookAfterCall)
		}
		os.Exit(0) // not reached when armed
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run", "^TestPointSIGKILLsTheProcess$")
	cmd.Env = append(os.Environ(), "FAULTS_CHILD=1", EnvVar+"="+WebhookAfterCall+":2")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child: %v, want killed", err)
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want SIGKILL", ee)
	}
	if !strings.Contains(stderr.String(), "faults: SIGKILL at webhook.after_call (hit 2)") {
		t.Fatalf("stderr: %q", stderr.String())
	}
}
