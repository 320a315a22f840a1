package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Runner runs cases against the oracle and the engine under test.
type Runner struct {
	Oracle, Subject Engine
	Who             *runAs
	// BaseDir holds the per-case directories.
	BaseDir string
	// Keep leaves case directories in place (for debugging).
	Keep bool
	// SubjectCase, when set, replaces the case given to the subject (the
	// harness's own tests use it to prove mismatches are caught).
	SubjectCase func(*Case) *Case
	// RequestTimeout bounds each exchange (default RequestTimeout).
	RequestTimeout time.Duration
	// Trace records every exchange (status, type, length, log codes) in
	// Result.Trace, for writing and checking cases.
	Trace bool
}

// NewRunner prepares a runner whose servers run as the named account.
func NewRunner(oracle, subject Engine, user, baseDir string) (*Runner, error) {
	who, err := lookupRunAs(user)
	if err != nil {
		return nil, fmt.Errorf("account %s: %w", user, err)
	}
	if !who.Root {
		who.UID, who.GID = os.Getuid(), os.Getgid()
	}
	return &Runner{Oracle: oracle, Subject: subject, Who: who, BaseDir: baseDir, RequestTimeout: RequestTimeout}, nil
}

// Result is the outcome of one case.
type Result struct {
	Case *Case
	// Checks counts the configtest comparison and each request.
	Checks, Matched, Deliberate, Failed int
	// Skipped counts checks left out by Case.Skip; they still run, and
	// NowMatching lists those that agree with the oracle again (their
	// exclusion is stale).
	Skipped     int
	NowMatching []string
	Report      strings.Builder
	Trace       strings.Builder
	// OracleConfigtest is the oracle's normalised config-test message.
	OracleConfigtest string
}

func (res *Result) failf(format string, args ...any) {
	fmt.Fprintf(&res.Report, format, args...)
}

// side is one server's copy of a case.
type side struct {
	engine Engine
	root   string
	port   int
	norm   normalizer
	proc   *Process
	c      *Case
}

func (s *side) conf() string    { return filepath.Join(s.root, MainConf) }
func (s *side) logPath() string { return filepath.Join(s.root, "logs", "error.log") }

var caseSeq struct {
	sync.Mutex
	n int
}

