// Package security holds Rightsize's security matrix: tests that walk every
// route of the UI (web.UI.Routes) and of the REST API (api.API.Routes) as each
// role, by session and by API key, and check who gets in (the one declarative
// table in matrix_test.go, rendered into docs/security.md), that another
// workspace's ids answer 404 without a side effect, that a cross-origin
// state-changing request is refused before any handler, and that no GET
// changes the database. A route added to either table without a matrix entry
// fails the tests. The package has no code of its own.
package security
