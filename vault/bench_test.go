package vault

import (
	"testing"
	"time"
)

// BenchmarkReadCredential measures audited reads: each commits (fsyncs) its
// cred.read entry before returning. Parallel readers share fsyncs through
// the group commit; the sub-benchmarks compare no wait under load with the
// server's default 1 ms wait.
func BenchmarkReadCredential(b *testing.B) {
	for _, tc := range []struct {
		name  string
		delay time.Duration
	}{{"delay=0", 0}, {"delay=1ms", time.Millisecond}} {
		b.Run(tc.name+"/serial", func(b *testing.B) { benchRead(b, tc.delay, false) })
		b.Run(tc.name+"/parallel", func(b *testing.B) { benchRead(b, tc.delay, true) })
	}
}

func benchRead(b *testing.B, delay time.Duration, parallel bool) {
	f := newFixtureWith(b, BoltOptions{MaxBatchDelay: delay})
	f.put(b, f.admin, "Facebook page", "shared", "a password", "IT Provider")
	read := func() {
		s, err := f.v.ReadCredential(ctx, req, f.admin, "Facebook page", 0)
		if err != nil {
			b.Fatal(err)
		}
		s.Destroy()
	}
	b.ResetTimer()
	if parallel {
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				read()
			}
		})
	} else {
		for i := 0; i < b.N; i++ {
			read()
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reads/s")
}
