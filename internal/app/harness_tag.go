//go:build faultharness

package app

import (
	"os"
	"strconv"
)

// The fault-injection harness (internal/faults) builds the binary with
// -tags faultharness so the `serve` processes it kills can deliver webhooks
// to its receiver on 127.0.0.1 and cut imports into small batches. No
// release build has this file: there the variables below keep their zero
// values whatever the environment says.
func init() {
	harnessLoopbackWebhooks = os.Getenv("RIGHTSIZE_HARNESS_LOOPBACK_WEBHOOKS") == "1"
	harnessImportBatch, _ = strconv.Atoi(os.Getenv("RIGHTSIZE_HARNESS_IMPORT_BATCH"))
}
