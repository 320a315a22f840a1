// Package conformance is the differential suite: each case (a config, a
// document tree and a list of requests, under testdata/conformance) is run
// against Debian's apache2 and against Plume in the same test run, and
// their answers (status, the headers that matter, bodies, configtest
// verdicts, error-log AH codes) are compared.
//
// Cases are txtar files (ParseCase, LoadCases; format in
// testdata/conformance/README.md) or generated in memory (Generated). A
// Runner writes one copy of a case per server, runs both config tests,
// starts both servers on free loopback ports as an unprivileged user,
// sends every request raw over TCP to each, and classifies every check as
// matched, a declared (deliberate) difference, or failed. Only the areas
// listed in testdata/conformance/AREAS are compared with Plume in
// `go test`; the summary line is
//
//	conformance: N cases, R requests run, M matched, D deliberate differences, F failed
//
// where R counts each HTTP request and each config test.
package conformance
