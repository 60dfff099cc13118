package main

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// newHarness starts a server on work/data, initialises and unseals it, and
// signs in the IT provider (h.token) and "Loader", a member exempt from
// MFA so that logins can be repeated.
func newHarness(t *testing.T, work string) (*harness, *server) {
	t.Helper()
	srv := startServer(t, filepath.Join(work, "data"))
	op := newCLI(t, srv, work, "operator")
	pass := write(t, filepath.Join(work, "pass"), "correct horse battery staple")
	var ini struct{ Admin oneTime }
	json.Unmarshal([]byte(op.must(0, "init", "--holder", "A", "--holder", "B", "--shares", "2", "--threshold", "2",
		"--admin", "IT Provider", "--passphrase-file", pass, "--out", "env", "--json")), &ini)
	op.must(0, "unseal", "--passphrase-file", pass)
	h := &harness{t: t, cl: &http.Client{Timeout: 20 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, MaxIdleConnsPerHost: 16}}}
	h.addr = srv.addr
	var lr struct{ Token string }
	if st := h.json("POST", "/v1/auth/login", "", map[string]string{"name": "IT Provider", "password": ini.Admin.Password,
		"totp": code(t, ini.Admin.TOTPURI), "new_password": "ultramarine kettle drum"}, &lr, ""); st != 200 {
		t.Fatalf("login: %d", st)
	}
	h.token = lr.Token
	h.newCodes()
	var otl oneTime
	if st := h.json("POST", "/v1/users", h.token, map[string]string{"name": "Loader", "role": "member"}, &otl, ""); st != 201 && st != 200 {
		t.Fatalf("user: %d", st)
	}
	if st := h.json("POST", "/v1/users/Loader/mfa-exempt", h.token, map[string]bool{"exempt": true}, nil, ""); st >= 300 {
		t.Fatalf("exempt: %d", st)
	}
	if st := h.json("POST", "/v1/auth/login", "", map[string]string{"name": "Loader", "password": otl.Password,
		"new_password": "pebble orchard violet"}, nil, ""); st != 200 {
		t.Fatalf("member first login: %d", st)
	}
	return h, srv
}

// The races of issue "Vault core v2", driven through the real server: a
// logout racing uses of the same token (after the session's refresh is
// due, so each use would write the session back), and concurrent creates
// of one name and of many names.
func TestRacesThroughTheServer(t *testing.T) {
	work := t.TempDir()
	h, srv := newHarness(t, work)
	defer srv.stop()
	loader := func() string {
		var lr struct{ Token string }
		if st := h.json("POST", "/v1/auth/login", "", map[string]string{"name": "Loader", "password": "pebble orchard violet"}, &lr, ""); st != 200 {
			t.Fatalf("Loader login: %d", st)
		}
		return lr.Token
	}
	tokens := []string{loader(), loader(), loader()}

	// Creates while the sessions age past their refresh point (a minute).
	start := time.Now()
	const n = 12
	var wg sync.WaitGroup
	same := make([]int, n)
	only := make([]int, n)
	for i := 0; i < n; i++ {
		wg.Add(3)
		go func(i int) {
			defer wg.Done()
			same[i] = h.json("POST", "/v1/creds", h.token, map[string]any{"name": "Parish Router", "kind": "admin",
				"password": fmt.Sprintf("router password %d", i), "assignees": []string{"IT Provider"}}, nil, "")
		}(i)
		go func(i int) {
			defer wg.Done()
			only[i] = h.json("POST", "/v1/creds", h.token, map[string]any{"name": "Website", "kind": "admin", "create_only": true,
				"password": fmt.Sprintf("website password %d", i), "assignees": []string{"IT Provider"}}, nil, "")
		}(i)
		go func(i int) {
			defer wg.Done()
			if st := h.json("POST", "/v1/creds", h.token, map[string]any{"name": fmt.Sprintf("Account %02d", i), "kind": "shared",
				"password": "a shared password", "assignees": []string{"IT Provider"}}, nil, ""); st != 201 {
				t.Errorf("create Account %02d: %d", i, st)
			}
		}(i)
	}
	wg.Wait()
	created, updated, refused := 0, 0, 0
	for i := 0; i < n; i++ {
		switch same[i] {
		case 201:
			created++
		case 200:
			updated++
		default:
			t.Errorf("put Parish Router: %d", same[i])
		}
		switch only[i] {
		case 201:
			refused--
		case 409:
			refused++
		default:
			t.Errorf("create-only Website: %d", only[i])
		}
	}
	if created != 1 || updated != n-1 || refused != n-2 {
		t.Fatalf("one name put %d times: %d created, %d new versions; create-only: %d refused (want 1, %d, and one created, %d refused)",
			n, created, updated, refused+1, n-1, n-1)
	}
	var list []struct {
		Name    string
		Version int
	}
	if st := h.json("GET", "/v1/creds?limit=1000", h.token, nil, &list, ""); st != 200 {
		t.Fatalf("list: %d", st)
	}
	names := map[string]int{}
	for _, c := range list {
		names[c.Name]++
		if c.Name == "Parish Router" && c.Version != n {
			t.Errorf("Parish Router is at version %d after %d puts", c.Version, n)
		}
	}
	if len(list) != n+2 || names["Parish Router"] != 1 || names["Website"] != 1 {
		t.Fatalf("after concurrent creates the list holds %d credentials: %v", len(list), names)
	}

	// Logout against uses of the same token, once each use refreshes it.
	time.Sleep(time.Until(start.Add(65 * time.Second)))
	for _, tok := range tokens {
		var mu sync.Mutex
		var loggedOut time.Time
		type use struct {
			at     time.Time
			status int
		}
		var uses []use
		var users sync.WaitGroup
		for g := 0; g < 6; g++ {
			users.Add(1)
			go func() {
				defer users.Done()
				for k := 0; k < 15; k++ {
					at := time.Now()
					st := h.json("GET", "/v1/creds?limit=1", tok, nil, nil, "")
					mu.Lock()
					uses = append(uses, use{at, st})
					mu.Unlock()
				}
			}()
		}
		time.Sleep(5 * time.Millisecond)
		if st := h.json("POST", "/v1/auth/logout", tok, nil, nil, ""); st >= 300 {
			t.Fatalf("logout: %d", st)
		}
		mu.Lock()
		loggedOut = time.Now()
		mu.Unlock()
		users.Wait()
		for _, u := range uses {
			if u.at.After(loggedOut) && u.status != 401 {
				t.Fatalf("a use of the token begun after its logout returned was answered %d", u.status)
			}
		}
		if st := h.json("GET", "/v1/creds?limit=1", tok, nil, nil, ""); st != 401 {
			t.Fatalf("the logged-out token still works (%d): a racing refresh undid the logout", st)
		}
	}
}
