package audit

// IsIncident reports whether an entry is a security incident under the
// council policies: any refused access ("attempts to access unauthorised
// passwords will be treated as a security incident"), any failed unseal or
// login, any emergency recovery or break-glass access, any credential reported compromised, and any failure to write or verify the log.
func IsIncident(e *Entry) bool {
	switch {
	case e.Outcome == OutcomeDenied:
		return true
	case e.Action == "escrow.recover", e.Action == "breakglass.open", e.Action == "breakglass.read",
		e.Action == "cred.compromised" && e.Outcome == OutcomeOK:
		return true
	case e.Outcome == OutcomeError && (e.Action == "audit.verify" || e.Action == "audit.write"):
		return true
	}
	return false
}
