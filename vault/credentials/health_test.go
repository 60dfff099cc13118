package credentials

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/awnumar/memguard"

	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"
)

// TestHealthInChunksFindsReuseAcrossThem: with chunks of two heads and a
// buffer that holds two passwords, reuse is still found across chunks;
// with the report's key fixed, neither the passwords nor their keyed
// hashes (raw, hex or base64) appear in the report or in the log.
func TestHealthInChunksFindsReuseAcrossThem(t *testing.T) {
	f := newFixture(t)
	defer func(n, b int, k func() *memguard.LockedBuffer) { healthChunk, healthBytes, newHealthKey = n, b, k }(healthChunk, healthBytes, newHealthKey)
	key := bytes.Repeat([]byte{7}, 32)
	healthChunk, healthBytes = 2, 2*len("Curlew-Basalt-Fennel-0")
	newHealthKey = func() *memguard.LockedBuffer { return memguard.NewBufferFromBytes(bytes.Clone(key)) }
	var pws []string
	for i := range 7 {
		pw := fmt.Sprintf("Curlew-Basalt-Fennel-%d", i%3) // 0, 3, 6 share one; 1, 4 another; 2, 5 a third
		pws = append(pws, pw)
		if err := f.put(t, fmt.Sprintf("Login %d", i), pw, true); err != nil {
			t.Fatal(err)
		}
	}
	chunks := 0
	f.c.hook = func(point string) { chunks += map[bool]int{true: 1}[point == "health.chunk"] }
	rep, err := f.c.PasswordHealth(context.Background(), auditlog.Request{ID: "r"}, f.admin, 0)
	if err != nil {
		t.Fatal(err)
	}
	var groups []string
	for _, g := range rep.Reused {
		var ns []string
		for _, m := range g.Credentials {
			ns = append(ns, m.Credential)
		}
		groups = append(groups, strings.Join(ns, "+"))
	}
	if got := strings.Join(groups, " "); got != "Login 0+Login 3+Login 6 Login 1+Login 4 Login 2+Login 5" || rep.Checked != 7 || chunks < 3 {
		t.Fatalf("groups %q, checked %d, %d chunks", got, rep.Checked, chunks)
	}
	out, _ := json.Marshal(rep)
	var log bytes.Buffer
	if err := f.st.View(context.Background(), func(tx storage.Tx) error {
		return tx.Scan(storage.BucketAudit, nil, func(_, v []byte) (bool, error) { log.Write(v); return true, nil })
	}); err != nil {
		t.Fatal(err)
	}
	for _, pw := range pws {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(pw))
		sum := m.Sum(nil)
		for _, form := range []string{pw, string(sum), hex.EncodeToString(sum), base64.StdEncoding.EncodeToString(sum),
			base64.RawURLEncoding.EncodeToString(sum), base64.RawStdEncoding.EncodeToString(sum)} {
			if bytes.Contains(out, []byte(form)) || bytes.Contains(log.Bytes(), []byte(form)) {
				t.Fatalf("the report or the log holds a password or its keyed hash (%q)", form)
			}
		}
	}
}

// TestHealthGivesTheKeysBackBetweenChunks: the keys are held only while a
// chunk is read, so the vault seals between two chunks (if the report
// held them, the seal would wait for it forever); the report then fails
// as sealed and returns nothing.
func TestHealthGivesTheKeysBackBetweenChunks(t *testing.T) {
	f := newFixture(t)
	defer func(n int) { healthChunk = n }(healthChunk)
	healthChunk = 2
	for i := range 6 {
		if err := f.put(t, fmt.Sprintf("Login %d", i), fmt.Sprintf("Osprey-Cinder-Maple-%d", i), true); err != nil {
			t.Fatal(err)
		}
	}
	sealed := false
	f.c.hook = func(point string) {
		if point == "health.chunk" && !sealed {
			sealed = true
			f.b.Drop(nil)
		}
	}
	rep, err := f.c.PasswordHealth(context.Background(), auditlog.Request{ID: "r"}, f.admin, 0)
	if !errors.Is(err, barrier.ErrSealed) || rep != nil || !sealed {
		t.Fatalf("sealed mid-report: %v %+v", err, rep)
	}
}

// TestHealthOneAtATime: a report asked for while another is being made is
// refused as busy, not queued.
func TestHealthOneAtATime(t *testing.T) {
	f := newFixture(t)
	if err := f.put(t, "Login", "Osprey-Cinder-Maple-1", true); err != nil {
		t.Fatal(err)
	}
	f.c.health <- struct{}{} // another report holds the slot
	_, err := f.c.PasswordHealth(context.Background(), auditlog.Request{ID: "r"}, f.admin, 0)
	<-f.c.health
	if !errors.Is(err, access.ErrBusy) || !access.IsAnswer(err) {
		t.Fatalf("a second report at once: %v", err)
	}
	if _, err := f.c.PasswordHealth(context.Background(), auditlog.Request{ID: "r"}, f.admin, 0); err != nil {
		t.Fatalf("once the first has finished: %v", err)
	}
}

func TestJudgeSite(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want siteJudgement
		site string
	}{
		{"", siteNoURL, ""},
		{"   ", siteNoURL, ""},
		{"https://www.facebook.com/littlewittering", siteOffersTOTP, "Facebook"},
		{"facebook.com", siteOffersTOTP, "Facebook"},
		{"HTTPS://Business.Facebook.COM.", siteOffersTOTP, "Facebook"},
		{"https://login.microsoftonline.com/common", siteOffersTOTP, "Microsoft"},
		{"https://my.ionos.co.uk", siteOffersTOTP, "IONOS"},
		{"https://www.123-reg.co.uk/secure", siteOffersTOTP, "123 Reg"},
		{"https://x.com/parish", siteOffersTOTP, "X (Twitter)"},
		{"https://facebook.com.evil.example", siteNotListed, ""},
		{"https://parish.github.io", siteNotListed, ""}, // github.io is a public suffix: not github.com
		{"https://www.littlewittering-pc.gov.uk", siteNotListed, ""},
		{"192.168.1.1", siteUnknown, ""},
		{"http://[::1]:8080", siteUnknown, ""},
		{"http://router", siteUnknown, ""},
		{"co.uk", siteUnknown, ""},
		{"https://%zz", siteUnknown, ""},
	} {
		got, site := judgeSite(tc.url)
		if got != tc.want || site != tc.site {
			t.Errorf("judgeSite(%q) = %v %q, want %v %q", tc.url, got, site, tc.want, tc.site)
		}
	}
}

// FuzzJudgeSite: any register URL is judged without a panic, and a site
// named is one on the list.
func FuzzJudgeSite(f *testing.F) {
	for _, s := range []string{"https://www.facebook.com/x", "facebook.com", "192.168.1.1", "http://[::1]", "co.uk", "%zz", "https://a.b.c.d.e.f.g"} {
		f.Add(s)
	}
	listed := map[string]bool{}
	for _, name := range totpSites {
		listed[name] = true
	}
	f.Fuzz(func(t *testing.T, url string) {
		j, site := judgeSite(url)
		if (j == siteOffersTOTP) != (site != "") || (site != "" && !listed[site]) {
			t.Fatalf("judgeSite(%q) = %v %q", url, j, site)
		}
	})
}
