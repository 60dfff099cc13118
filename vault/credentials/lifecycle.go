package credentials

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/passwords"
	"strongroom/vault/storage"
)

// A credential's life after creation: a report of suspected compromise
// ("immediately change password if compromise is suspected"), rotation
// (a new version, old ones kept), its history, and restoring an old version.

// MarkCompromised flags a credential until it is rotated and raises an
// incident. Anyone who may read or manage it may report it.
func (c *Credentials) MarkCompromised(ctx context.Context, req auditlog.Request, p *access.Principal, name, reason string) error {
	reason = strings.TrimSpace(reason)
	if len(reason) < 3 || len(reason) > 500 {
		return access.Invalid("reason", "say why compromise is suspected (3 to 500 characters)")
	}
	var result error
	err := c.barrier.Hold(func(h *barrier.Held) error {
		return h.Write(ctx, func(tx barrier.Tx) error {
			result = nil
			h, err := findCred(tx, name)
			if err != nil || h == nil {
				return access.FirstErr(err, notFound("credential", name))
			}
			target := audit.Target{Kind: "credential", ID: h.ID, Name: h.Name}
			if !mayRead(p, h) && !mayManage(p, h.Kind, h) {
				result = refuse(p, h, name, audit.CredCompromised)
				return c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.CredCompromised, Target: target,
					Outcome: audit.OutcomeDenied, Reason: "neither an assignee nor a manager"})
			}
			h.Compromised = &Compromise{Since: c.now(), Reason: reason, By: p.Name}
			if err := putHead(tx, h); err != nil {
				return err
			}
			return c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.CredCompromised, Target: target,
				Reason: reason + "; rotate it now"})
		})
	})
	return access.FirstErr(err, result)
}

// newVersion writes version current+1 of a credential from mutate's change
// to a copy of a base version (0: the current one), for managers only, in
// one transaction with its audit entry.
func (c *Credentials) newVersion(ctx context.Context, req auditlog.Request, p *access.Principal, name string, action audit.Action, base int,
	mutate func(cv *credVersion, h *credHead) (reason string, err error)) (CredentialInfo, error) {
	var info CredentialInfo
	var result error
	err := c.barrier.Hold(func(h *barrier.Held) error {
		return h.Write(ctx, func(tx barrier.Tx) error {
			result = nil
			if err := c.recovery.Routine(tx); err != nil {
				return err
			}
			h, err := findCred(tx, name)
			if err != nil || h == nil {
				return access.FirstErr(err, notFound("credential", name))
			}
			target := audit.Target{Kind: "credential", ID: h.ID, Name: h.Name}
			if !mayManage(p, h.Kind, h) {
				result = refuse(p, h, name, action)
				return c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: action, Target: target,
					Outcome: audit.OutcomeDenied, Reason: fmt.Sprintf("role %s may not manage %s credentials", p.Role, h.Kind)})
			}
			if base == 0 {
				base = h.Version
			}
			var cv credVersion
			if ok, err := tx.GetRecord(storage.BucketCredentials, versionKey(h.ID, base), &cv); err != nil || !ok {
				return access.FirstErr(err, notFound("version", strconv.Itoa(base)+" of "+h.Name))
			}
			defer cv.wipe()
			reason, err := mutate(&cv, h)
			if err != nil {
				return err
			}
			now := c.now()
			cv.Version, cv.Created, cv.CreatedBy = h.Version+1, now, p.Name
			h.Version, h.Username, h.URL, h.Updated = cv.Version, cv.Username, cv.URL, now
			h.setTOTP(cv.TOTP)
			if err := putVersion(tx, h.ID, cv.Version, &cv); err != nil {
				return err
			}
			if err := putHead(tx, h); err != nil {
				return err
			}
			names, _, err := c.userNames(tx)
			if err != nil {
				return err
			}
			info = c.info(h, names)
			return c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: action, Target: target,
				Reason: fmt.Sprintf("%s; now version %d", reason, h.Version)})
		})
	})
	return info, access.FirstErr(err, result)
}

// RotateCredential sets a new password (given, or generated when gen is
// non-nil; the generated one is returned for the caller to set at the
// service and wipe). It clears a compromise flag; old versions are kept.
func (c *Credentials) RotateCredential(ctx context.Context, req auditlog.Request, p *access.Principal, name string, password []byte, gen *passwords.GenOptions) (CredentialInfo, *passwords.Generated, error) {
	var g *passwords.Generated
	if gen != nil {
		var err error
		if g, err = passwords.GeneratePassword(*gen); err != nil {
			return CredentialInfo{}, nil, err
		}
		password = g.Password
	} else if len(password) == 0 || len(password) > 4096 {
		return CredentialInfo{}, nil, access.Invalid("password", "give the new password, or generate one")
	}
	info, err := c.newVersion(ctx, req, p, name, audit.CredRotate, 0, func(cv *credVersion, h *credHead) (string, error) {
		reason := "password rotated"
		if g != nil {
			reason = fmt.Sprintf("password rotated to a generated one (%.1f bits)", g.EntropyBits)
		}
		if h.Compromised != nil {
			reason += "; clears the compromise reported by " + h.Compromised.By
			h.Compromised = nil
		}
		barrier.Wipe(cv.Password)
		cv.Password = append([]byte(nil), password...)
		return reason, nil
	})
	if err != nil && g != nil {
		barrier.Wipe(g.Password)
		g = nil
	}
	return info, g, err
}

