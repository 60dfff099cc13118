package vault

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"strongroom/audit"
)

// Codes agree with oathtool (Debian's oathtool, installed by .ci/run) for
// the same seed and time, for the common and a less common parameter set.
func TestCredentialTOTPAgreesWithOathtool(t *testing.T) {
	oath, err := exec.LookPath("oathtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("oathtool is not installed")
		}
		t.Skip("oathtool not installed")
	}
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	const seed = "JBSWY3DPEHPK3PXPJBSWY3DP"
	cases := []struct {
		name, uri string
		args      []string
	}{
		{"Facebook page", seed, []string{"--totp"}},
		{"Bank", "otpauth://totp/bank:council?secret=" + seed + "&algorithm=SHA256&digits=8&period=60", []string{"--totp=sha256", "--digits=8", "--time-step-size=60s"}},
	}
	for _, tc := range cases {
		if _, _, err := f.v.PutCredential(ctx, req, f.admin, CredentialInput{Name: tc.name, Kind: "shared", Password: []byte("pw"),
			TOTP: tc.uri, Assignees: []string{"Clerk"}}); err != nil {
			t.Fatal(err)
		}
		for _, at := range []time.Time{time.Date(2026, 11, 23, 10, 0, 7, 0, time.UTC), time.Date(2030, 2, 28, 23, 59, 59, 0, time.UTC)} {
			f.clock.mu.Lock()
			f.clock.t = at
			f.clock.mu.Unlock()
			got, err := f.v.CredentialTOTP(ctx, req, clerk, tc.name)
			if err != nil {
				t.Fatal(err)
			}
			args := append(append([]string{}, tc.args...), "-b", seed, "--now", at.Format("2006-01-02 15:04:05 UTC"))
			out, err := exec.Command(oath, args...).Output()
			if err != nil {
				t.Fatalf("oathtool %v: %v", args, err)
			}
			if want := strings.TrimSpace(string(out)); got.Code != want {
				t.Fatalf("%s at %v: code %s, oathtool %s", tc.name, at, got.Code, want)
			}
			if got.SecondsLeft < 1 || got.SecondsLeft > got.Period {
				t.Fatalf("seconds left %d of %d", got.SecondsLeft, got.Period)
			}
			if e := f.last(t); e.Action != "cred.read" || !strings.Contains(e.Reason, "TOTP code") {
				t.Fatalf("TOTP read not recorded as a read: %+v", e)
			}
		}
	}
	member, _ := f.addUser(t, "Member", RoleMember)
	if _, err := f.v.CredentialTOTP(ctx, req, member, "Facebook page"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("member TOTP: %v", err)
	}
	if e := f.last(t); e.Outcome != audit.OutcomeDenied {
		t.Fatal("refused TOTP read not recorded")
	}
}
