package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pquerna/otp"
)

// browserLogin is `strongroom login --user NAME --browser` running in the
// background: the link and the code it printed, and its end.
type browserLogin struct {
	cmd        *exec.Cmd
	link, code string
	mu         sync.Mutex
	out, errs  bytes.Buffer
	done       chan int
}

var userCodeRE = regexp.MustCompile(`^\s+([BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4})\s*$`)

func startBrowserLogin(t *testing.T, c *cli, user string) *browserLogin {
	t.Helper()
	b := &browserLogin{cmd: exec.Command(binary, "login", "--user", user, "--browser"), done: make(chan int, 1)}
	b.cmd.Env, b.cmd.Dir = c.env, c.work
	stdout, err := b.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	b.cmd.Stderr = &b.errs
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.cmd.Process.Kill() })
	lines := bufio.NewScanner(stdout)
	for (b.link == "" || b.code == "") && lines.Scan() {
		l := lines.Text()
		b.out.WriteString(l + "\n")
		if m := userCodeRE.FindStringSubmatch(l); m != nil {
			b.code = m[1]
		} else if s := strings.TrimSpace(l); strings.HasPrefix(s, "https://") {
			b.link = s
		}
	}
	if b.link == "" || b.code == "" {
		t.Fatalf("login --browser printed no link and code: %q %q", b.out.String(), b.errs.String())
	}
	go func() {
		for lines.Scan() {
			b.mu.Lock()
			b.out.WriteString(lines.Text() + "\n")
			b.mu.Unlock()
		}
		err := b.cmd.Wait()
		code := 0
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		b.done <- code
	}()
	return b
}

// wait is the exit code, stdout and stderr once the command ends.
func (b *browserLogin) wait(t *testing.T) (int, string, string) {
	t.Helper()
	select {
	case code := <-b.done:
		b.mu.Lock()
		defer b.mu.Unlock()
		return code, b.out.String(), b.errs.String()
	case <-time.After(60 * time.Second):
		t.Fatalf("login --browser did not finish: %q", b.out.String())
		return 0, "", ""
	}
}

// A clerk whose CLI cannot take a code: `login --browser` prints a link
// and a code, the clerk (signed in to the web, re-authenticating) types
// it, sees where it came from, approves, and the CLI is signed in. A code
// of another person's sign-in is refused; a refusal ends the CLI with
// exit 1; Ctrl-C stops a waiting CLI; bad usage is exit 2.
func TestLoginBrowserApproval(t *testing.T) {
	axe := needBrowser(t)
	v := newProvisioned(t)
	var o oneTime
	json.Unmarshal([]byte(v.provider.must(0, "user", "add", "Clerk", "--role", "clerk", "--json")), &o)
	k, err := otp.NewKeyFromURL(o.TOTPURI)
	if err != nil {
		t.Fatal(err)
	}
	clerkPW := "sparrow lantern quarry 7"
	shot := 0
	web := newPerson(t, v.srv, v.work, "device-clerk", axe, &shot)
	web.signIn("Clerk", o.Password, k.Secret(), clerkPW)

	cli := newCLI(t, v.srv, v.work, "clerk-cli")
	cli.must(2, "login", "--user", "Clerk", "--browser", "--totp", "123456")
	cli.must(2, "login", "--browser")
	cli.must(1, "whoami")

	bl := startBrowserLogin(t, cli, "Clerk")
	u, err := url.Parse(bl.link)
	if err != nil || u.Path != "/ui/device" || u.RawQuery != "" || "https://"+u.Host != v.srv.addr {
		t.Fatalf("link %q (server %s)", bl.link, v.srv.addr)
	}
	web.open(u.Path, "device reauth")
	web.mustSee("main", "Signing in a command line needs you to confirm it is you")
	web.fill("#password", clerkPW, "#totp", codeAt(t, k.Secret(), time.Now().Add(30*time.Second)))
	web.submit(`main button[type=submit]`, "device code form")
	if !strings.HasSuffix(web.url(), "/ui/device") {
		t.Fatalf("after re-authentication: %s", web.url())
	}
	web.fill("#code", strings.ToLower(bl.code))
	web.submit(`main button[type=submit]`, "device confirm")
	web.mustSee("#device-code", bl.code)
	web.mustSee("main", "Someone is signing in to Strongroom from a command line. Only approve if you started this yourself just now.",
		"127.0.0.1", "strongroom-cli", "Clerk")
	web.submit(`button[value=approve]`, "device approved")
	web.mustSee("h1", "Sign-in approved")
	if code, out, errOut := bl.wait(t); code != 0 || !strings.Contains(out, "Logged in as Clerk (clerk)") {
		t.Fatalf("login --browser: exit %d\n%s\n%s", code, out, errOut)
	}
	if out := cli.must(0, "whoami"); !strings.Contains(out, "Clerk") {
		t.Fatalf("whoami: %s", out)
	}
	// The approval does not re-authenticate the command line: an admin
	// password still asks it to confirm who it is.
	v.provider.must(0, "cred", "put", "Router", "--kind", "admin", "--username", "admin", "--password-file",
		write(t, filepath.Join(v.work, "router.pw"), "copper lantern meadow"), "--assign", "Clerk")
	if msg := cli.must(2, "cred", "get", "Router"); !strings.Contains(msg, "needs a re-authentication") {
		t.Fatalf("admin read right after an approved sign-in: %s", msg)
	}

	// The code of a sign-in as the provider: the clerk cannot approve it.
	other := newCLI(t, v.srv, v.work, "other-cli")
	blp := startBrowserLogin(t, other, "IT Provider")
	web.open("/ui/device", "device code form again")
	web.fill("#code", blp.code)
	web.submit(`main button[type=submit]`, "device code of another")
	web.mustSee(".error-summary", "no command-line sign-in is waiting for you")
	// Ctrl-C stops a waiting command line.
	blp.cmd.Process.Signal(syscall.SIGINT)
	if code, _, errOut := blp.wait(t); code != 130 || strings.TrimSpace(errOut) != "strongroom: stopped: not signed in" {
		t.Fatalf("login --browser after Ctrl-C: exit %d, stderr %q", code, errOut)
	}

	// A refusal.
	blr := startBrowserLogin(t, newCLI(t, v.srv, v.work, "refused-cli"), "Clerk")
	web.open("/ui/device", "device code form for refusal")
	web.fill("#code", blr.code)
	web.submit(`main button[type=submit]`, "device confirm refusal")
	web.submit(`button[value=refuse]`, "device refused")
	web.mustSee("h1", "Sign-in refused")
	code, _, errOut := blr.wait(t)
	if code != 1 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "refused") {
		t.Fatalf("after refusal: exit %d, stderr %q", code, errOut)
	}

	// The audit log has the approval with the command line's address and
	// user agent, the refusal and the code of another's sign-in.
	log := v.provider.must(0, "audit", "export", "--format", "csv")
	for _, want := range []string{"auth.device_request", "auth.device_approve", "auth.device_refuse", "strongroom-cli",
		"another account"} {
		if !strings.Contains(log, want) {
			t.Fatalf("audit log lacks %s", want)
		}
	}
}
