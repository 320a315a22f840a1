package conformance

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Environment knobs (all optional):
//
//	PLUME_REQUIRE_APACHE=1        a missing /usr/sbin/apache2 fails instead of skipping
//	PLUME_CONFORMANCE_AREAS=a,b   run these areas instead of testdata/conformance/AREAS ("all": every area)
//	PLUME_CONFORMANCE_SUBJECT=apache2  compare apache2 with itself (proves the harness and the cases)
//	PLUME_CONFORMANCE_CASE=substr only cases whose name contains substr
//	PLUME_CONFORMANCE_KEEP=1      keep the case directories
//	PLUME_CONFORMANCE_USER=name   the account servers run as (default www-data, else nobody)
//	PLUME_CONFORMANCE_JOBS=n      cases run at once (default 6)
//	PLUME_CONFORMANCE_TRACE=1     log every exchange (status, type, length, Location, AH codes)

const casesDir = "../testdata/conformance"

// corpusDir is the shared corpus of real-world configurations, beside the
// checkout (see /work/shared/corpus/README.md).
const corpusDir = "../../shared/corpus"

var update = flag.Bool("update", false, "rewrite each case's expect-configtest member with apache2's output")

var totals struct {
	sync.Mutex
	cases, checks, matched, deliberate, failed, skipped int
}

func TestMain(m *testing.M) {
	if conf := os.Getenv("CONFORMANCE_FAKE_SERVER"); conf != "" {
		fakeServer(conf, os.Getenv("CONFORMANCE_FAKE_MODE"))
		return
	}
	code := m.Run()
	if buildOnce.bin != "" {
		os.RemoveAll(filepath.Dir(buildOnce.bin))
	}
	totals.Lock()
	if totals.cases > 0 {
		fmt.Printf("conformance: %d cases, %d requests run, %d matched, %d deliberate differences, %d failed\n",
			totals.cases, totals.checks, totals.matched, totals.deliberate, totals.failed)
	}
	totals.Unlock()
	os.Exit(code)
}

// requireApache skips (or, under PLUME_REQUIRE_APACHE=1, fails) when the
// oracle is missing.
func requireApache(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(ApacheBin); err != nil {
		if os.Getenv("PLUME_REQUIRE_APACHE") == "1" {
			t.Fatalf("PLUME_REQUIRE_APACHE=1 but %s is missing: %v", ApacheBin, err)
		}
		t.Skipf("%s not installed", ApacheBin)
	}
}

var buildOnce struct {
	sync.Once
	bin string
	err error
}

// buildPlume builds the binary once per test run from the repository root.
func buildPlume(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "plume-conformance-bin-")
		if err != nil {
			buildOnce.err = err
			return
		}
		_ = os.Chmod(dir, 0o755)
		bin := filepath.Join(dir, "plume")
		cmd := exec.Command("go", "build", "-o", bin, ".")
		cmd.Dir = ".."
		out, err := cmd.CombinedOutput()
		if err != nil {
			os.RemoveAll(dir)
			buildOnce.err = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		buildOnce.bin = bin
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.bin
}

// newTestRunner makes a runner comparing apache2 with Plume (built from
// the tree), or with apache2 itself when withPlume is false or
// PLUME_CONFORMANCE_SUBJECT=apache2.
func newTestRunner(t *testing.T, withPlume bool) *Runner {
	t.Helper()
	requireApache(t)
	subject := Apache(ApacheBin)
	if withPlume && os.Getenv("PLUME_CONFORMANCE_SUBJECT") != "apache2" {
		subject = Plume(buildPlume(t))
	}
	base, err := os.MkdirTemp("", "plume-conformance-")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(base, 0o755)
	keep := os.Getenv("PLUME_CONFORMANCE_KEEP") == "1"
	if !keep {
		t.Cleanup(func() { os.RemoveAll(base) })
	}
	// The servers' account: the one asked for, else the first of
	// www-data and nobody that exists.
	var rn *Runner
	users := []string{"www-data", "nobody"}
	if u := os.Getenv("PLUME_CONFORMANCE_USER"); u != "" {
		users = []string{u}
	}
	for _, u := range users {
		if rn, err = NewRunner(Apache(ApacheBin), subject, u, base); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	rn.Keep = keep
	rn.Trace = os.Getenv("PLUME_CONFORMANCE_TRACE") == "1"
	return rn
}

// enabledAreas reads AREAS, or PLUME_CONFORMANCE_AREAS when set (which
// then also lifts AREAS's per-case exclusions).
func enabledAreas(t *testing.T) *Areas {
	t.Helper()
	if env := os.Getenv("PLUME_CONFORMANCE_AREAS"); env != "" {
		a := &Areas{Enabled: map[string]bool{}, Excluded: map[string]string{}, ExcludedChecks: map[string]map[string]string{}}
		if env == "all" {
			cases, err := LoadCases(casesDir)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range append(cases, Generated(GeneratorSeed)...) {
				a.Enabled[c.Area] = true
			}
			return a
		}
		for _, name := range strings.Split(env, ",") {
			a.Enabled[strings.TrimSpace(name)] = true
		}
		return a
	}
	a, err := ReadAreas(filepath.Join(casesDir, "AREAS"))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// allCases is every hand-written case plus every generated one.
func allCases(t *testing.T) []*Case {
	t.Helper()
	cases, err := LoadCases(casesDir)
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases, Generated(GeneratorSeed)...)
	corpus, err := CorpusCases(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases, corpus...)
	if f := os.Getenv("PLUME_CONFORMANCE_CASE"); f != "" {
		var keep []*Case
		for _, c := range cases {
			if strings.Contains(c.Name, f) {
				keep = append(keep, c)
			}
		}
		cases = keep
	}
	return cases
}

// runAll runs cases concurrently (servers mostly wait on each other, so
// more than GOMAXPROCS at once pays) and returns results in case order.
func runAll(rn *Runner, cases []*Case) []*Result {
	jobs := 6
	if n, err := fmt.Sscan(os.Getenv("PLUME_CONFORMANCE_JOBS"), &jobs); n != 1 || err != nil || jobs < 1 {
		jobs = 6
	}
	results := make([]*Result, len(cases))
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	for i, c := range cases {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = rn.Run(c)
		}()
	}
	wg.Wait()
	return results
}

