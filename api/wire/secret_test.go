package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

var stringVectors = []string{
	`""`, `"plain"`, `"a\"b\\c\/d"`, `"\b\f\n\r\t"`, `"\u00e9\u20ac"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ude00x"`,
	`"\ud83dx"`, "\"\xff\xfe\"", "\"caf\xc3\xa9\"", "\"\xed\xa0\x80\"", `"\u0000"`, `"<&>"`,
	`"\x"`, `"\u12"`, `"\u12zz"`, "\"a\x01\"", `"a"b"`, `"a`, `a"`, `"\"`, `null`, `7`,
}

// TestSecretDecodesAsEncodingJSON: a Secret decodes every string literal
// to the bytes encoding/json gives a string, and refuses what it refuses.
func TestSecretDecodesAsEncodingJSON(t *testing.T) {
	for _, v := range stringVectors {
		checkAgainstJSON(t, []byte(v))
	}
}

func FuzzSecretUnmarshal(f *testing.F) {
	for _, v := range stringVectors {
		f.Add([]byte(v))
	}
	f.Fuzz(checkAgainstJSON)
}

func checkAgainstJSON(t *testing.T, lit []byte) {
	var want string
	wantErr := json.Unmarshal(lit, &want)
	var got Secret
	err := json.Unmarshal(lit, &got)
	switch {
	case (err != nil) != (wantErr != nil):
		t.Fatalf("%q: error %v, encoding/json %v", lit, err, wantErr)
	case err == nil && string(got) != want:
		t.Fatalf("%q: got %q, want %q", lit, []byte(got), want)
	}
	if err == nil {
		// What it decodes, it encodes back to the same bytes.
		enc, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		var back Secret
		if err := json.Unmarshal(enc, &back); err != nil || !bytes.Equal(back, got) {
			t.Fatalf("%q: round trip %q gave %q, %v", lit, enc, []byte(back), err)
		}
	}
}

func TestSecretRedacts(t *testing.T) {
	s := Secret("hunter2")
	for _, f := range []string{"%v", "%s", "%q", "%x", "%X", "%#v", "%+v", "%d"} {
		if got := fmt.Sprintf(f, s); got != "(redacted)" {
			t.Errorf("%s: %q", f, got)
		}
	}
	if got := fmt.Sprint(struct{ P Secret }{s}); got != "{(redacted)}" {
		t.Errorf("in a struct: %q", got)
	}
	if got := fmt.Sprintf("%v", LoginRequest{Name: "n", Password: s}); bytes.Contains([]byte(got), []byte("hunter2")) {
		t.Errorf("in a request: %q", got)
	}
	s.Wipe()
	if !bytes.Equal(s, make([]byte, 7)) {
		t.Errorf("wiped: %q", []byte(s))
	}
}

// TestAppendJSONMatchesMarshal: the wipeable writers produce what
// encoding/json would, field for field.
func TestAppendJSONMatchesMarshal(t *testing.T) {
	info := CredentialInfo{Name: "Facebook <page>", Kind: "shared", Tags: []string{"a"}}
	for _, v := range []interface {
		AppendJSON([]byte) ([]byte, error)
	}{
		Credential{CredentialInfo: info, Password: Secret("p\"w\n\x01é")},
		Credential{CredentialInfo: info, Password: Secret("pw"), TOTPURI: Secret("otpauth://totp/x"), Notes: Secret("line1\nline2")},
		Rotated{CredentialInfo: info},
		Rotated{CredentialInfo: info, Password: Secret("Word-Word-Word")},
		Generated{EntropyBits: 38.5, Words: 3, Password: Secret("Word-Word-Word")},
	} {
		got, err := v.AppendJSON([]byte("prefix"))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(v)
		var g, w any
		if !bytes.HasPrefix(got, []byte("prefix")) || json.Unmarshal(got[6:], &g) != nil || json.Unmarshal(want, &w) != nil ||
			fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("AppendJSON %s\nwant %s", got, want)
		}
	}
}
