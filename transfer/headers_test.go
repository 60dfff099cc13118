package transfer

import "testing"

// The CSV exports councils bring, recognised without --map, with the
// header rows those managers write; and a Bitwarden JSON with a BOM.
func TestKnownCSVHeaders(t *testing.T) {
	cases := []struct{ name, csv, title, folder, totp string }{
		{"LastPass", "url,username,password,totp,extra,name,grouping,fav\nhttps://bank.example,clerk,pw1,,note,Bank,Finance,0\n", "Bank", "Finance", ""},
		{"1Password", "Title,Url,Username,Password,OTPAuth,Favorite,Archived,Tags,Notes\nBank,https://bank.example,clerk,pw1,otpauth://totp/x?secret=JBSWY3DPEHPK3PXP,false,false,money,\n", "Bank", "", "otpauth://"},
		{"Chrome", "name,url,username,password,note\nBank,https://bank.example/,clerk,pw1,\n", "Bank", "", ""},
		{"Firefox", "\"url\",\"username\",\"password\",\"httpRealm\",\"formActionOrigin\",\"guid\",\"timeCreated\",\"timeLastUsed\",\"timePasswordChanged\"\n" +
			"\"https://bank.example\",\"clerk\",\"pw1\",,\"https://bank.example\",\"{1}\",\"1\",\"1\",\"1\"\n", "bank.example", "", ""},
	}
	for _, c := range cases {
		r, err := DecodeCSV([]byte(c.csv), nil)
		if err != nil || len(r.Items) != 1 {
			t.Errorf("%s: %v %+v", c.name, err, r)
			continue
		}
		it := r.Items[0]
		if it.Title != c.title || it.Folder != c.folder || it.Username != "clerk" || string(it.Password) != "pw1" ||
			(c.totp != "" && len(it.TOTP) < len(c.totp)) {
			t.Errorf("%s: %+v", c.name, it)
		}
	}
	if r, err := DecodeBitwardenJSON([]byte("\xef\xbb\xbf{\"encrypted\":false,\"items\":[{\"type\":1,\"name\":\"A\",\"login\":{\"password\":\"p\"}}]}")); err != nil || len(r.Items) != 1 {
		t.Fatalf("Bitwarden JSON with a BOM: %v", err)
	}
}
