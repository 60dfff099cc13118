package audit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestIndependentVerifierAgrees runs testdata/verify_chain.py, written from
// SECURITY.md's words alone, on valid, filtered and tampered logs: its
// verdict and the Go verifier's must agree. This is the proof that the
// documentation is enough to re-implement the check.
func TestIndependentVerifierAgrees(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3 is needed for the independent verifier")
		}
		t.Skip("python3 not installed")
	}
	base := buildLog(15)
	filtered := make([][]byte, len(base))
	for i, l := range base {
		filtered[i] = l
		if i%3 != 0 {
			e, _ := ParseLine(l)
			filtered[i] = Redact(e).Line()
		}
	}
	changed := append([][]byte(nil), base...)
	changed[6] = bytes.Replace(changed[6], []byte(`"outcome":"ok"`), []byte(`"outcome":"denied"`), 1)
	forgedDigest := append([][]byte(nil), filtered...)
	forgedDigest[4] = bytes.Replace(forgedDigest[4], []byte(`"digest":"`), []byte(`"digest":"f`), 1)
	forgedDigest[4] = bytes.Replace(forgedDigest[4], []byte(`","prev"`), []byte(`","prev"`), 1)
	spaced := append([][]byte(nil), base...)
	spaced[2] = bytes.Replace(spaced[2], []byte(`"seq":3,`), []byte(`"seq":3, `), 1)
	cases := map[string][][]byte{
		"valid":            base,
		"filtered":         filtered,
		"field changed":    changed,
		"entry deleted":    append(append([][]byte(nil), base[:9]...), base[10:]...),
		"two reordered":    append([][]byte{base[0], base[2], base[1]}, base[3:]...),
		"forged digest":    forgedDigest,
		"non-canonical":    spaced,
		"rewritten chain":  rehash(t, changed, 6), // passes the chain alone, in both
		"unicode and ctrl": buildLog(5),
		"a 12 MB line":     bytes.Split(bytes.TrimSuffix(legacyLongLog(2<<20), []byte("\n")), []byte("\n")),
	}
	for name, lines := range cases {
		t.Run(name, func(t *testing.T) {
			log := join(lines)
			goVerdict := "OK"
			rep, err := VerifyJSONL(bytes.NewReader(log))
			var ce *ChainError
			if errors.As(err, &ce) {
				goVerdict = fmt.Sprintf("FAIL %d", ce.Seq)
			} else if err != nil {
				t.Fatal(err)
			} else {
				goVerdict = fmt.Sprintf("OK %d %s", rep.Checked, rep.HeadHash)
			}
			cmd := exec.Command(py, filepath.Join("testdata", "verify_chain.py"))
			cmd.Stdin = bytes.NewReader(log)
			out, _ := cmd.Output()
			pyVerdict := strings.TrimSpace(string(out))
			if strings.HasPrefix(pyVerdict, "FAIL") {
				pyVerdict = strings.Join(strings.Fields(pyVerdict)[:2], " ")
			}
			if pyVerdict != goVerdict {
				t.Fatalf("Python says %q, Go says %q", pyVerdict, goVerdict)
			}
		})
	}
}
