package tpmseal

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/google/go-tpm/tpm2/transport/linuxtpm"
	"github.com/google/go-tpm/tpm2/transport/linuxudstpm"
)

// Errors a caller branches on.
var (
	// ErrNoTPM: the device is absent or does not answer as a TPM 2.0.
	ErrNoTPM = errors.New("tpmseal: no TPM 2.0")
	// ErrNoBlob: nothing has been sealed yet (no blob file).
	ErrNoBlob = errors.New("tpmseal: nothing sealed to this TPM yet")
	// ErrPolicy: a PCR the secret is bound to has changed since it was
	// sealed (firmware, boot loader or Secure Boot changed), so the TPM
	// refuses to release it.
	ErrPolicy = errors.New("tpmseal: the TPM refuses: a bound PCR changed since the secret was sealed")
	// ErrBlob: the blob file is malformed, or was not made by this TPM
	// (copied from another machine, or the TPM was cleared).
	ErrBlob = errors.New("tpmseal: the sealed copy was not made by this TPM, or is damaged")
)

// DefaultDevice is the kernel's TPM resource manager.
const DefaultDevice = "/dev/tpmrm0"

// maxPCRs bounds the selection so one PCR_Read answers for all of it.
const maxPCRs = 8

// Sealer seals a secret to one TPM into one blob file.
type Sealer struct {
	// Device is a TPM character device (/dev/tpmrm0) or the Unix socket
	// of a software TPM (swtpm socket --server type=unixio,path=...).
	Device string
	// File is where the blobs are kept (DATA/tpm-seal).
	File string
	// PCRs are the SHA-256 PCRs a new seal is bound to (Store). Load
	// uses the set recorded in the file.
	PCRs []int
}

// Open connects to the TPM at device: a character device, or a Unix
// socket for a software TPM.
func Open(device string) (transport.TPMCloser, error) {
	fi, err := os.Stat(device)
	if err != nil {
		return nil, fmt.Errorf("%w at %s: %v", ErrNoTPM, device, err)
	}
	var t transport.TPMCloser
	if fi.Mode()&os.ModeSocket != 0 {
		t, err = linuxudstpm.Open(device)
	} else {
		t, err = linuxtpm.Open(device)
	}
	if err != nil {
		return nil, fmt.Errorf("%w at %s: %v", ErrNoTPM, device, err)
	}
	return t, nil
}

// Probe opens the TPM and asks it for random bytes: the cheapest command
// that only a working TPM 2.0 answers.
func Probe(device string) error {
	t, err := Open(device)
	if err != nil {
		return err
	}
	defer t.Close()
	if _, err := (tpm2.GetRandom{BytesRequested: 8}).Execute(t); err != nil {
		return fmt.Errorf("%w at %s: %v", ErrNoTPM, device, err)
	}
	return nil
}

// ParsePCRs reads a comma-separated list of PCR numbers (0-23, at most 8).
func ParsePCRs(list string) ([]int, error) {
	var pcrs []int
	seen := map[int]bool{}
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 || n > 15 {
			// 16 and 23 can be reset by anyone, 17-22 belong to late
			// launch: binding to them binds to nothing.
			return nil, errors.New("PCR numbers are 0 to 15, separated by commas")
		}
		if !seen[n] {
			seen[n] = true
			pcrs = append(pcrs, n)
		}
	}
	if len(pcrs) > maxPCRs {
		return nil, fmt.Errorf("at most %d PCRs", maxPCRs)
	}
	if !slices.ContainsFunc(pcrs, func(n int) bool { return n <= 7 }) {
		return nil, errors.New("bind to at least one of PCRs 0 to 7 (the firmware's measurements of the boot)")
	}
	return pcrs, nil
}

func maskOf(pcrs []int) uint32 {
	var m uint32
	for _, p := range pcrs {
		m |= 1 << uint(p)
	}
	return m
}

func selection(mask uint32) tpm2.TPMLPCRSelection {
	var pcrs []uint
	for i := uint(0); i < 24; i++ {
		if mask&(1<<i) != 0 {
			pcrs = append(pcrs, i)
		}
	}
	return tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{
		{Hash: tpm2.TPMAlgSHA256, PCRSelect: tpm2.PCClientCompatible.PCRs(pcrs...)},
	}}
}

// primary recreates the storage root key (deterministic from the owner
// seed); the caller flushes it.
type primary struct {
	handle tpm2.TPMHandle
	name   tpm2.TPM2BName
	pub    tpm2.TPMTPublic
}

func createPrimary(t transport.TPM) (*primary, error) {
	rsp, err := tpm2.CreatePrimary{PrimaryHandle: tpm2.TPMRHOwner, InPublic: tpm2.New2B(tpm2.ECCSRKTemplate)}.Execute(t)
	if err != nil {
		return nil, fmt.Errorf("tpmseal: create the storage primary key: %w", err)
	}
	pub, err := rsp.OutPublic.Contents()
	if err != nil {
		flush(t, rsp.ObjectHandle)
		return nil, fmt.Errorf("tpmseal: storage primary key: %w", err)
	}
	return &primary{handle: rsp.ObjectHandle, name: rsp.Name, pub: *pub}, nil
}

func flush(t transport.TPM, h tpm2.TPMHandle) {
	_, _ = tpm2.FlushContext{FlushHandle: h}.Execute(t)
}

