package main

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"strongroom/vault"
)

// serverFlags are the settings of `strongroom server`: each a flag, and
// each settable in the --config file (config.go) under the flag's name.
type serverFlags struct {
	config, data, listen, certFile, keyFile         string
	kdfMemory, kdfTime                              uint32
	breakGlass, cpEvery, retention                  time.Duration
	backupEvery, commitDelay                        time.Duration
	backupDir, backupKeep, cpuProfile, adminApprove string
	nf                                              notifyFlags
	acme                                            acmeFlags
	auto                                            autoUnsealFlags
	firstSeal, passwordless                         bool
	requirePasskey, backupCopy                      string
	backupCopyTimeout                               time.Duration
}

func (sf *serverFlags) register(f *pflag.FlagSet) {
	sf.nf.register(f)
	sf.acme.register(f)
	sf.auto.register(f)
	f.StringVar(&sf.config, "config", "", "read settings from this file (one 'name = value' a line, names as these flags without --); a flag given on the command line overrides the file")
	f.StringVar(&sf.data, "data", "./data", "data directory (holds strongroom.db and tls/)")
	f.DurationVar(&sf.commitDelay, "commit-delay", time.Millisecond, "under load, how long the committer waits for more writes (every audited read is one) to share the next commit and its fsyncs; a lone write never waits")
	f.StringVar(&sf.listen, "listen", "127.0.0.1:8443", "address to listen on")
	f.StringVar(&sf.certFile, "tls-cert", "", "TLS certificate (PEM); default: a self-signed one made in DATA/tls on first start")
	f.StringVar(&sf.keyFile, "tls-key", "", "TLS private key (PEM)")
	f.Uint32Var(&sf.kdfMemory, "kdf-memory", 0, "Argon2id memory in KiB for the passphrase at init (default 65536)")
	f.Uint32Var(&sf.kdfTime, "kdf-time", 0, "Argon2id passes for the passphrase at init (default 3)")
	f.DurationVar(&sf.breakGlass, "breakglass-window", 4*time.Hour, "how long the chairman's break-glass access lasts after an emergency recovery")
	f.StringVar(&sf.adminApprove, "admin-approver", "chairman", "who approves requests for admin credentials: chairman, or provider (the chairman, or a provider who is not the requester)")
	f.DurationVar(&sf.cpEvery, "checkpoint-interval", time.Hour, "how often to sign a checkpoint of the audit log when there is new activity")
	f.StringVar(&sf.backupDir, "backup-dir", "", "directory for scheduled backups (none if empty)")
	f.DurationVar(&sf.backupEvery, "backup-every", 24*time.Hour, "how often to take a scheduled backup (while unsealed)")
	f.StringVar(&sf.cpuProfile, "cpu-profile", "", "write a Go CPU profile (pprof) to this file until the server stops (for benchmarking)")
	f.StringVar(&sf.backupKeep, "backup-keep", "7,4,12", "scheduled backups kept: daily,weekly,monthly")
	f.StringVar(&sf.backupCopy, "backup-copy", "", "after each scheduled backup, run this command to copy it off site, with {file} the backup's path and {name} its file name, e.g. 'rclone copyto {file} remote:strongroom/{name}' (no shell runs it); each result is recorded")
	f.DurationVar(&sf.backupCopyTimeout, "backup-copy-timeout", time.Hour, "how long the --backup-copy command may run before it is stopped and counted as failed")
	f.StringVar(&sf.requirePasskey, "require-passkey", "", "roles (e.g. provider,chairman) for whom, once they have a passkey, an authenticator code is no longer accepted (recovery codes still are); needs --public-url with a host name")
	f.BoolVar(&sf.passwordless, "passwordless", false, "let people sign in with a passkey alone (one that checks their fingerprint, face or PIN), with no password; needs --public-url with a host name")
	f.BoolVar(&sf.firstSeal, "first-state-seal", false, "once, after upgrading from a release before the state seal: let the next unseal take the database as it is and seal it (SECURITY.md \"The state seal\"); without it such a vault refuses to unseal")
	f.DurationVar(&sf.retention, "audit-retention", 6*365*24*time.Hour, "how long audit entries are kept, at least one year (0 keeps everything); older ones are pruned automatically behind a signed checkpoint, and no one can prune younger ones")
}

