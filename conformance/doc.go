// Package conformance is the differential suite: each case (a config, a
// document tree and a list of requests, under testdata/conformance) is run
// against Debian's apache2 and against Plume in the same test run, and
// their answers (status, the headers that matter, bodies, configtest
// verdicts, error-log AH codes) are compared.
package conformance
