package transfer

import (
	"strings"
	"testing"
)

// An entry with a TOTP and no password (a second factor kept on its
// own) is imported, its password empty; one with neither is still
// skipped, in every format.
func TestTOTPWithoutPassword(t *testing.T) {
	const uri = "otpauth://totp/Council%20portal:clerk?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Council%20portal"
	only := []want{{title: "Council portal", user: "clerk", totpHas: "secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"}}
	skipped := []string{"Old printer: no password"}
	cases := map[string]func() (*Result, error){
		"keepass-xml": func() (*Result, error) {
			return DecodeKeePassXML([]byte(`<KeePassFile><Root><Group><Name>Root</Name>` +
				`<Entry><String><Key>Title</Key><Value>Council portal</Value></String><String><Key>UserName</Key><Value>clerk</Value></String>` +
				`<String><Key>Password</Key><Value></Value></String><String><Key>otp</Key><Value>` + strings.ReplaceAll(uri, "&", "&amp;") + `</Value></String></Entry>` +
				`<Entry><String><Key>Title</Key><Value>Old printer</Value></String><String><Key>UserName</Key><Value>admin</Value></String></Entry>` +
				`</Group></Root></KeePassFile>`))
		},
		"bitwarden-json": func() (*Result, error) {
			return DecodeBitwardenJSON([]byte(`{"encrypted":false,"items":[` +
				`{"type":1,"name":"Council portal","login":{"username":"clerk","password":null,"totp":"` + uri + `"}},` +
				`{"type":1,"name":"Old printer","login":{"username":"admin","password":""}}]}`))
		},
		"bitwarden-csv": func() (*Result, error) {
			return DecodeBitwardenCSV([]byte("folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp\n" +
				",,login,Council portal,,,0,,clerk,," + uri + "\n,,login,Old printer,,,0,,admin,,\n"))
		},
		"csv": func() (*Result, error) {
			return DecodeCSV([]byte("Title,Username,Password,TOTP\nCouncil portal,clerk,,"+uri+"\nOld printer,admin,,\n"), nil)
		},
	}
	for name, decode := range cases {
		t.Run(name, func(t *testing.T) {
			r, err := decode()
			if err != nil {
				t.Fatal(err)
			}
			check(t, r, only, skipped)
		})
	}
}
