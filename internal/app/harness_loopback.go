//go:build faultharness

package app

import "os"

// The fault-injection harness (internal/faults) builds the binary with
// -tags faultharness so the `serve` processes it kills can deliver webhooks
// to its receiver on 127.0.0.1. No release build has this file: there the
// variable below stays false whatever the environment says.
func init() { harnessLoopbackWebhooks = os.Getenv("RIGHTSIZE_HARNESS_LOOPBACK_WEBHOOKS") == "1" }
