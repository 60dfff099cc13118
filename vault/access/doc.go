// Package access is the vocabulary every part of the vault shares: who
// the caller is (Principal, Role), what kind of thing a credential is
// (Kind), the access rules (MayManage, MayRead, MaySee, MayBeAssigned,
// MayReadLog, MayApprove), and the answers a request can get (the
// sentinel and typed errors: an invalid input naming its field, a refusal
// naming the action, a name not found or in use, a conflict), and the name
// rule every record's name follows (names.go: PRECIS stored form, a
// case-blind comparison key, look-alikes and mixed scripts refused).
//
// It guarantees that a rule is a pure function of the caller and the few
// facts it names, so the same rule answers every client (API, web, CLI),
// and that every error's text names records and failures, never secret
// content or the value of an input, so it is safe to show a client.
package access