// check refuses settings out of range (a usage error) and turns the rest
// into the vault's configuration and the server's housekeeping.
func (sf *serverFlags) check() (vault.Config, housekeeping, error) {
	var none housekeeping
	if (sf.certFile == "") != (sf.keyFile == "") {
		return vault.Config{}, none, usagef("give both --tls-cert and --tls-key, or neither")
	}
	if err := sf.nf.check(sf.listen); err != nil {
		return vault.Config{}, none, err
	}
	if err := sf.acme.check(sf.certFile); err != nil {
		return vault.Config{}, none, err
	}
	kdf := vault.DefaultKDF()
	if sf.kdfMemory != 0 {
		kdf.Memory = sf.kdfMemory
	}
	if sf.kdfTime != 0 {
		kdf.Time = sf.kdfTime
	}
	approver, err := vault.ParseAdminApprover(sf.adminApprove)
	var keep vault.BackupRetention
	_, kerr := fmt.Sscanf(sf.backupKeep, "%d,%d,%d", &keep.Daily, &keep.Weekly, &keep.Monthly)
	switch {
	case kdf.Memory < vault.MinKDFMemory || kdf.Time < vault.MinKDFTime:
		return vault.Config{}, none, usagef("--kdf-memory must be at least %d KiB and --kdf-time at least %d", vault.MinKDFMemory, vault.MinKDFTime)
	case sf.breakGlass < time.Minute || sf.breakGlass > 24*time.Hour:
		return vault.Config{}, none, usagef("--breakglass-window must be between 1m and 24h")
	case err != nil:
		return vault.Config{}, none, usagef("--admin-approver must be chairman or provider")
	case sf.cpEvery < time.Second:
		return vault.Config{}, none, usagef("--checkpoint-interval must be at least 1s")
	case sf.retention != 0 && sf.retention < vault.MinAuditRetention:
		return vault.Config{}, none, usagef("--audit-retention must be 0 (keep everything) or at least one year (8760h)")
	case kerr != nil || keep.Daily < 1 || keep.Weekly < 0 || keep.Monthly < 0:
		return vault.Config{}, none, usagef("--backup-keep is daily,weekly,monthly counts, e.g. 7,4,12")
	case sf.commitDelay < 0 || sf.commitDelay > 50*time.Millisecond:
		return vault.Config{}, none, usagef("--commit-delay must be between 0 and 50ms")
	case sf.backupDir != "" && sf.backupEvery < time.Minute:
		return vault.Config{}, none, usagef("--backup-every must be at least 1m")
	}
	bc, err := parseBackupCopy(sf.backupCopy, sf.backupCopyTimeout)
	if err != nil {
		return vault.Config{}, none, err
	}
	if len(bc.words) > 0 && sf.backupDir == "" {
		return vault.Config{}, none, usagef("--backup-copy copies the scheduled backups: give --backup-dir too")
	}
	auto, err := sf.auto.check(sf.data)
	if err != nil {
		return vault.Config{}, none, err
	}
	cfg := vault.Config{KDF: kdf, BreakGlassWindow: sf.breakGlass, AdminApprover: approver, AuditRetention: sf.retention, FirstStateSeal: sf.firstSeal, AutoUnseal: auto}
	if err := passkeyConfig(&sf.nf, sf.requirePasskey, sf.passwordless, &cfg); err != nil {
		return vault.Config{}, none, err
	}
	return cfg, housekeeping{commitDelay: sf.commitDelay, checkpointEvery: sf.cpEvery, retention: sf.retention,
		backupDir: sf.backupDir, backupEvery: sf.backupEvery, backupKeep: keep, copy: bc}, nil
}