// policyDigest is the PolicyPCR digest over the PCRs' current values.
func policyDigest(t transport.TPM, mask uint32) ([]byte, error) {
	sel := selection(mask)
	rsp, err := tpm2.PCRRead{PCRSelectionIn: sel}.Execute(t)
	if err != nil {
		return nil, fmt.Errorf("tpmseal: read PCRs: %w", err)
	}
	want := 0
	for m := mask; m != 0; m &= m - 1 {
		want++
	}
	if len(rsp.PCRValues.Digests) != want {
		return nil, fmt.Errorf("tpmseal: the TPM has no SHA-256 value for some of the chosen PCRs")
	}
	h := sha256.New()
	for _, d := range rsp.PCRValues.Digests {
		h.Write(d.Buffer)
	}
	calc, err := tpm2.NewPolicyCalculator(tpm2.TPMAlgSHA256)
	if err != nil {
		return nil, err
	}
	pol := tpm2.PolicyPCR{PcrDigest: tpm2.TPM2BDigest{Buffer: h.Sum(nil)}, Pcrs: sel}
	if err := pol.Update(calc); err != nil {
		return nil, err
	}
	return calc.Hash().Digest, nil
}

// Store seals secret (at most 128 bytes) to the TPM, bound to s.PCRs as
// they are now, and replaces the blob file. The caller wipes secret.
func (s *Sealer) Store(secret []byte) error {
	if len(s.PCRs) == 0 || len(s.PCRs) > maxPCRs {
		return fmt.Errorf("tpmseal: choose 1 to %d PCRs", maxPCRs)
	}
	t, err := Open(s.Device)
	if err != nil {
		return err
	}
	defer t.Close()
	p, err := createPrimary(t)
	if err != nil {
		return err
	}
	defer flush(t, p.handle)
	mask := maskOf(s.PCRs)
	policy, err := policyDigest(t, mask)
	if err != nil {
		return err
	}
	rsp, err := tpm2.Create{
		ParentHandle: tpm2.AuthHandle{Handle: p.handle, Name: p.name,
			Auth: tpm2.HMAC(tpm2.TPMAlgSHA256, 16, tpm2.AESEncryption(128, tpm2.EncryptIn), tpm2.Salted(p.handle, p.pub))},
		InSensitive: tpm2.TPM2BSensitiveCreate{Sensitive: &tpm2.TPMSSensitiveCreate{
			Data: tpm2.NewTPMUSensitiveCreate(&tpm2.TPM2BSensitiveData{Buffer: secret}),
		}},
		InPublic: tpm2.New2B(tpm2.TPMTPublic{
			Type:             tpm2.TPMAlgKeyedHash,
			NameAlg:          tpm2.TPMAlgSHA256,
			ObjectAttributes: tpm2.TPMAObject{FixedTPM: true, FixedParent: true, NoDA: true},
			AuthPolicy:       tpm2.TPM2BDigest{Buffer: policy},
		}),
	}.Execute(t)
	if err != nil {
		return fmt.Errorf("tpmseal: seal: %w", err)
	}
	return writeFile(s.File, Encode(mask, rsp.OutPublic, rsp.OutPrivate))
}

// Forget removes the blob file, so that nothing sealed here opens the
// vault until a new Store (a person sealed the vault on purpose).
func (s *Sealer) Forget() error {
	err := os.Remove(s.File)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// Load unseals the secret from the blob file. The caller wipes it.
func (s *Sealer) Load() ([]byte, error) {
	b, err := os.ReadFile(s.File)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoBlob
	}
	if err != nil {
		return nil, fmt.Errorf("tpmseal: %w", err)
	}
	mask, pub, priv, err := Decode(b)
	if err != nil {
		return nil, err
	}
	t, err := Open(s.Device)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	p, err := createPrimary(t)
	if err != nil {
		return nil, err
	}
	defer flush(t, p.handle)
	obj, err := tpm2.Load{
		ParentHandle: tpm2.AuthHandle{Handle: p.handle, Name: p.name, Auth: tpm2.PasswordAuth(nil)},
		InPrivate:    priv, InPublic: pub,
	}.Execute(t)
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrBlob, err)
	}
	defer flush(t, obj.ObjectHandle)
	return unseal(t, p, obj.ObjectHandle, obj.Name, mask)
}

func unseal(t transport.TPM, p *primary, h tpm2.TPMHandle, name tpm2.TPM2BName, mask uint32) ([]byte, error) {
	sess, closeSess, err := tpm2.PolicySession(t, tpm2.TPMAlgSHA256, 16,
		tpm2.Salted(p.handle, p.pub), tpm2.AESEncryption(128, tpm2.EncryptOut))
	if err != nil {
		return nil, fmt.Errorf("tpmseal: policy session: %w", err)
	}
	defer func() { _ = closeSess() }()
	// An empty digest makes the TPM use the PCRs' current values; the
	// object's policy then matches only if they are the sealed ones.
	if _, err := (tpm2.PolicyPCR{PolicySession: sess.Handle(), Pcrs: selection(mask)}).Execute(t); err != nil {
		return nil, fmt.Errorf("tpmseal: PolicyPCR: %w", err)
	}
	rsp, err := tpm2.Unseal{ItemHandle: tpm2.AuthHandle{Handle: h, Name: name, Auth: sess}}.Execute(t)
	if errors.Is(err, tpm2.TPMRCPolicyFail) {
		return nil, ErrPolicy
	}
	if err != nil {
		return nil, fmt.Errorf("tpmseal: unseal: %w", err)
	}
	out := append([]byte(nil), rsp.OutData.Buffer...)
	clear(rsp.OutData.Buffer)
	return out, nil
}

// writeFile replaces path with b (0600), durably.
func writeFile(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tpm-seal-*")
	if err != nil {
		return fmt.Errorf("tpmseal: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("tpmseal: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("tpmseal: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("tpmseal: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("tpmseal: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("tpmseal: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
