package api

import (
	"fmt"
	"io"
	"net/http"
	"testing"
)

// BenchmarkAuditedReadHTTP: GET /v1/creds/NAME with a real session token,
// among 100 credentials, every read durably audited, clients in parallel.
func BenchmarkAuditedReadHTTP(b *testing.B) {
	e := newEnv(b)
	for i := 0; i < 100; i++ {
		if st, body := e.call(b, "POST", "/v1/creds", e.token, fmt.Sprintf(`{"name":"Account %03d","kind":"admin","password":"secret %d","assignees":["IT Provider"]}`, i, i)); st != 201 {
			b.Fatalf("%d %s", st, body)
		}
	}
	e.reauth(b) // admin secrets need a re-authentication within 5 minutes
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		cl := &http.Client{Transport: tr}
		for pb.Next() {
			r, _ := http.NewRequest("GET", e.srv.URL+"/v1/creds/Account%20042", nil)
			r.Header.Set("Authorization", "Bearer "+e.token)
			resp, err := cl.Do(r)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatal(resp.Status)
			}
		}
	})
}
