package credentials

import (
	"strongroom/audit"
	"strongroom/vault/access"
)

// facts is what the rules need of h, for the caller p.
func facts(p *access.Principal, h *credHead) access.Credential {
	return access.Credential{Kind: h.Kind, Owner: h.Owner, Assigned: h.assigned(p.UserID)}
}

// mayManage: create, update or delete a credential of kind (h is nil when
// creating).
func mayManage(p *access.Principal, kind access.Kind, h *credHead) bool {
	if h == nil {
		return access.MayManage(p, kind, nil)
	}
	c := facts(p, h)
	return access.MayManage(p, kind, &c)
}

func mayRead(p *access.Principal, h *credHead) bool { return access.MayRead(p, facts(p, h)) }

func maySee(p *access.Principal, h *credHead) bool { return access.MaySee(p, facts(p, h)) }

func mayBeAssigned(u *access.Person) bool { return access.MayBeAssigned(u.Role, u.Disabled) }

func mayApprove(p *access.Principal) bool { return access.MayApprove(p) }

// refuse is the answer to p's refused action on h, asked for by name: a
// caller who may not even see that h exists gets exactly the answer a
// name with no credential gets, so a refusal never confirms a name (the
// attempt is still recorded as denied, naming h).
func refuse(p *access.Principal, h *credHead, name string, action audit.Action) error {
	if !maySee(p, h) {
		return notFound("credential", name)
	}
	return &access.ForbiddenError{Action: action, Target: h.Name}
}
