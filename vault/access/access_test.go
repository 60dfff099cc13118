package access

import (
	"errors"
	"strings"
	"testing"
)

// Every role against every kind of credential, as owner or not and
// assignee or not: the rules give exactly this table.
func TestRules(t *testing.T) {
	roles := []Role{RoleProvider, RoleClerk, RoleChairman, RoleAuditor, RoleMember}
	type want struct{ manage, read, see bool }
	// key: role, kind, owner?, assigned?
	table := map[[4]string]want{}
	for _, r := range roles {
		for _, k := range []Kind{KindAdmin, KindShared, KindPersonal} {
			for _, owner := range []bool{false, true} {
				for _, assigned := range []bool{false, true} {
					w := want{}
					switch k {
					case KindAdmin:
						w.manage = r == RoleProvider
					case KindShared:
						w.manage = r == RoleProvider || r == RoleClerk
					case KindPersonal:
						w.manage = r != RoleAuditor && owner
					}
					w.read = assigned && r != RoleAuditor
					switch {
					case k == KindPersonal:
						w.see = owner
					case r == RoleProvider || r == RoleAuditor:
						w.see = true
					case r == RoleClerk:
						w.see = k == KindShared || assigned
					default:
						w.see = assigned
					}
					table[[4]string{string(r), string(k), bstr(owner), bstr(assigned)}] = w
				}
			}
		}
	}
	for key, w := range table {
		p := NewPrincipal("me", "Me", Role(key[0]), "s")
		owner := "someone else"
		if key[2] == "y" {
			owner = "me"
		}
		c := Credential{Kind: Kind(key[1]), Owner: owner, Assigned: key[3] == "y"}
		got := want{MayManage(p, c.Kind, &c), MayRead(p, c), MaySee(p, c)}
		if got != w {
			t.Errorf("%v: got %+v, want %+v", key, got, w)
		}
	}
	// Creating: anyone but the auditor may create a personal credential.
	for _, r := range roles {
		if got := MayManage(NewPrincipal("me", "Me", r, ""), KindPersonal, nil); got != (r != RoleAuditor) {
			t.Errorf("%s creating a personal credential: %v", r, got)
		}
	}
	if MayBeAssigned(RoleAuditor, false) || MayBeAssigned(RoleClerk, true) || !MayBeAssigned(RoleMember, false) {
		t.Error("MayBeAssigned")
	}
}

func bstr(b bool) string {
	if b {
		return "y"
	}
	return "n"
}

// Parse errors name the field and the rule, never the value given.
func TestParseErrorsDoNotQuoteInput(t *testing.T) {
	const planted = "planted-value-7f3a"
	_, err1 := ParseRole(planted)
	_, err2 := ParseKind(planted)
	for field, err := range map[string]error{"role": err1, "kind": err2} {
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != field || !errors.Is(err, ErrInvalid) {
			t.Fatalf("%s: %v", field, err)
		}
		if strings.Contains(err.Error(), planted) {
			t.Fatalf("%s: the error quotes the input: %v", field, err)
		}
	}
}

// ParseRole is the one role parser: exactly the five names, and a missing
// or unknown role is an InputError on "role".
func TestParseRole(t *testing.T) {
	for _, s := range []string{"provider", "clerk", "chairman", "auditor", "member"} {
		if r, err := ParseRole(s); err != nil || string(r) != s {
			t.Errorf("%q: %v %v", s, r, err)
		}
	}
	for _, s := range []string{"", "superuser", "Provider", " member", "member\x00"} {
		r, err := ParseRole(s)
		var ie *InputError
		if r != "" || !errors.As(err, &ie) || ie.Field != "role" {
			t.Errorf("%q: %q %v", s, r, err)
		}
	}
}
