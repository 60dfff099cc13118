package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"strongroom/api"
	"strongroom/vault"
)

func serverCmd() *cobra.Command {
	var sf serverFlags
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the vault server (starts sealed)",
		Args:  nargs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyConfig(cmd.Flags(), sf.config); err != nil {
				return err
			}
			cfg, hk, err := sf.check()
			if err != nil {
				return err
			}
			if sf.cpuProfile != "" { // for docs/benchmarks.md: where the time goes
				f, err := os.OpenFile(sf.cpuProfile, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
				if err != nil {
					return usagef("--cpu-profile: %v", err)
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			return serve(cmd.Context(), &sf, cfg, hk)
		},
	}
	sf.register(cmd.Flags())
	return cmd
}

// backupCheck is how often the server looks whether a scheduled backup
// is due.
const backupCheck = 5 * time.Second

// housekeeping is the server's periodic work on the audit log.
type housekeeping struct {
	commitDelay                time.Duration // the group commit's wait under load (--commit-delay)
	checkpointEvery, retention time.Duration
	backupDir                  string
	backupEvery                time.Duration
	backupKeep                 vault.BackupRetention
	copy                       *backupCopy // --backup-copy, and the backups' state for status
}

// run signs a checkpoint when the log grew and prunes entries past the
// retention period, while the vault is unsealed, until ctx ends.
func (h housekeeping) run(ctx context.Context, v *vault.Vault, log *slog.Logger) {
	t := time.NewTicker(h.checkpointEvery)
	defer t.Stop()
	// Backups are due --backup-every after the newest in the directory,
	// checked every few seconds, so a restart neither skips one nor takes
	// an extra one; a failed one is tried again after 5 minutes, doubling
	// to an hour (or --backup-every, if shorter); a newest backup dated in
	// the future (the clock went back) does not stop them.
	var backups <-chan time.Time
	var retryAt time.Time
	failures := 0
	if h.backupDir != "" {
		bt := time.NewTicker(backupCheck)
		defer bt.Stop()
		backups = bt.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-backups:
			now := time.Now()
			newest, _ := vault.NewestBackup(h.backupDir)
			due := now.Sub(newest) >= h.backupEvery || newest.After(now)
			if v.Sealed() || !due || now.Before(retryAt) {
				continue
			}
			name, removed, err := v.BackupToDir(ctx, h.backupDir, h.backupKeep)
			if name != "" {
				err = nil // written; only pruning failed
			}
			if err != nil {
				failures++
				retryAt = now.Add(min(5*time.Minute<<min(failures-1, 4), time.Hour, h.backupEvery))
				log.Error("scheduled backup failed", "err", err, "retry_at", retryAt.UTC().Format(time.RFC3339))
			} else {
				failures, retryAt = 0, time.Time{}
				log.Info("scheduled backup written", "file", name, "pruned", len(removed))
			}
			h.copy.start(ctx, v, log, name, err) // a copy may take long: the checkpoints go on
			continue
		case <-t.C:
		}
		if v.Sealed() {
			continue
		}
		if err := v.CheckState(ctx); err != nil { // changed outside the vault: it has sealed itself
			log.Error("hourly state check failed", "err", err)
			continue
		}
		if cut, err := v.AutoCheckpoint(ctx); err != nil {
			log.Warn("automatic checkpoint failed", "err", err)
		} else if cut {
			log.Info("audit checkpoint signed")
		}
		if h.retention > 0 {
			if res, err := v.PruneExpired(ctx, vault.Request{ID: "retention"}); err != nil {
				log.Warn("audit retention pruning failed", "err", err)
			} else if res.Through > 0 {
				log.Info("audit log pruned by retention", "from_seq", res.From, "through_seq", res.Through)
			}
		}
	}
}

// serverTLS allows TLS 1.3, and TLS 1.2 with forward-secret AEAD suites
// only (ECDHE with AES-GCM or ChaCha20-Poly1305): no CBC, no RSA key
// exchange, nothing older. Go chooses the TLS 1.3 suites itself.
func serverTLS(cert tls.Certificate) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert},
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		}}
}

// hardenProcess keeps secrets out of core files and away from other
// processes of the same user: no core dumps (memguard also sets
// RLIMIT_CORE to 0) and not dumpable, so no ptrace attach and no
// /proc/PID/mem reads except by root.
func hardenProcess() error {
	if err := syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{Cur: 0, Max: 0}); err != nil {
		return fmt.Errorf("cannot disable core dumps: %v", err)
	}
	return prctlNotDumpable()
}