// Run runs one case and returns its result; it never panics on bad
// servers and every wait in it is bounded.
func (rn *Runner) Run(c *Case) *Result {
	res := &Result{Case: c}
	caseSeq.Lock()
	caseSeq.n++
	seq := caseSeq.n
	caseSeq.Unlock()
	dir := filepath.Join(rn.BaseDir, fmt.Sprintf("%03d-%s", seq, strings.ReplaceAll(c.Name, "/", "-")))
	if !rn.Keep {
		defer os.RemoveAll(dir)
	}
	subjectCase := c
	if rn.SubjectCase != nil {
		subjectCase = rn.SubjectCase(c)
	}
	// Equal-length roots keep Content-Length equal when a body names them.
	sides := []*side{
		{engine: rn.Oracle, root: filepath.Join(dir, "srv-a"), c: c},
		{engine: rn.Subject, root: filepath.Join(dir, "srv-p"), c: subjectCase},
	}
	harnessErr := func(err error) *Result {
		res.Checks += 1 + len(c.Requests)
		res.Failed += 1 + len(c.Requests)
		res.failf("harness: %v\n", err)
		return res
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return harnessErr(err)
	}
	_ = os.Chmod(rn.BaseDir, 0o755)
	for _, s := range sides {
		p, err := freePort()
		if err != nil {
			return harnessErr(err)
		}
		s.port = p
		s.norm = normalizer{root: s.root, port: p, argv0: s.engine.Argv0}
		if err := materialize(s.c, s.root, p, rn.Who); err != nil {
			return harnessErr(fmt.Errorf("writing the case for %s: %w", s.engine.Name, err))
		}
	}
	oracle, under := sides[0], sides[1]

	// 1. Config test verdicts and messages.
	res.Checks++
	codeA, outA, errA := oracle.engine.Configtest(oracle.conf(), rn.Who)
	codeP, outP, errP := under.engine.Configtest(under.conf(), rn.Who)
	if errA != nil {
		res.Failed++
		res.failf("harness: %s config test: %v\n", oracle.engine.Name, errA)
		res.Checks += len(c.Requests)
		res.Failed += len(c.Requests)
		return res
	}
	normA, normP := oracle.norm.configtest(outA), under.norm.configtest(outP)
	res.OracleConfigtest = configtestMessage(normA)
	if c.ExpectConfigtest != nil && configtestMessage(normA) != *c.ExpectConfigtest {
		res.failf("oracle: %s -t no longer prints what the case expects:\n%s", oracle.engine.Name,
			textDiff(*c.ExpectConfigtest, configtestMessage(normA), "case", oracle.engine.Name))
		res.Failed++
	} else if _, skip := c.Skip["configtest"]; skip {
		res.Checks--
		res.Skipped++
		scratch := &Result{Case: c}
		rn.compareConfigtest(scratch, c, codeA, normA, codeP, normP, errP)
		if scratch.Failed == 0 {
			res.NowMatching = append(res.NowMatching, "configtest")
		}
	} else {
		rn.compareConfigtest(res, c, codeA, normA, codeP, normP, errP)
	}
	if codeA != 0 {
		// Apache refuses the config: there is nothing to serve. Requests
		// in such a case are a case-writing error.
		if len(c.Requests) > 0 {
			res.failf("case: %s rejects the config, but the case has requests:\n%s\n", oracle.engine.Name, res.OracleConfigtest)
			res.Checks += len(c.Requests)
			res.Failed += len(c.Requests)
		}
		return res
	}
	if len(c.Requests) == 0 {
		return res
	}

	// 2. Serve and compare each request.
	var startErr [2]error
	for i, s := range sides {
		s.proc, startErr[i] = s.engine.Start(s.conf(), s.port, rn.Who)
		defer s.proc.Stop()
	}
	if startErr[0] != nil {
		res.Checks += len(c.Requests)
		res.Failed += len(c.Requests)
		res.failf("harness: %v\n", clip(startErr[0].Error(), 2000))
		return res
	}
	if startErr[1] != nil {
		res.Checks += len(c.Requests)
		res.Failed += len(c.Requests)
		res.failf("%s did not start: %v\n", under.engine.Name, clip(startErr[1].Error(), 2000))
		return res
	}
	// Lines a server logs while its workers start (module init notices)
	// must not be blamed on the first request.
	for _, s := range sides {
		waitLogQuiet(s.logPath())
	}
	// A subject that hangs or dies would cost RequestTimeout per request:
	// after a few transport failures in a row (or its exit) the rest of
	// the case is failed without being sent.
	transportFailures := 0
	for i, r := range c.Requests {
		if transportFailures >= 3 || under.proc.Exited() {
			rest := len(c.Requests) - i
			res.Checks += rest
			res.Failed += rest
			res.failf("%s gave no valid response %d times in a row (exited: %v); %d remaining requests not sent. Its output:\n%s\n",
				under.engine.Name, transportFailures, under.proc.Exited(), rest, clip(under.proc.Output(), 2000))
			break
		}
		target := res
		if _, skip := c.Skip[strconv.Itoa(i+1)]; skip {
			res.Skipped++
			target = &Result{Case: c}
		}
		failedTransport := rn.compareRequest(target, c, i+1, r, oracle, under)
		if target != res && target.Failed == 0 {
			res.NowMatching = append(res.NowMatching, strconv.Itoa(i+1))
		}
		if failedTransport {
			transportFailures++
		} else {
			transportFailures = 0
		}
	}
	return res
}

func (rn *Runner) compareConfigtest(res *Result, c *Case, codeA int, normA string, codeP int, normP string, errP error) {
	var diffs []fieldDiff
	if errP != nil {
		diffs = append(diffs, fieldDiff{"configtest", normA, "error: " + errP.Error()})
	} else {
		if codeA != codeP {
			diffs = append(diffs, fieldDiff{"exit", strconv.Itoa(codeA), strconv.Itoa(codeP)})
		}
		if ma, mp := configtestMessage(normA), configtestMessage(normP); ma != mp {
			diffs = append(diffs, fieldDiff{"configtest", ma, mp})
		}
		if ca, cp := ahCodes(normA), ahCodes(normP); ca != cp {
			diffs = append(diffs, fieldDiff{"log", ca, cp})
		}
	}
	rn.settle(res, c, "configtest", "configtest", diffs)
}

