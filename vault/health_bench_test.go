package vault

import (
	"fmt"
	"os"
	"testing"
	"time"

	"strongroom/transfer"
)

// BenchmarkPasswordHealth is the password health report over HEALTH_CREDS
// admin credentials (default 2,000; set HEALTH_CREDS=100000 for the size
// the report is designed for), each with its own three-word password and
// one in ten sharing one. zxcvbn is most of the cost.
func BenchmarkPasswordHealth(b *testing.B) {
	n := envInt("HEALTH_CREDS", 2_000)
	f := newFixture(b)
	words := []string{"plover", "quince", "mandolin", "kestrel", "obelisk", "saffron", "umbra", "gannet", "tundra", "whistle", "heron", "marble"}
	start := time.Now()
	for done := 0; done < n; done += 10_000 {
		m := min(10_000, n-done)
		_, err := f.v.Import(ctx, req, f.admin, ImportOptions{Format: "csv", Kind: "admin"}, func() (*transfer.Result, error) {
			r := &transfer.Result{}
			for i := 0; i < m; i++ {
				k := done + i
				if k%10 == 0 {
					k = 0
				}
				pw := fmt.Sprintf("%s-%s-%s-%d", words[k%12], words[k/12%12], words[k/144%12], k)
				r.Items = append(r.Items, transfer.Item{Title: fmt.Sprintf("Account %07d", done+i), Username: "admin",
					URL: "https://www.facebook.com/page", Password: []byte(pw), Source: fmt.Sprintf("line %d", i+2)})
			}
			return r, nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if os.Getenv("HEALTH_CREDS") != "" {
		b.Logf("built %d credentials in %s", n, time.Since(start).Round(time.Second))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep, err := f.v.PasswordHealth(ctx, req, f.admin, 0)
		if err != nil || rep.Checked != n {
			b.Fatalf("%v, checked %d", err, rep.Checked)
		}
	}
}
