package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The memory sweep (issue 15 item 10): after the requests that carried
// planted secrets have finished, the writable memory of the running
// server (its Go heap, stacks, memguard's pages: every rw mapping, read
// from /proc/PID/mem, which the test may read as the server's parent) is
// searched for every planted secret. What it finds is reported by mapping
// and by kind of secret, because a Go process cannot promise to hold
// nothing: memory the garbage collector freed keeps its bytes until it is
// reused, and strings made by libraries (net/http's form values, fmt's
// print buffer, escrow's envelope text) cannot be wiped.

// memFinding is one planted secret found in the server's memory.
type memFinding struct {
	secret  string
	mapping string // the pathname column of /proc/PID/maps ("" for anonymous)
	copies  int
}

// processMemory reads every readable and writable private mapping of pid.
// Guard pages (memguard's, the Go runtime's) are not readable and are
// passed over, as is anything the kernel refuses to read.
func processMemory(pid int) (map[string][]byte, error) {
	maps, err := os.Open(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil, err
	}
	defer maps.Close()
	mem, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		return nil, err
	}
	defer mem.Close()
	out := map[string][]byte{}
	sc := bufio.NewScanner(maps)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 || !strings.HasPrefix(f[1], "rw") {
			continue
		}
		name := ""
		if len(f) >= 6 {
			name = f[5]
		}
		if name == "[vvar]" || name == "[vsyscall]" {
			continue
		}
		lo, hi, _ := strings.Cut(f[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start || end-start > 1<<30 {
			continue
		}
		buf := make([]byte, end-start)
		n, _ := mem.ReadAt(buf, int64(start))
		out[name] = append(out[name], buf[:n]...)
	}
	return out, sc.Err()
}

// sweepProcess searches the memory of a running server for the planted
// secrets, and for marker, a value the server must still hold (so that a
// sweep that read nothing cannot pass).
func sweepProcess(t *testing.T, pid int, marker string) []memFinding {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the memory sweep reads /proc/PID/mem (Linux only)")
	}
	regions, err := processMemory(pid)
	if err != nil {
		t.Fatalf("memory sweep: %v", err)
	}
	total, seen := 0, false
	var found []memFinding
	for name, b := range regions {
		total += len(b)
		seen = seen || bytes.Contains(b, []byte(marker))
		for _, s := range planted() {
			if n := bytes.Count(b, []byte(s)); n > 0 {
				found = append(found, memFinding{secret: s, mapping: name, copies: n})
			}
		}
	}
	if !seen {
		t.Fatalf("memory sweep: %d MiB read from the server, but not the marker it must hold: the sweep reads nothing useful", total>>20)
	}
	sort.Slice(found, func(i, j int) bool { return found[i].secret+found[i].mapping < found[j].secret+found[j].mapping })
	t.Logf("memory sweep: %d MiB of the server's writable memory searched for %d planted secrets", total>>20, len(planted()))
	return found
}

// webSession is a browser without script: cookies, the CSRF token, our
// origin.
type webSession struct {
	t    *testing.T
	base string
	hc   *http.Client
	csrf string
}

