// Package e2e drives the whole product through a real Chromium: a user signs in
// through the login form, creates records through the forms, uploads a file on
// the import page and reads the reconciliation report. The tests live in
// *_test.go files; they skip when no Chromium is installed unless
// RIGHTSIZE_TEST_BROWSER=1 demands one. Full-page screenshots of the main pages
// are written to the test's temp dir and, when RIGHTSIZE_SCREENSHOT_DIR is set,
// into that directory too.
package e2e