// RestoreVersion makes an old version current again, as a new version.
func (c *Credentials) RestoreVersion(ctx context.Context, req auditlog.Request, p *access.Principal, name string, version int) (CredentialInfo, error) {
	if version < 1 {
		return CredentialInfo{}, access.Invalid("version", "give the version to restore")
	}
	return c.newVersion(ctx, req, p, name, audit.CredRestore, version, func(*credVersion, *credHead) (string, error) {
		return fmt.Sprintf("restored version %d", version), nil
	})
}

// VersionInfo describes one stored version, without its secret.
type VersionInfo struct {
	Version   int    `json:"version"`
	Created   string `json:"created"`
	CreatedBy string `json:"created_by"`
	Username  string `json:"username"`
	URL       string `json:"url"`
	HasTOTP   bool   `json:"has_totp"`
	Current   bool   `json:"current"`
}

// CredentialHistory lists every version (newest first) for those who may
// read or manage the credential. It is recorded.
func (c *Credentials) CredentialHistory(ctx context.Context, req auditlog.Request, p *access.Principal, name string) ([]VersionInfo, error) {
	var out []VersionInfo
	var result error
	err := c.barrier.Hold(func(h *barrier.Held) error {
		return h.Write(ctx, func(tx barrier.Tx) error {
			out, result = nil, nil
			h, err := findCred(tx, name)
			if err != nil || h == nil {
				return access.FirstErr(err, notFound("credential", name))
			}
			target := audit.Target{Kind: "credential", ID: h.ID, Name: h.Name}
			if !mayRead(p, h) && !mayManage(p, h.Kind, h) {
				result = refuse(p, h, name, audit.CredHistory)
				return c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.CredHistory, Target: target,
					Outcome: audit.OutcomeDenied, Reason: "neither an assignee nor a manager"})
			}
			for ver := h.Version; ver >= 1; ver-- {
				var cv credVersion
				if ok, err := tx.GetRecord(storage.BucketCredentials, versionKey(h.ID, ver), &cv); err != nil || !ok {
					return access.FirstErr(err, notFound("version", strconv.Itoa(ver)+" of "+h.Name))
				}
				out = append(out, VersionInfo{Version: cv.Version, Created: cv.Created.Format("2006-01-02T15:04:05Z"),
					CreatedBy: cv.CreatedBy, Username: cv.Username, URL: cv.URL, HasTOTP: len(cv.TOTP) > 0, Current: ver == h.Version})
				cv.wipe()
			}
			return c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.CredHistory, Target: target})
		})
	})
	return out, access.FirstErr(err, result)
}

// UndeleteWindow is how long a retired credential can be brought back.
const UndeleteWindow = 90 * 24 * time.Hour

// UndeleteCredential brings back the most recently retired credential of
// that name, with all its versions, within UndeleteWindow.
func (c *Credentials) UndeleteCredential(ctx context.Context, req auditlog.Request, p *access.Principal, name string) (CredentialInfo, error) {
	var info CredentialInfo
	var result error
	err := c.barrier.Hold(func(h *barrier.Held) error {
		return h.Write(ctx, func(tx barrier.Tx) error {
			result = nil
			if err := c.recovery.Routine(tx); err != nil {
				return err
			}
			var h *credHead
			if err := eachHead(tx, func(x *credHead) bool {
				if x.Deleted && access.NameKey(x.Name) == access.NameKey(name) && (h == nil || x.Updated.After(h.Updated)) {
					h = x
				}
				return true
			}); err != nil {
				return err
			}
			if h == nil || !maySee(p, h) {
				if live, err := findCred(tx, name); err != nil || (live != nil && maySee(p, live)) {
					return access.FirstErr(err, access.Invalid("name", "a credential named %q is in use; there is none retired to bring back", name))
				}
				return notFound("retired credential", name)
			}
			target := audit.Target{Kind: "credential", ID: h.ID, Name: h.Name}
			if !mayManage(p, h.Kind, h) {
				result = refuse(p, h, name, audit.CredUndelete)
				return c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.CredUndelete, Target: target,
					Outcome: audit.OutcomeDenied, Reason: fmt.Sprintf("role %s may not manage %s credentials", p.Role, h.Kind)})
			}
			// After the permission check: no live name is confirmed to a
			// caller who may not bring this one back, nor named to one who
			// may not see it.
			if live, err := findCred(tx, name); err != nil || live != nil {
				msg := "a credential named %q is in use; rename or retire it first"
				if live != nil && !maySee(p, live) {
					msg = "the name %q is in use by a credential you cannot see; ask a provider"
				}
				return access.FirstErr(err, access.Recorded(access.Invalid("name", msg, name)))
			}
			// A look-alike made while this one was retired: not two live
			// names drawn the same.
			if sim, err := findSimilar(tx, h.Name); err != nil || sim != nil {
				if err == nil && maySee(p, sim) {
					err = &access.ConfusableError{Field: "name", Kind: "credential", Existing: sim.Name}
				} else if err == nil {
					err = access.Invalid("name", "the name %q cannot be used; a credential you cannot see looks the same", name)
				}
				return access.Recorded(err)
			}
			if c.now().Sub(h.Updated) > UndeleteWindow {
				return access.Invalid("", "%q was retired on %s, more than %d days ago; restore it from a backup", h.Name,
					h.Updated.Format("2 January 2006"), int(UndeleteWindow.Hours()/24))
			}
			h.Deleted, h.Updated = false, c.now()
			if err := putHead(tx, h); err != nil {
				return err
			}
			names, _, err := c.userNames(tx)
			if err != nil {
				return err
			}
			info = c.info(h, names)
			return c.log.Append(tx, req, auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.CredUndelete, Target: target,
				Reason: fmt.Sprintf("brought back with its %d versions", h.Version)})
		})
	})
	return info, access.FirstErr(err, result)
}