// TestConformance runs every case of every enabled area against apache2
// and Plume and fails on any unexplained difference.
func TestConformance(t *testing.T) {
	enabled := enabledAreas(t)
	cases := allCases(t)
	var run []*Case
	skipped := map[string]int{}
	known := map[string]bool{}
	for _, c := range cases {
		known[c.Name] = true
		switch {
		case !enabled.Enabled[c.Area]:
			skipped[c.Area]++
		case enabled.Excluded[c.Name] != "":
			t.Logf("excluded by AREAS: %s (%s)", c.Name, enabled.Excluded[c.Name])
		default:
			if skip := enabled.ExcludedChecks[c.Name]; skip != nil {
				// A copy: the oracle self-check runs the same cases whole.
				cc := *c
				cc.Skip = skip
				c = &cc
				for ch, reason := range skip {
					t.Logf("excluded by AREAS: %s check %s (%s)", c.Name, ch, reason)
				}
			}
			run = append(run, c)
		}
	}
	for name := range enabled.ExcludedChecks {
		enabled.Excluded[name] = "(checks)"
	}
	for name := range enabled.Excluded {
		if !known[name] && os.Getenv("PLUME_CONFORMANCE_CASE") == "" {
			t.Errorf("AREAS excludes %s, which is not a case", name)
		}
	}
	if len(skipped) > 0 {
		var names []string
		for a, n := range skipped {
			names = append(names, fmt.Sprintf("%s (%d cases)", a, n))
		}
		sort.Strings(names)
		t.Logf("areas not enabled in AREAS: %s", strings.Join(names, ", "))
	}
	if len(run) == 0 {
		t.Skip("no enabled area")
	}
	rn := newTestRunner(t, true)
	if rn.Subject.Name == rn.Oracle.Name {
		// apache2 against itself: Plume's declared differences do not apply.
		for i, c := range run {
			cc := *c
			cc.Differences = nil
			run[i] = &cc
		}
	}
	results := runAll(rn, run)
	for _, res := range results {
		totals.Lock()
		totals.cases++
		totals.checks += res.Checks
		totals.matched += res.Matched
		totals.deliberate += res.Deliberate
		totals.failed += res.Failed
		totals.skipped += res.Skipped
		totals.Unlock()
		if *update && res.Case.Path != "" && res.Case.ExpectConfigtest != nil {
			data, err := os.ReadFile(res.Case.Path)
			if err == nil {
				data, err = ReplaceMember(data, "expect-configtest", res.OracleConfigtest+"\n")
			}
			if err == nil {
				err = os.WriteFile(res.Case.Path, data, 0o644)
			}
			if err != nil {
				t.Errorf("update %s: %v", res.Case.Path, err)
			}
		}
		t.Run(res.Case.Name, func(t *testing.T) {
			if res.Trace.Len() > 0 {
				t.Logf("trace:\n%s", res.Trace.String())
			}
			if len(res.NowMatching) > 0 {
				t.Logf("%s: checks %s are left out by AREAS but now match apache2: remove them from AREAS",
					res.Case.Name, strings.Join(res.NowMatching, ","))
			}
			if res.Failed > 0 {
				t.Errorf("%s: %d of %d checks differ from %s\n%s", res.Case.Name, res.Failed, res.Checks, rn.Oracle.Name, res.Report.String())
			}
		})
	}
	t.Logf("conformance: %d cases, %d requests run, %d matched, %d deliberate differences, %d failed",
		totals.cases, totals.checks, totals.matched, totals.deliberate, totals.failed)
	if totals.skipped > 0 {
		t.Logf("conformance: %d checks left out by AREAS", totals.skipped)
	}
}

// TestOracleSelfConsistency runs every case, enabled or not, with apache2
// on both sides. It proves each case is valid (Apache accepts the config
// when there are requests, expect-configtest still holds) and that the
// harness compares deterministically, so a case can be trusted the day
// its area is enabled for Plume.
func TestOracleSelfConsistency(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	rn := newTestRunner(t, false)
	var cases []*Case
	for _, c := range allCases(t) {
		// Declared differences are Plume's; apache2 must agree with itself.
		cc := *c
		cc.Differences = nil
		cases = append(cases, &cc)
	}
	results := runAll(rn, cases)
	checks, failed := 0, 0
	for _, res := range results {
		checks += res.Checks
		failed += res.Failed
		if res.Failed > 0 {
			t.Errorf("%s: apache2 disagrees with itself or with the case on %d of %d checks\n%s", res.Case.Name, res.Failed, res.Checks, res.Report.String())
		}
	}
	t.Logf("oracle self-check: %d cases, %d checks, %d failed", len(results), checks, failed)
}