// settle classifies one check's differences as matched, deliberate or
// failed, and writes the report for failures.
func (rn *Runner) settle(res *Result, c *Case, selector, title string, diffs []fieldDiff) {
	var unexplained []string
	deliberate := false
	for _, d := range diffs {
		decl := findDifference(c.Differences, selector, d.Field)
		if decl != nil && (decl.Value == "*" || decl.Value == d.Under) {
			deliberate = true
			continue
		}
		msg := describeDiff(d, rn.Oracle.Name, rn.Subject.Name)
		if decl != nil {
			msg += fmt.Sprintf("    (declared difference on line %d expects %s %q)\n", decl.Line, rn.Subject.Name, decl.Value)
		}
		unexplained = append(unexplained, msg)
	}
	// A declared difference for this very check that did not happen is
	// stale: the declaration must go.
	for _, d := range c.Differences {
		// "*" values declare what may differ; a stated value must occur.
		if d.Selector != selector || d.Value == "*" {
			continue
		}
		found := false
		for _, fd := range diffs {
			found = found || strings.EqualFold(fd.Field, d.Field)
		}
		if !found {
			unexplained = append(unexplained, fmt.Sprintf("  %s: declared difference (line %d: %s) did not occur; remove it\n", d.Field, d.Line, d.Reason))
		}
	}
	switch {
	case len(unexplained) > 0:
		res.Failed++
		res.failf("%s\n%s", title, strings.Join(unexplained, ""))
	case deliberate:
		res.Deliberate++
	default:
		res.Matched++
	}
}

// compareRequest sends r to both servers and settles the comparison. It
// reports whether the subject failed to give any valid response.
func (rn *Runner) compareRequest(res *Result, c *Case, n int, r Request, oracle, under *side) (subjectFailed bool) {
	res.Checks++
	title := fmt.Sprintf("request %d (line %d): %s", n, r.Line, clip(r.Text, 160))
	offA, offP := fileSize(oracle.logPath()), fileSize(under.logPath())
	respA, errA := Do(r, oracle.port, rn.RequestTimeout)
	respP, errP := Do(r, under.port, rn.RequestTimeout)
	if errA != nil {
		res.Failed++
		res.failf("%s\n  harness: %s: %v\n", title, oracle.engine.Name, errA)
		return errP != nil
	}
	if errP != nil {
		res.Failed++
		res.failf("%s\n  %s: no valid response: %v\n    (%s answered %d)\n", title, under.engine.Name, errP, oracle.engine.Name, respA.Status)
		return true
	}
	var diffs []fieldDiff
	// Log lines can land just after the response; give a mismatch on the
	// log a few short chances to settle.
	for attempt := 0; attempt < 5; attempt++ {
		fa := responseFields(respA, readFrom(oracle.logPath(), offA), oracle.norm)
		fp := responseFields(respP, readFrom(under.logPath(), offP), under.norm)
		diffs = diffFields(fa, fp)
		if len(diffs) == 0 || diffs[len(diffs)-1].Field != "log" {
			break
		}
		time.Sleep(40 * time.Millisecond)
	}
	if rn.Trace {
		fa := responseFields(respA, readFrom(oracle.logPath(), offA), oracle.norm)
		fp := responseFields(respP, readFrom(under.logPath(), offP), under.norm)
		fmt.Fprintf(&res.Trace, "%s\n  %s: %s %q len=%s loc=%q log=[%s]\n  %s: %s %q len=%s loc=%q log=[%s]\n", title,
			oracle.engine.Name, fa["status"], fa["content-type"], fa["content-length"], fa["location"], fa["log"],
			under.engine.Name, fp["status"], fp["content-type"], fp["content-length"], fp["location"], fp["log"])
	}
	rn.settle(res, c, strconv.Itoa(n), title, diffs)
	return false
}

// waitLogQuiet waits (at most a second) until path has not grown for
// 100ms.
func waitLogQuiet(path string) {
	deadline := time.Now().Add(time.Second)
	last := fileSize(path)
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		n := fileSize(path)
		if n == last {
			return
		}
		last = n
	}
}
