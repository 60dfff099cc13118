package transfer

import (
	"strings"
	"testing"
	"time"
)

// Nothing a file holds vanishes: passkeys, linked fields and undated
// history are listed as not imported, with the reason; dated history
// comes as earlier versions, oldest first.
func TestNothingSilentlyDropped(t *testing.T) {
	bw := `{"encrypted":false,"folders":[],"items":[{"type":1,"name":"Council email",` +
		`"fields":[{"name":"PIN","value":"4471","type":0},{"name":"Login","value":null,"type":3,"linkedId":100}],` +
		`"login":{"username":"clerk","password":"third-pw","totp":null,` +
		`"fido2Credentials":[{"credentialId":"x","keyType":"public-key","keyValue":"planted-key-value"}]},` +
		`"passwordHistory":[{"lastUsedDate":"2024-05-01T10:00:00.000Z","password":"second-pw"},` +
		`{"lastUsedDate":"2023-01-01T09:00:00.000Z","password":"first-pw"},{"lastUsedDate":null,"password":"undated-pw"}]}]}`
	r, err := DecodeBitwardenJSON([]byte(bw))
	if err != nil || len(r.Items) != 1 {
		t.Fatalf("%v %+v", err, r)
	}
	it := r.Items[0]
	if len(it.History) != 2 || string(it.History[0].Password) != "first-pw" || string(it.History[1].Password) != "second-pw" ||
		!it.History[0].Date.Equal(time.Date(2023, 1, 1, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("history %+v", it.History)
	}
	wantSkipped(t, r, "custom field 2 not imported: it is a linked field", "1 passkey(s) not imported: a passkey cannot move",
		"1 earlier password(s) not imported: the file gives no date")

	xml := `<KeePassFile><Root><Group><Name>Root</Name><Entry><String><Key>Title</Key><Value>Router</Value></String>` +
		`<String><Key>Password</Key><Value>now-pw</Value></String><Binary><Key>manual.pdf</Key><Value Ref="0"/></Binary><History>` +
		`<Entry><Times><LastModificationTime>2022-03-04T05:06:07Z</LastModificationTime></Times>` +
		`<String><Key>Password</Key><Value>was-pw</Value></String><String><Key>UserName</Key><Value>admin</Value></String></Entry>` +
		`<Entry><String><Key>Password</Key><Value>no-time-pw</Value></String></Entry>` +
		`</History></Entry></Group></Root></KeePassFile>`
	r, err = DecodeKeePassXML([]byte(xml))
	if err != nil || len(r.Items) != 1 {
		t.Fatalf("%v %+v", err, r)
	}
	if h := r.Items[0].History; len(h) != 1 || string(h[0].Password) != "was-pw" || h[0].Username != "admin" ||
		!h[0].Date.Equal(time.Date(2022, 3, 4, 5, 6, 7, 0, time.UTC)) {
		t.Fatalf("KeePass history %+v", h)
	}
	wantSkipped(t, r, "an attachment not imported", "1 earlier version(s) not imported: they have no modification time")
	if tm, ok := kdbxParseTime(kdbxTime(time.Date(2021, 2, 3, 4, 5, 6, 0, time.UTC))); !ok || tm != time.Date(2021, 2, 3, 4, 5, 6, 0, time.UTC) {
		t.Fatalf("KDBX 4 time: %v %v", tm, ok)
	}
}

func wantSkipped(t *testing.T, r *Result, reasons ...string) {
	t.Helper()
	if len(r.Skipped) != len(reasons) {
		t.Fatalf("skipped %+v, want %q", r.Skipped, reasons)
	}
	for i, w := range reasons {
		if !strings.HasPrefix(r.Skipped[i].Reason, w) || strings.Contains(r.Skipped[i].Reason, "planted") {
			t.Errorf("skipped %d: %q, want %q…", i, r.Skipped[i].Reason, w)
		}
	}
}
