package vault

import (
	"testing"
	"time"

	"strongroom/vault/passwords"
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

// BenchmarkLogin: password logins of an MFA-exempt member at the server's
// password cost (Argon2id 19 MiB, 2 passes, 1 lane), beside the Argon2id
// computation alone: login is bound by Argon2id, by design.
func BenchmarkLogin(b *testing.B) {
	f := newFixture(b)
	f.v.pwKDF = KDFParams{Memory: 19 * 1024, Time: 2, Threads: 1} // as vault.New's default
	_, ot := f.addUser(b, "Member", RoleMember)
	if err := f.v.SetMFAExempt(ctx, req, f.admin, "Member", true); err != nil {
		b.Fatal(err)
	}
	pw := []byte("sparrow lantern quarry 7")
	if _, _, err := f.v.Login(ctx, req, LoginRequest{Name: "Member", Password: []byte(ot.Password), NewPassword: pw}); err != nil {
		b.Fatal(err)
	}
	b.Run("login", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, _, err := f.v.Login(ctx, req, LoginRequest{Name: "Member", Password: append([]byte(nil), pw...)}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
	})
	b.Run("argon2id-alone", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				passwords.Hash(f.v.pwKDF, pw)
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
	})
}

// BenchmarkUnseal: unsealing by passphrase at the default cost (Argon2id
// 64 MiB, 3 passes, 4 lanes), sealing again between rounds, beside the
// passphrase's Argon2id alone.
func BenchmarkUnseal(b *testing.B) {
	st, err := OpenBolt(b.TempDir(), BoltOptions{})
	if err != nil {
		b.Fatal(err)
	}
	v := New(Config{Store: st, KDF: DefaultKDF()})
	defer v.Close()
	pass := []byte("correct horse battery staple")
	if _, err := v.Init(ctx, req, InitRequest{Shares: 1, Threshold: 1, Holders: []string{"Chairman"}, Admin: "IT Provider", Passphrase: pass}); err != nil {
		b.Fatal(err)
	}
	b.Run("unseal", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if err := v.UnsealPassphrase(ctx, req, append([]byte(nil), pass...)); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			v.dropKeys()
			b.StartTimer()
		}
	})
	b.Run("argon2id-alone", func(b *testing.B) {
		p := DefaultKDF()
		p.Salt = make([]byte, 16)
		for i := 0; i < b.N; i++ {
			p.Derive(pass)
		}
	})
}
