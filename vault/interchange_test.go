package vault

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"strongroom/audit"
	"strongroom/transfer"
)

func decoded(t *testing.T, file string, key transfer.KDBXKey) func() (*transfer.Result, error) {
	t.Helper()
	data, err := os.ReadFile("../transfer/testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	format := map[string]string{".xml": "keepass-xml", ".json": "bitwarden-json", ".csv": "bitwarden-csv"}[file[strings.LastIndex(file, "."):]]
	return func() (*transfer.Result, error) { return transfer.Decode(format, data, key, nil) }
}

func TestImportKeePassAllOrNothing(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	f.put(t, f.admin, "YouTube", "shared", "already-here-pw", "Clerk")
	before := len(f.entries(t))

	rep, err := f.v.Import(ctx, req, clerk, ImportOptions{Format: "keepass-xml", Kind: "shared"},
		decoded(t, "keepassxc_council.xml", transfer.KDBXKey{}))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, it := range rep.Imported {
		names = append(names, it.Name)
	}
	// The existing YouTube keeps its name; the imported one takes its folder.
	if strings.Join(names, "|") != "Website host|Facebook page|YouTube (Social/Video)" {
		t.Fatalf("imported %q", names)
	}
	if len(rep.Skipped) != 1 || rep.Skipped[0].Reason != "in the recycle bin" {
		t.Fatalf("skipped %+v", rep.Skipped)
	}
	// Every credential decrypts with what the file held, for its assignee.
	for name, pw := range map[string]string{"Website host": "river-candle-orbit", "Facebook page": "tulip-marble-glacier",
		"YouTube (Social/Video)": "anchor-velvet-summit", "YouTube": "already-here-pw"} {
		s, err := f.v.ReadCredential(ctx, req, clerk, name, 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if string(s.Password()) != pw {
			t.Errorf("%s: password %q", name, s.Password())
		}
		if name == "Facebook page" && (s.TOTPURI() == nil || !strings.Contains(string(s.TOTPURI()), "JBSWY3DPEHPK3PXPJBSWY3DP")) {
			t.Errorf("TOTP lost")
		}
		if name == "Facebook page" && strings.Join(s.Tags, ",") != "imported,Social" {
			t.Errorf("tags %q", s.Tags)
		}
		s.Destroy()
	}
	es := f.entries(t)[before:]
	var creates int
	for _, e := range es {
		if e.Action == "cred.create" && strings.Contains(e.Reason, "imported from keepass-xml") {
			creates++
		}
	}
	if creates != 3 || es[3].Action != "cred.import" || es[3].Reason != "3 imported as shared from keepass-xml, 1 skipped" {
		t.Fatalf("entries: %d creates, then %s %q", creates, es[3].Action, es[3].Reason)
	}

	// A bad file changes nothing and is recorded as refused.
	n := len(f.entries(t))
	list, _ := f.v.ListCredentialsAll(ctx, f.admin)
	kdbx, err := transfer.EncodeKDBX([]transfer.Item{{Title: "Website host", Password: []byte("river-candle-orbit")}},
		[]byte("file-pass"), transfer.KDBXOptions{MemoryKiB: 64, Iterations: 1, Lanes: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.v.Import(ctx, req, clerk, ImportOptions{Format: "kdbx"}, func() (*transfer.Result, error) {
		return transfer.Decode("kdbx", kdbx, transfer.KDBXKey{Password: []byte("wrong")}, nil)
	})
	if !errors.Is(err, transfer.ErrBadKey) {
		t.Fatalf("wrong password: %v", err)
	}
	after, _ := f.v.ListCredentialsAll(ctx, f.admin)
	if len(after) != len(list) || len(f.entries(t)) != n+1 || f.last(t).Outcome != audit.OutcomeError ||
		!strings.Contains(f.last(t).Reason, "wrong password or key file") {
		t.Fatalf("a refused file changed something: %d→%d creds, last %+v", len(list), len(after), f.last(t))
	}

	// A storage failure part-way (the first item's records are written,
	// its audit entry fails) leaves nothing either: one transaction.
	setFailAudit(f, true)
	_, err = f.v.Import(ctx, req, clerk, ImportOptions{Format: "bitwarden-json", Tag: "bw"}, decoded(t, "good_bitwarden.json", transfer.KDBXKey{}))
	setFailAudit(f, false)
	if err == nil {
		t.Fatal("import survived a write failure")
	}
	after, _ = f.v.ListCredentialsAll(ctx, f.admin)
	if len(after) != len(list) {
		t.Fatalf("a failed import left %d credentials", len(after)-len(list))
	}
}

func TestImportRefusalsAndDryRun(t *testing.T) {
	f := newFixture(t)
	member, _ := f.addUser(t, "Member", RoleMember)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	called := false
	_, err := f.v.Import(ctx, req, member, ImportOptions{Format: "csv", Kind: "shared"},
		func() (*transfer.Result, error) { called = true; return &transfer.Result{}, nil })
	var fe *ForbiddenError
	if !errors.As(err, &fe) || called || f.last(t).Outcome != audit.OutcomeDenied || !audit.IsIncident(f.last(t)) {
		t.Fatalf("member import: %v, decoded=%v, last %+v", err, called, f.last(t))
	}
	// A clerk may not import admin credentials.
	if _, err := f.v.Import(ctx, req, clerk, ImportOptions{Format: "csv", Kind: "admin"}, decoded(t, "good_bitwarden.csv", transfer.KDBXKey{})); !errors.As(err, &fe) {
		t.Fatalf("clerk admin import: %v", err)
	}
	n := len(f.entries(t))
	rep, err := f.v.Import(ctx, req, clerk, ImportOptions{Format: "bitwarden-csv", DryRun: true}, decoded(t, "good_bitwarden.csv", transfer.KDBXKey{}))
	if err != nil || !rep.DryRun || len(rep.Imported) != 3 || len(rep.Skipped) != 2 {
		t.Fatalf("dry run: %v %+v", err, rep)
	}
	if list, _ := f.v.ListCredentialsAll(ctx, f.admin); len(list) != 0 || len(f.entries(t)) != n {
		t.Fatalf("a dry run stored %d credentials", len(list))
	}
	// A TOTP the vault cannot keep is reported and kept verbatim in the
	// notes, the login still lands; a short seed is kept, with a warning.
	const md5 = "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=MD5"
	rep, err = f.v.Import(ctx, req, clerk, ImportOptions{Format: "csv"}, func() (*transfer.Result, error) {
		return &transfer.Result{Items: []transfer.Item{{Title: "Site", Password: []byte("pw-one-two"), TOTP: md5, Notes: []byte("door code"), Source: "line 2"},
			{Title: " ", Password: []byte("x"), Source: "line 3"},
			{Title: "Short", Password: []byte("pw-three"), TOTP: "SHORT", Source: "line 4"}}}, nil
	})
	if err != nil || len(rep.Imported) != 2 || rep.Imported[0].Note != "TOTP kept in the notes, not as a TOTP: the TOTP algorithm is not SHA1, SHA256 or SHA512" ||
		rep.Imported[0].HasTOTP || !rep.Imported[1].HasTOTP || !strings.Contains(rep.Imported[1].Note, "24 bits, below RFC 4226") ||
		len(rep.Skipped) != 1 || !strings.Contains(rep.Skipped[0].Reason, "its name cannot be used") {
		t.Fatalf("%v %+v", err, rep)
	}
	s, err := f.v.ReadCredential(ctx, req, clerk, "Site", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Destroy()
	if want := "door code\n\nTOTP kept here, not as a TOTP, because the TOTP algorithm is not SHA1, SHA256 or SHA512. As it was in the file:\n" + md5; string(s.Notes()) != want || s.TOTPURI() != nil {
		t.Fatalf("notes %q, want %q", s.Notes(), want)
	}
}

// exportPassword is the provider's password after providerLogin.
const exportPassword = "lantern-pebble-orchard-7"

// providerLogin makes the provider's first login, which replaces the
// one-time password with exportPassword, and moves to the next TOTP step.
func providerLogin(t *testing.T, f *fixture) {
	t.Helper()
	otl := f.init.Admin
	if _, _, err := f.v.Login(ctx, req, LoginRequest{Name: otl.Name, Password: []byte(otl.Password),
		TOTP: code(t, otl.TOTPURI, f.clock.Now()), NewPassword: []byte(exportPassword)}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(30 * time.Second)
}

func TestExportKDBXReauthAndAudit(t *testing.T) {
	f := newFixture(t)
	otl := f.init.Admin
	const pwText = exportPassword
	providerLogin(t, f)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	f.put(t, f.admin, "Router", "admin", "router-admin-pw")
	f.put(t, f.admin, "Facebook page", "shared", "tulip-marble-glacier", "Clerk")
	if _, _, err := f.v.PutCredential(ctx, req, clerk, CredentialInput{Name: "Clerk's own", Kind: "personal", Password: []byte("mine-only")}); err != nil {
		t.Fatal(err)
	}
	f.put(t, f.admin, "Old", "shared", "gone")
	if err := f.v.DeleteCredential(ctx, req, f.admin, "Old"); err != nil {
		t.Fatal(err)
	}
	pass := []byte("export-quartz-meadow-9")

	// Wrong password, reused code, clerk: refused and recorded.
	if _, _, err := f.v.ExportKDBX(ctx, req, f.admin, Reauth{Password: []byte("nope"), TOTP: code(t, otl.TOTPURI, f.clock.Now())}, append([]byte(nil), pass...)); !errors.Is(err, ErrReauth) {
		t.Fatalf("wrong password: %v", err)
	}
	if e := f.last(t); e.Action != "export.kdbx" || e.Outcome != audit.OutcomeDenied || e.Reason != "re-authentication: wrong password" {
		t.Fatalf("last %+v", e)
	}
	// The code sent with the wrong password is spent (issue 15 item 3).
	spent := code(t, otl.TOTPURI, f.clock.Now())
	if _, _, err := f.v.ExportKDBX(ctx, req, f.admin, Reauth{Password: []byte(pwText), TOTP: spent}, append([]byte(nil), pass...)); !errors.Is(err, ErrReauth) {
		t.Fatalf("a code spent by a wrong-password attempt: %v", err)
	}
	if e := f.last(t); e.Reason != "re-authentication: TOTP code already used" {
		t.Fatalf("last %+v", e)
	}
	f.clock.Advance(30 * time.Second)
	good := code(t, otl.TOTPURI, f.clock.Now())
	if _, _, err := f.v.ExportKDBX(ctx, req, clerk, Reauth{Password: []byte(pwText), TOTP: good}, append([]byte(nil), pass...)); !errors.As(err, new(*ForbiddenError)) {
		t.Fatalf("clerk: %v", err)
	}
	if _, _, err := f.v.ExportKDBX(ctx, req, f.admin, Reauth{Password: []byte(pwText), TOTP: good}, []byte("weak")); !errors.Is(err, ErrInvalid) ||
		!strings.Contains(err.Error(), "the export passphrase must be at least 12") {
		t.Fatalf("weak passphrase: %v", err)
	}
	n := len(f.entries(t))
	out, rep, err := f.v.ExportKDBX(ctx, req, f.admin, Reauth{Password: []byte(pwText), TOTP: good}, append([]byte(nil), pass...))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Exported != 2 || rep.OthersPersonal != 1 {
		t.Fatalf("report %+v", rep)
	}
	es := f.entries(t)[n:]
	if len(es) != 3 || es[0].Action != "cred.export" || es[1].Action != "cred.export" || es[2].Action != "export.kdbx" ||
		!strings.Contains(es[2].Reason, "2 credentials exported after re-authentication; 1 other people's personal") {
		t.Fatalf("entries %+v", es)
	}
	// The same code cannot be used twice.
	if _, _, err := f.v.ExportKDBX(ctx, req, f.admin, Reauth{Password: []byte(pwText), TOTP: good}, append([]byte(nil), pass...)); !errors.Is(err, ErrReauth) ||
		f.last(t).Reason != "re-authentication: TOTP code already used" {
		t.Fatalf("replayed code: %v", err)
	}
	r, err := transfer.DecodeKDBX(out, transfer.KDBXKey{Password: pass})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, it := range r.Items {
		got[it.Folder+"/"+it.Title] = string(it.Password)
	}
	if len(got) != 2 || got["admin/Router"] != "router-admin-pw" || got["shared/Facebook page"] != "tulip-marble-glacier" {
		t.Fatalf("export holds %q", got)
	}

	// Fail closed: if the entries cannot be written, no file.
	f.clock.Advance(30 * time.Second)
	setFailAudit(f, true)
	out, _, err = f.v.ExportKDBX(ctx, req, f.admin, Reauth{Password: []byte(pwText), TOTP: code(t, otl.TOTPURI, f.clock.Now())}, append([]byte(nil), pass...))
	setFailAudit(f, false)
	if err == nil || out != nil {
		t.Fatal("an export was returned although its audit entries were not written")
	}
}

func setFailAudit(f *fixture, on bool) {
	f.store.mu.Lock()
	f.store.failAudit = on
	f.store.mu.Unlock()
}

func TestReauthenticateMarksSession(t *testing.T) {
	f := newFixture(t)
	otl := f.init.Admin
	const pw = "lantern-pebble-orchard-7"
	token, _, err := f.v.Login(ctx, req, LoginRequest{Name: otl.Name, Password: []byte(otl.Password),
		TOTP: code(t, otl.TOTPURI, f.clock.Now()), NewPassword: []byte(pw)})
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.v.Authenticate(ctx, token)
	if err != nil || !p.ReauthAt.IsZero() {
		t.Fatalf("fresh session: %v %v", p, err)
	}
	// The login's own code cannot be used again.
	if err := f.v.Reauthenticate(ctx, req, p, Reauth{Password: []byte(pw), TOTP: code(t, otl.TOTPURI, f.clock.Now())}); !errors.Is(err, ErrReauth) {
		t.Fatalf("replayed code: %v", err)
	}
	f.clock.Advance(30 * time.Second)
	if err := f.v.Reauthenticate(ctx, req, p, Reauth{Password: []byte(pw), TOTP: code(t, otl.TOTPURI, f.clock.Now())}); err != nil {
		t.Fatal(err)
	}
	if e := f.last(t); e.Action != "auth.reauth" || e.Outcome != audit.OutcomeOK {
		t.Fatalf("last %+v", e)
	}
	p2, err := f.v.Authenticate(ctx, token)
	if err != nil || !p2.ReauthAt.Equal(f.clock.Now()) {
		t.Fatalf("session not marked: %v %v", p2.ReauthAt, err)
	}
}

// An admin password and its live code need a re-authentication within the
// window, whoever asks and however (the API, the CLI and the web all come
// here); a shared one does not.
func TestAdminSecretsNeedReauthentication(t *testing.T) {
	f := newFixture(t)
	otl := f.init.Admin
	const pw = "lantern-pebble-orchard-7"
	token, _, err := f.v.Login(ctx, req, LoginRequest{Name: otl.Name, Password: []byte(otl.Password),
		TOTP: code(t, otl.TOTPURI, f.clock.Now()), NewPassword: []byte(pw)})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = f.v.PutCredential(ctx, req, f.admin, CredentialInput{Name: "Router", Kind: "admin", Password: []byte("router pw"),
		TOTP: "JBSWY3DPEHPK3PXP", Assignees: []string{otl.Name}})
	if err != nil {
		t.Fatal(err)
	}
	f.put(t, f.admin, "Facebook page", "shared", "fb pw", otl.Name)
	p, err := f.v.Authenticate(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	reads := func() (error, error) {
		s, err := f.v.ReadCredential(ctx, req, p, "Router", 0)
		if s != nil {
			s.Destroy()
		}
		_, terr := f.v.CredentialTOTP(ctx, req, p, "Router")
		return err, terr
	}
	n := len(f.entries(t))
	if err, terr := reads(); !errors.Is(err, ErrReauthNeeded) || !errors.Is(terr, ErrReauthNeeded) || !errors.Is(err, ErrReauth) {
		t.Fatalf("before re-authenticating: %v, %v", err, terr)
	}
	if len(f.entries(t)) != n {
		t.Fatal("a read that asked for re-authentication was recorded as a read")
	}
	if s, err := f.v.ReadCredential(ctx, req, p, "Facebook page", 0); err != nil {
		t.Fatalf("a shared password asked for re-authentication: %v", err)
	} else {
		s.Destroy()
	}
	f.clock.Advance(30 * time.Second)
	if err := f.v.Reauthenticate(ctx, req, p, Reauth{Password: []byte(pw), TOTP: code(t, otl.TOTPURI, f.clock.Now())}); err != nil {
		t.Fatal(err)
	}
	if err, terr := reads(); err != nil || terr != nil {
		t.Fatalf("after re-authenticating: %v, %v", err, terr)
	}
	// The same session, found again by its token, carries the mark...
	if p, err = f.v.Authenticate(ctx, token); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(ReauthWindow - time.Second)
	if err, terr := reads(); err != nil || terr != nil {
		t.Fatalf("inside the window: %v, %v", err, terr)
	}
	// ...until the window ends.
	f.clock.Advance(2 * time.Second)
	if p, err = f.v.Authenticate(ctx, token); err != nil {
		t.Fatal(err)
	}
	if err, terr := reads(); !errors.Is(err, ErrReauthNeeded) || !errors.Is(terr, ErrReauthNeeded) {
		t.Fatalf("after the window: %v, %v", err, terr)
	}
}

// A file's password history lands as versions 1 to n, oldest first and
// dated as the file dates them, each a new version record, then the
// current password; a dry run reports the count and stores nothing.
func TestImportPasswordHistory(t *testing.T) {
	f := newFixture(t)
	clerk, _ := f.addUser(t, "Clerk", RoleClerk)
	d1, d2 := time.Date(2023, 1, 1, 9, 0, 0, 0, time.UTC), time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	items := func() (*transfer.Result, error) {
		return &transfer.Result{Items: []transfer.Item{{Title: "Council email", Username: "clerk", Password: []byte("third-pw"), Source: "item 1",
			History: []transfer.Past{{Username: "clerk", Password: []byte("first-pw"), Date: d1}, {Username: "clerk", Password: []byte("second-pw"), Date: d2}}}}}, nil
	}
	rep, err := f.v.Import(ctx, req, clerk, ImportOptions{Format: "bitwarden-json", DryRun: true}, items)
	if err != nil || len(rep.Imported) != 1 || rep.Imported[0].History != 2 {
		t.Fatalf("dry run: %v %+v", err, rep)
	}
	if rep, err = f.v.Import(ctx, req, clerk, ImportOptions{Format: "bitwarden-json"}, items); err != nil || rep.Imported[0].History != 2 {
		t.Fatalf("%v %+v", err, rep)
	}
	vers, err := f.v.CredentialHistory(ctx, req, clerk, "Council email")
	if err != nil || len(vers) != 3 || !vers[0].Current || vers[0].Version != 3 || vers[2].Version != 1 {
		t.Fatalf("history %v %+v", err, vers)
	}
	for ver, want := range map[int]string{1: "first-pw", 2: "second-pw", 3: "third-pw", 0: "third-pw"} {
		s, err := f.v.ReadCredential(ctx, req, clerk, "Council email", ver)
		if err != nil || string(s.Password()) != want {
			t.Fatalf("version %d: %v", ver, err)
		}
		s.Destroy()
	}
	if !strings.Contains(vers[2].Created, "2023-01-01") || !strings.Contains(vers[1].Created, "2024-05-01") {
		t.Fatalf("history dates %+v", vers)
	}
	var e *audit.Entry
	for _, x := range f.entries(t) {
		if x.Action == audit.CredCreate {
			e = x
		}
	}
	if e == nil || !strings.Contains(e.Reason, "version 3 (versions 1 to 2 are the file's password history)") {
		t.Fatalf("create entry %+v", e)
	}
}

// A TOTP with no password (Bitwarden JSON, CSV) is stored as a
// credential with an empty password and its TOTP working.
func TestImportTOTPWithoutPassword(t *testing.T) {
	f := newFixture(t)
	const uri = "otpauth://totp/Portal:clerk?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Portal"
	files := map[string]string{
		"bitwarden-json": `{"encrypted":false,"items":[{"type":1,"name":"Portal","login":{"username":"clerk","password":null,"totp":"` + uri + `"}}]}`,
		"csv":            "Title,Username,Password,TOTP\nPortal,clerk,," + uri + "\n",
	}
	for format, data := range files {
		rep, err := f.v.Import(ctx, req, f.admin, ImportOptions{Format: format, Kind: "shared", Tag: format}, func() (*transfer.Result, error) {
			return transfer.Decode(format, []byte(data), transfer.KDBXKey{}, nil)
		})
		if err != nil || len(rep.Imported) != 1 || len(rep.Skipped) != 0 || !rep.Imported[0].HasTOTP {
			t.Fatalf("%s: %v %+v", format, err, rep)
		}
		s, err := f.v.ReadCredential(ctx, req, f.admin, rep.Imported[0].Name, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Password()) != 0 || !strings.Contains(string(s.TOTPURI()), "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP") || s.Username != "clerk" {
			t.Errorf("%s: password %q, TOTP %q, user %q", format, s.Password(), s.TOTPURI(), s.Username)
		}
		s.Destroy()
	}
}
