package credentials

import (
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
