package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strongroom/vault/storage"
)

// The outside check of issue 14 against the real server: with the server
// stopped, a credential's head is put back to its copy from before a
// change (as a bbolt tool would). The server starts sealed, says where the
// verifier key it shows comes from, and refuses to unseal, saying what it
// found; with the database as the vault wrote it, it unseals and says the
// key was checked.
func TestServerRefusesARolledBackRecord(t *testing.T) {
	v := newProvisioned(t)
	data := filepath.Join(v.work, "data")
	pw := write(t, filepath.Join(v.work, "fb.pw"), "first facebook password")
	v.provider.must(0, "cred", "put", "Facebook page", "--kind", "shared", "--password-file", pw)
	var codes struct {
		Codes []string `json:"codes"`
	}
	json.Unmarshal([]byte(v.provider.must(0, "mfa", "recovery-codes", "--json")), &codes)
	if len(codes.Codes) == 0 {
		t.Fatal("no recovery codes")
	}
	v.srv.stop()
	early := headsOf(t, data)
	v.srv = startServer(t, data)
	v.op = newCLI(t, v.srv, v.work, "operator")
	v.op.must(0, "unseal", "--passphrase-file", v.pass)
	v.provider = newCLI(t, v.srv, v.work, "provider")
	v.provider.must(0, "login", "--user", "IT Provider", "--password-file", filepath.Join(v.work, "a.pw"), "--recovery-code", codes.Codes[0]) // the unseal ended every session
	v.provider.must(0, "cred", "compromised", "Facebook page", "--reason", "seen on a shared screen")
	v.srv.stop()
	db := filepath.Join(data, "strongroom.db")
	late, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}

	st, err := storage.OpenBolt(data, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(context.Background(), func(tx storage.Tx) error {
		for k, val := range early {
			if err := tx.Put(storage.BucketCredentials, []byte(k), val); err != nil {
				return err
			}
		}
		return nil
	})
	st.Close()
	if err != nil || len(early) == 0 {
		t.Fatalf("putting the head back: %v (%d heads)", err, len(early))
	}

	v.srv = startServer(t, data)
	v.op = newCLI(t, v.srv, v.work, "operator")
	var status struct {
		Sealed bool   `json:"sealed"`
		Source string `json:"verifier_key_source"`
		Key    string `json:"verifier_key"`
	}
	json.Unmarshal([]byte(v.op.must(0, "status", "--json")), &status)
	if !status.Sealed || !strings.Contains(status.Source, "not checked") || status.Key != v.verifierKey {
		t.Fatalf("status while sealed: %+v", status)
	}
	msg := v.op.must(1, "unseal", "--passphrase-file", v.pass)
	if !strings.Contains(msg, "changed outside the vault") || !strings.Contains(msg, `bucket "credentials"`) || strings.Contains(msg, "facebook password") {
		t.Fatalf("unseal of a rolled-back head: %s", msg)
	}
	json.Unmarshal([]byte(v.op.must(0, "status", "--json")), &status)
	if !status.Sealed {
		t.Fatal("the refused unseal left the vault unsealed")
	}
	v.srv.stop()

	if err := os.WriteFile(db, late, 0o600); err != nil {
		t.Fatal(err)
	}
	v.srv = startServer(t, data)
	v.op = newCLI(t, v.srv, v.work, "operator")
	v.op.must(0, "unseal", "--passphrase-file", v.pass)
	json.Unmarshal([]byte(v.op.must(0, "status", "--json")), &status)
	if status.Sealed || !strings.Contains(status.Source, "checked against the vault's state seal") {
		t.Fatalf("status after a good unseal: %+v", status)
	}
}

// headsOf is every credential head stored in the stopped server's data.
func headsOf(t *testing.T, data string) map[string][]byte {
	t.Helper()
	st, err := storage.OpenBolt(data, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	out := map[string][]byte{}
	err = st.View(context.Background(), func(tx storage.Tx) error {
		return tx.Scan(storage.BucketCredentials, nil, func(k, val []byte) (bool, error) {
			if strings.HasSuffix(string(k), "/head") {
				out[string(k)] = val
			}
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
