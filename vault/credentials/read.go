// Reading a secret: planned in a read-only transaction, committed as a
// head check and its audit entry, and returned only after that commit.

package credentials

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"strongroom/audit"
	"strongroom/vault/access"
	"strongroom/vault/auditlog"
	"strongroom/vault/barrier"
	"strongroom/vault/storage"
)

// ReadCredential returns a credential's secret to an assignee. The read is
// recorded and committed before the secret is returned; a refusal is
// recorded as denied (an incident) and returns a *access.ForbiddenError. version 0
// means the current one.
func (c *Credentials) ReadCredential(ctx context.Context, req auditlog.Request, p *access.Principal, name string, version int) (*Secret, error) {
	return c.readCredential(ctx, req, p, name, version, "")
}

// readCredential is ReadCredential with purpose ("TOTP code; ") recorded
// in the entry's reason.
//
// An assignee's read is planned in a read-only transaction (find, check,
// decrypt: these run in parallel) and then committed in a write
// transaction that only checks the credential's head is byte for byte the
// one the plan read and appends the entry; the write transactions of
// concurrent reads share one fsync (group commit). If the head changed in
// between, the read is planned again. Reads by grant or break-glass,
// refusals and errors are decided and recorded in one write transaction,
// and so is a read whose head keeps changing.
func (c *Credentials) readCredential(ctx context.Context, req auditlog.Request, p *access.Principal, name string, version int, purpose string) (*Secret, error) {
	var pl *readPlan
	err := c.barrier.Hold(func(h *barrier.Held) error {
		for attempt := 0; attempt < 3; attempt++ {
			err := h.View(ctx, func(tx barrier.Tx) (err error) {
				pl, err = c.planRead(tx, req, p, name, version, purpose)
				return err
			})
			if err != nil {
				return err
			}
			if !pl.fast {
				pl.discard()
				break
			}
			// A stale plan writes nothing and returns nil, so it does not
			// roll back the other writes sharing its commit.
			stale := false
			err = h.Write(ctx, func(tx barrier.Tx) error {
				stale = !tx.Expect(storage.BucketCredentials, []byte(headKey(pl.headID)), pl.head) // the guard
				if stale {
					return nil
				}
				return c.log.Append(tx, req, pl.ev)
			})
			if err == nil && !stale {
				return nil
			}
			pl.discard()
			if err != nil {
				return err
			}
		}
		return h.Write(ctx, func(tx barrier.Tx) (err error) {
			pl.discard() // a retried batch: start again
			if pl, err = c.planRead(tx, req, p, name, version, purpose); err != nil {
				return err
			}
			return c.log.Append(tx, req, pl.ev)
		})
	})
	if err != nil && !errors.Is(err, access.ErrSealed) && !access.IsAnswer(err) && ctx.Err() == nil {
		c.log.NoteFailure(err) // the read's entry was not committed
	}
	if err != nil || pl.result != nil {
		pl.discard()
		if err == nil {
			err = pl.result
		}
		return nil, err
	}
	return pl.sec, nil
}

// readPlan is a read decided in one transaction: the entry to append and,
// for a read that succeeds, the secret.
type readPlan struct {
	ev     auditlog.Event
	result error   // the caller's error (refusal, not found) once ev is committed
	sec    *Secret // nil unless the read succeeds
	// fast: an assignee's read, committed by checking head is unchanged.
	fast   bool
	headID string
	head   []byte // the head record's stored (sealed) bytes
}

func (pl *readPlan) discard() {
	if pl != nil && pl.sec != nil {
		pl.sec.Destroy()
		pl.sec = nil
	}
}

// planRead decides a read of name in tx: who may read, which version, and
// what the entry says.
func (c *Credentials) planRead(tx barrier.Tx, req auditlog.Request, p *access.Principal, name string, version int, purpose string) (*readPlan, error) {
	target := audit.Target{Kind: "credential", Name: name}
	h, err := findCred(tx, name)
	if err != nil {
		return nil, err
	}
	if h == nil {
		return &readPlan{result: notFound("credential", name), ev: auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.CredRead,
			Target: target, Outcome: audit.OutcomeError, Reason: "no such credential"}}, nil
	}
	target.ID, target.Name = h.ID, h.Name
	pl := &readPlan{fast: mayRead(p, h)}
	action, why := audit.CredRead, ""
	if !pl.fast {
		bg, err := c.recovery.BreakGlass(tx, p)
		if err != nil {
			return nil, err
		}
		grant, err := c.activeGrant(tx, p, h.ID)
		if err != nil {
			return nil, err
		}
		denial := "not an assignee and no grant"
		switch {
		case grant != nil:
			why = fmt.Sprintf("grant %s (request %s, approved by %s, until %s); ", grant.ID,
				grant.RequestID, grant.ApprovedBy, grant.Until.Format(time.RFC3339))
		case bg != nil && h.Kind == access.KindAdmin && c.now().Before(bg.Expires):
			action, why = audit.BreakglassRead, "break-glass: "+bg.Reason+"; "
		case bg != nil && h.Kind == access.KindAdmin:
			denial = "not an assignee; the break-glass window ended at " + bg.Expires.Format(time.RFC3339)
		}
		if action == audit.CredRead && grant == nil {
			pl.result = refuse(p, h, name, audit.CredRead)
			pl.ev = auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.CredRead, Target: target, Outcome: audit.OutcomeDenied, Reason: denial}
			return pl, nil
		}
	}
	if h.Kind == access.KindAdmin && !access.Reauthed(p, c.now()) {
		// Asked before anything is read or recorded, like an expired
		// session: the caller may read it, but must confirm who they are.
		return nil, access.ErrReauthNeeded
	}
	ver := h.Version
	if version > 0 {
		ver = version
	}
	var cv credVersion
	ok, err := tx.GetRecord(storage.BucketCredentials, versionKey(h.ID, ver), &cv)
	if err != nil || !ok {
		if err == nil {
			err = notFound("version", strconv.Itoa(ver)+" of "+h.Name)
		}
		return &readPlan{result: err, ev: auditlog.Event{Actor: auditlog.ActorOf(p), Action: audit.CredRead, Target: target,
			Outcome: audit.OutcomeError, Reason: err.Error()}}, nil
	}
	names, err := c.assigneeNames(tx, h)
	if err != nil {
		cv.wipe()
		return nil, err
	}
	info := c.info(h, names)
	info.Version, info.Username, info.URL, info.HasTOTP = cv.Version, cv.Username, cv.URL, len(cv.TOTP) > 0
	info.TOTPWarning = storedTOTPWarning(cv.TOTP)
	pl.sec = newSecret(info, &cv)
	pl.ev = auditlog.Event{Actor: auditlog.ActorOf(p), Action: action, Target: target, Reason: fmt.Sprintf("%s%sversion %d", why, purpose, cv.Version)}
	if pl.fast {
		pl.headID, pl.head = h.ID, tx.Get(storage.BucketCredentials, []byte(headKey(h.ID)))
	}
	return pl, nil
}
