package vault

import (
	"fmt"
	"testing"
)

// BenchmarkReadAmong100 is an audited parallel read with 100 credentials
// stored: the lookup by name is part of the cost.
func BenchmarkReadAmong100(b *testing.B) {
	f := newFixture(b)
	for i := 0; i < 100; i++ {
		f.put(b, f.admin, fmt.Sprintf("Account %03d", i), "admin", "a password", "IT Provider")
	}
	b.ResetTimer()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s, err := f.v.ReadCredential(ctx, req, f.admin, "Account 042", 0)
			if err != nil {
				b.Fatal(err)
			}
			s.Destroy()
		}
	})
}
