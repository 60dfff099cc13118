package api

import (
	"net/url"

	"strongroom/api/wire"
	"strongroom/transfer"
	"strongroom/vault"
)

// The vault's result types become wire types here, field for field, so the
// JSON shapes are declared once (in package wire). Where the two structs
// have the same fields a Go conversion does it, which stops compiling if
// either side gains or loses a field; towire_test.go checks that every
// conversion marshals to exactly the bytes the vault type would.

// OneTimeLogin and EnvelopeOut keep their old names for the web pages.
type (
	OneTimeLogin = wire.OneTimeLogin
	EnvelopeOut  = wire.Envelope
)

// each converts a list, keeping nil as nil (JSON null) and empty as [].
func each[T, U any](in []T, f func(T) U) []U {
	if in == nil {
		return nil
	}
	out := make([]U, len(in))
	for i := range in {
		out[i] = f(in[i])
	}
	return out
}

func userOut(u vault.User) wire.User {
	return wire.User{ID: u.ID, Name: u.Name, Role: string(u.Role), Disabled: u.Disabled, MustChange: u.MustChange,
		Locked: u.Locked, Created: u.Created, Expires: u.Expires, Email: u.Email,
		Contractor: u.Contractor, Agreement: u.Agreement, Scope: u.Scope, Completed: u.Completed, Overdue: u.Overdue}
}

func credInfoOut(ci vault.CredentialInfo) wire.CredentialInfo {
	return wire.CredentialInfo{ID: ci.ID, Name: ci.Name, Kind: string(ci.Kind), URL: ci.URL, Username: ci.Username,
		Tags: ci.Tags, Assignees: ci.Assignees, Version: ci.Version, HasTOTP: ci.HasTOTP, TOTPWarning: ci.TOTPWarning, Created: ci.Created,
		Updated: ci.Updated, Compromised: (*wire.Compromise)(ci.Compromised), Access: ci.Access,
		Handover: (*wire.Handover)(ci.Handover)}
}

func offboardOut(r vault.OffboardReport) wire.OffboardReport {
	return wire.OffboardReport{User: r.User, Days: r.Days, SessionsEnded: r.SessionsEnded, GrantsRevoked: r.GrantsRevoked,
		Rotate: each(r.Rotate, func(it vault.RotateItem) wire.RotateItem {
			return wire.RotateItem{Credential: it.Credential, Kind: string(it.Kind), Why: it.Why, Action: it.Action}
		})}
}

func statusOut(st vault.Status) wire.Status {
	return wire.Status{Initialized: st.Initialized, Sealed: st.Sealed, Progress: st.Progress, Threshold: st.Threshold,
		Shares: st.Shares, Generation: st.Generation, VaultID: st.VaultID, Council: st.Council, VerifierKey: st.VerifierKey,
		VerifierKeySource: st.VerifierKeySource, Recovery: (*wire.RecoveryStatus)(st.Recovery)}
}

func versionOut(v vault.VersionInfo) wire.Version { return wire.Version(v) }

func incidentOut(in vault.Incident) wire.Incident { return wire.Incident(in) }

func requestOut(r vault.AccessRequest) wire.AccessRequest { return wire.AccessRequest(r) }

func registerOut(e vault.RegisterEntry) wire.RegisterEntry {
	return wire.RegisterEntry{Credential: e.Credential, Kind: string(e.Kind),
		Holders:  each(e.Holders, func(h vault.Holder) wire.Holder { return wire.Holder(h) }),
		LastUsed: e.LastUsed, LastReviewed: e.LastReviewed, ReviewedBy: e.ReviewedBy, ReviewDue: e.ReviewDue, Compromised: e.Compromised}
}

func importOut(r vault.ImportReport) wire.ImportReport {
	return wire.ImportReport{Format: r.Format, Kind: string(r.Kind), DryRun: r.DryRun, ConvertedFrom: r.ConvertedFrom,
		Imported: each(r.Imported, func(it vault.ImportedItem) wire.ImportedItem { return wire.ImportedItem(it) }),
		Skipped:  each(r.Skipped, func(s transfer.Skipped) wire.Skipped { return wire.Skipped(s) })}
}

// healthOut is the report with each finding's web links: the credential's
// page and its "change the password" form (the page's #change section),
// or, for an account, the People page.
func healthOut(r vault.HealthReport) wire.PasswordHealth {
	findings := func(fs []vault.HealthFinding) []wire.HealthFinding {
		return each(fs, func(f vault.HealthFinding) wire.HealthFinding {
			page := "/ui/creds/" + url.PathEscape(f.Credential)
			return wire.HealthFinding{Credential: f.Credential, Kind: string(f.Kind), Detail: f.Detail, Strength: f.Strength,
				Since: f.Since, Site: f.Site, Action: f.Action, Links: wire.Links{Credential: page, Rotate: page + "#change"}}
		})
	}
	return wire.PasswordHealth{Generated: r.Generated, OlderThanDays: r.OlderThanDays, Checked: r.Checked,
		PersonalLeftOut: r.PersonalLeftOut, WithoutTOTP: r.WithoutTOTP, TOTPNotJudged: r.TOTPNotJudged,
		Reused: each(r.Reused, func(g vault.ReusedPassword) wire.ReusedPassword {
			return wire.ReusedPassword{Credentials: findings(g.Credentials)}
		}),
		Weak: findings(r.Weak), Stale: findings(r.Stale), Compromised: findings(r.Compromised),
		MissingTOTP: findings(r.MissingTOTP), NoURL: findings(r.NoURL),
		AccountsWithoutMFA: each(r.AccountsWithoutMFA, func(a vault.AccountFinding) wire.AccountFinding {
			return wire.AccountFinding{Name: a.Name, Role: string(a.Role), Detail: a.Detail, Action: a.Action,
				Links: wire.Links{People: "/ui/users"}}
		})}
}
