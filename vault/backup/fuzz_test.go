package backup

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
)

func FuzzParseBackup(f *testing.F) {
	db := []byte("not really a database, but framed correctly")
	sum := sha256.Sum256(db)
	man := fmt.Sprintf(`{"vault_id":"00","size":%d,"sha256":"%s"}`, len(db), hex.EncodeToString(sum[:]))
	signed := man + "\n\n— key sig\n"
	f.Add([]byte(fmt.Sprintf("%s%d\n%s%s", Magic, len(signed), signed, db)))
	f.Add([]byte(Magic + "9999999\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Parse(bytes.NewReader(data))
		if err != nil {
			return
		}
		got := sha256.Sum256(b.DB)
		if int64(len(b.DB)) != b.Manifest.Size || hex.EncodeToString(got[:]) != b.Manifest.SHA256 {
			t.Fatal("accepted a backup whose database does not match its manifest")
		}
	})
}