func newWebSession(t *testing.T, s *server, work string) *webSession {
	pem, err := os.ReadFile(filepath.Join(work, "data", "tls", "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	jar, _ := cookiejar.New(nil)
	w := &webSession{t: t, base: s.addr, hc: &http.Client{Jar: jar, Timeout: time.Minute,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	w.get("/ui/setup")
	u, _ := url.Parse(s.addr)
	for _, c := range jar.Cookies(u) {
		if c.Name == "__Host-strongroom-csrf" {
			w.csrf = c.Value
		}
	}
	if w.csrf == "" {
		t.Fatal("no CSRF cookie")
	}
	return w
}

func (w *webSession) get(path string) string {
	w.t.Helper()
	resp, err := w.hc.Get(w.base + path)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func (w *webSession) post(path string, form url.Values, status int) string {
	w.t.Helper()
	form.Set("csrf", w.csrf)
	req, _ := http.NewRequest("POST", w.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", w.base)
	resp, err := w.hc.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		w.t.Fatalf("POST %s: %d, want %d: %.300s", path, resp.StatusCode, status, b)
	}
	return string(b)
}

var (
	otpOnPage = regexp.MustCompile(`id="otp-password">([^<]+)<`)
	keyOnPage = regexp.MustCompile(`Key: <span class="mono">([^<]+)<`)
)

// TestMemorySweep sets a vault up through the web pages (envelope texts,
// the first one-time password), stores and reads secrets through the CLI
// and the web (no-script reveal, rotate), then searches the running
// server's memory for all of them. It fails if a set-up secret (a share,
// the one-time password) is still held as a live value after the set-up
// is finished, or if the sweep could not read the server; every other
// finding is reported in the log with its mapping, to be read with the
// explanation above.
func TestMemorySweep(t *testing.T) {
	work := t.TempDir()
	srv := startServer(t, filepath.Join(work, "data"))
	w := newWebSession(t, srv, work)
	pass := "correct horse battery staple"
	page := w.post("/ui/setup", url.Values{"council": {"Sweep Parish Council"}, "admin": {"IT Provider"},
		"holders": {"Chairman\nClerk"}, "threshold": {"2"}, "passphrase": {pass}, "passphrase2": {pass}}, 200)
	otp, key := otpOnPage.FindStringSubmatch(page), keyOnPage.FindStringSubmatch(page)
	if otp == nil || key == nil {
		t.Fatalf("set-up page without its one-time password or key: %.500s", page)
	}
	oneTimePW, totpKey := otp[1], strings.ReplaceAll(key[1], " ", "")
	plant(oneTimePW, totpKey, pass)
	var shares []string
	for _, i := range []string{"1", "2"} {
		text := w.post("/ui/setup/envelope", url.Values{"index": {i}, "kind": {"txt"}}, 200)
		before := len(planted())
		plantShares(text)
		if len(planted()) == before {
			t.Fatalf("envelope %s holds no share: %.300s", i, text)
		}
		shares = append(shares, text)
	}
	w.post("/ui/setup/envelope", url.Values{"index": {"1"}, "kind": {"txt"}}, 410) // once
	w.post("/ui/setup/finish", url.Values{}, 303)
	w.post("/ui/setup/envelope", url.Values{"index": {"2"}, "kind": {"pdf"}}, 410) // finished: wiped and forgotten

	op := newCLI(t, srv, work, "operator")
	op.must(0, "unseal", "--passphrase-file", write(t, filepath.Join(work, "pass"), pass))
	provider := newCLI(t, srv, work, "provider")
	pw := write(t, filepath.Join(work, "a.pw"), "ultramarine kettle drum")
	provider.must(0, "login", "--user", "IT Provider", "--password-file", write(t, filepath.Join(work, "a.otp"), oneTimePW),
		"--totp", codeAt(t, totpKey, time.Now()), "--new-password-file", pw)
	marker := "Memory sweep marker credential"
	provider.must(0, "cred", "put", marker, "--kind", "shared", "--username", "u", "--password-file",
		write(t, filepath.Join(work, "c.pw"), "planted cobalt harbour wren"), "--notes-file",
		write(t, filepath.Join(work, "c.notes"), "planted notes saffron quay"), "--assign", "IT Provider")
	provider.must(0, "cred", "get", marker)

	// The web: sign in, reveal without script, rotate to a generated password.
	web := newWebSession(t, srv, work)
	web.post("/ui/login", url.Values{"name": {"IT Provider"}, "password": {"ultramarine kettle drum"},
		"totp": {codeAt(t, totpKey, time.Now().Add(30*time.Second))}}, 303)
	credPath := "/ui/creds/" + url.PathEscape(marker)
	if got := web.post(credPath+"/reveal", url.Values{}, 200); !strings.Contains(got, "planted cobalt harbour wren") {
		t.Fatalf("no-script reveal: %.300s", got)
	}
	rotated := web.post(credPath+"/rotate", url.Values{}, 200)
	if m := regexp.MustCompile(`id="new-password">([^<]+)<`).FindStringSubmatch(rotated); m != nil {
		plant(m[1])
	} else {
		t.Fatalf("rotate page: %.300s", rotated)
	}
	time.Sleep(200 * time.Millisecond) // the handlers' deferred wipes have run

	found := sweepProcess(t, srv.cmd.Process.Pid, marker)
	setup := map[string]string{oneTimePW: "the first one-time password"}
	for _, text := range shares {
		_, rest, _ := strings.Cut(text, "-----BEGIN STRONGROOM SHARE-----")
		body, _, _ := strings.Cut(rest, "-----END STRONGROOM SHARE-----")
		for _, l := range strings.Split(body, "\n") {
			if l = strings.TrimSpace(l); len(l) >= minPlanted {
				setup[l] = "an envelope share line"
			}
		}
	}
	for _, f := range found {
		what := setup[f.secret]
		if what == "" {
			what = "a planted secret"
		}
		t.Logf("memory sweep: %s (%d bytes, starting %q): %d copies in %s", what, len(f.secret), f.secret[:3], f.copies, mappingName(f.mapping))
	}
	t.Logf("memory sweep: %d findings", len(found))
}

func mappingName(m string) string {
	if m == "" {
		return "anonymous memory (the Go heap, memguard's pages)"
	}
	return m
}