func serve(ctx context.Context, sf *serverFlags, cfg vault.Config, hk housekeeping) error {
	data, listen, nf := sf.data, sf.listen, &sf.nf
	log := nf.logger()
	if err := hardenProcess(); err != nil {
		return err
	}
	certFile, cert, tlsCfg, fromCA, err := sf.serverCertificates(log)
	if err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" {
		// The heap is small (tens of MB); collecting at 200% growth instead
		// of 100% gave audited reads at 64 clients 8,950 -> 11,100/s for
		// about 15 MB more resident (docs/benchmarks.md). GOGC overrides.
		debug.SetGCPercent(200)
	}
	metrics := api.NewMetrics()
	store, err := vault.OpenBolt(data, vault.BoltOptions{MaxBatchDelay: hk.commitDelay, Observe: metrics.ObserveCommit})
	if err != nil {
		return err
	}
	cfg.Store, cfg.Logger = metrics.Store(store), log
	v := vault.New(cfg)
	defer v.Close()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	allowStopping(27 * time.Second) // the shutdown below (10 s, 3 s, housekeeping and copies 5+5 s, the close), inside the unit's TimeoutStopSec=30s
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen: %v", err)
	}
	opts, err := nf.start(ctx, v, metrics, log, ln.Addr().String())
	if err != nil {
		ln.Close()
		return err
	}
	if hk.backupDir != "" {
		opts.Backups = hk.copy.status
	}
	srv := &http.Server{
		Handler:           api.New(v, opts),
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	fp := sha256.Sum256(cert.Certificate[0])
	fmt.Printf("strongroom: listening on https://%s (sealed)\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	sf.auto.atStart(ctx, v, log) // before the fingerprint: a caller waiting for it sees the outcome
	if fromCA != nil {
		fmt.Printf("strongroom: certificate %s for connections not to %s\n", certFile, sf.acme.domain)
		fmt.Printf("strongroom: self-signed certificate fingerprint sha256:%s\n", hex.EncodeToString(fp[:]))
		go fromCA.obtain(ctx) // prints the CA's certificate's fingerprint once it has it
	} else {
		fmt.Printf("strongroom: certificate %s\n", certFile)
		fmt.Printf("strongroom: certificate fingerprint sha256:%s\n", hex.EncodeToString(fp[:]))
	}
	hkDone := make(chan struct{})
	go func() { defer close(hkDone); hk.run(ctx, v, log) }()
	go tellSystemd(ctx, v, ln.Addr().String(), log)
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	case <-ctx.Done():
		tellSystemdStopping()
		log.Info("shutting down: sealing")
		shutDown(srv, v, hk, hkDone, log)
	}
	return nil
}

// serverCertificates is the server's TLS: the certificate files given,
// or the self-signed one of DATA/tls; with --acme-domain, the CA's for
// the domain beside it (fromCA).
func (sf *serverFlags) serverCertificates(log *slog.Logger) (certFile string, cert tls.Certificate, cfg *tls.Config, fromCA *acmeTLS, err error) {
	certFile, keyFile := sf.certFile, sf.keyFile
	if certFile == "" {
		if certFile, keyFile, err = ensureSelfSigned(filepath.Join(sf.data, "tls")); err != nil {
			return
		}
	}
	if cert, err = tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		err = fmt.Errorf("TLS certificate: %v", err)
		return
	}
	cfg = serverTLS(cert)
	if sf.acme.domain != "" {
		fromCA, cfg, err = sf.acme.tls(sf.data, cert, log)
	}
	return
}

// shutDown stops the server in order: requests first (up to 10 s), so
// the checkpoint covers every entry they wrote; then the checkpoint (up
// to 3 s); then housekeeping and an off-site copy under way (its command
// killed, recorded as stopped), before the caller closes the store, all
// within the grace allowStopping gave.
func shutDown(srv *http.Server, v *vault.Vault, hk housekeeping, hkDone <-chan struct{}, log *slog.Logger) {
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if !v.Sealed() {
		cctx, ccancel := context.WithTimeout(context.Background(), 3*time.Second)
		if _, err := v.AutoCheckpoint(cctx); err != nil { // the log's state at shutdown, signed
			log.Warn("checkpoint at shutdown failed", "err", err)
		}
		ccancel()
	}
	select {
	case <-hkDone:
	case <-time.After(5 * time.Second):
		log.Warn("housekeeping did not stop within 5 s")
	}
	hk.copy.wait(5 * time.Second)
}

// ensureSelfSigned makes DIR/cert.pem and DIR/key.pem (ECDSA P-256, for
// 127.0.0.1, ::1, localhost and this host's name) unless they exist.
func ensureSelfSigned(dir string) (string, string, error) {
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if _, err := os.Stat(certFile); err == nil {
		return certFile, keyFile, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	host, _ := os.Hostname()
	names := []string{"localhost"}
	if host != "" && host != "localhost" {
		names = append(names, host)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Strongroom vault (self-signed)"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(2, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              names,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", err
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}
