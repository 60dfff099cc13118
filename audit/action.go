package audit

// Action names what an entry records, as "area.verb". The names are part
// of the log's format (SECURITY.md "Actions"): an auditor's tools and
// the incident rules match them, so they are constants, never literals.
type Action string

// The actions.
const (
	AuthLogin  Action = "auth.login"
	AuthLogout Action = "auth.logout"
	AuthReauth Action = "auth.reauth"
	// AuthTokenRefused: a session token was refused (unknown, ended,
	// expired, revoked, or its account disabled or ended); rate limited,
	// the reason carries a count.
	AuthTokenRefused Action = "auth.token_refused"
	// AuthDeviceRequest: a command line asked to sign in as a person by
	// approval in the web interface (RFC 8628); the entry carries its
	// address and user agent, the reason a short id of the request. The
	// same action records a request that expired unused (not an incident).
	AuthDeviceRequest Action = "auth.device_request"
	// AuthDeviceApprove: the person approved a command line's sign-in (the
	// reason names its address and user agent), or, denied, typed a code
	// that matched no request waiting for them.
	AuthDeviceApprove Action = "auth.device_approve"
	// AuthDeviceRefuse: the person refused a command line's sign-in.
	AuthDeviceRefuse  Action = "auth.device_refuse"
	UserCreate        Action = "user.create"
	UserList          Action = "user.list"
	UserDisable       Action = "user.disable"
	UserPassword      Action = "user.password"
	UserResetMFA      Action = "user.reset_mfa"
	UserMFAExempt     Action = "user.mfa_exempt"
	UserRecoveryCodes Action = "user.recovery_codes"
	UserOffboard      Action = "user.offboard"
	// UserComplete: a contractor's work under their agreement was marked
	// completed; the account, its grants and sessions ended at once.
	UserComplete Action = "user.complete"
	// UserEmail: an account's e-mail address was set or removed (the
	// entry never carries the address).
	UserEmail Action = "user.email"
	// UserPasskeyAdd, UserPasskeyRemove: a passkey or security key was
	// registered or removed; the entry names it ("Clerk's iPhone") and
	// never holds its public key.
	UserPasskeyAdd    Action = "user.passkey_add"
	UserPasskeyRemove Action = "user.passkey_remove"
	// AuthPasskeyCloned: a passkey answered with a signature count not
	// above the one stored (a copied authenticator, or a faulty one); the
	// sign-in was refused. AuthPasskeyBackup: a passkey's backup flags
	// changed in a way the standard forbids; refused. Both are incidents.
	AuthPasskeyCloned Action = "auth.passkey_cloned"
	AuthPasskeyBackup Action = "auth.passkey_backup"
	CredCreate        Action = "cred.create"
	CredUpdate        Action = "cred.update"
	CredRead          Action = "cred.read"
	CredDelete        Action = "cred.delete"
	CredUndelete      Action = "cred.undelete"
	CredRotate        Action = "cred.rotate"
	CredRestore       Action = "cred.restore"
	CredHistory       Action = "cred.history"
	CredCompromised   Action = "cred.compromised"
	CredReview        Action = "cred.review"
	CredImport        Action = "cred.import"
	CredExport        Action = "cred.export"
	// CredHandover: a person handed a council account's login over to the
	// council (cred handover): a new shared credential assigned to the
	// clerks and to them; the entry names the depositor and the assignees,
	// never the secret. CredHandoverConfirm: a clerk confirmed receiving it.
	CredHandover        Action = "cred.handover"
	CredHandoverConfirm Action = "cred.handover_confirm"
	GrantRevoke         Action = "grant.revoke"
	RequestCreate       Action = "request.create"
	RequestApprove      Action = "request.approve"
	RequestDeny         Action = "request.deny"
	SysInit             Action = "sys.init"
	SysUnseal           Action = "sys.unseal"
	SysSeal             Action = "sys.seal"
	SysUnsealReset      Action = "sys.unseal_reset"
	SysPassphrase       Action = "sys.passphrase"
	// SysMailSetting: a provider switched one kind of the vault's e-mail
	// on or off for the council; the entry names the kind and the state.
	SysMailSetting Action = "sys.mail_setting"
	EscrowShare    Action = "escrow.share"
	EscrowCheck    Action = "escrow.check"
	EscrowRecover  Action = "escrow.recover"
	EscrowRekey    Action = "escrow.rekey"
	BreakglassOpen Action = "breakglass.open"
	BreakglassRead Action = "breakglass.read"
	AuditVerify    Action = "audit.verify"
	// ReviewConfirm: in the annual access review, the clerk or a provider
	// confirmed that the holders of an admin or shared credential are
	// right; the reason names the holders confirmed.
	ReviewConfirm Action = "review.confirm"
	// ReviewSignoff: the annual access review was signed off, every admin
	// and shared credential confirmed; the reason gives how many and the
	// date the next review is due.
	ReviewSignoff     Action = "review.signoff"
	AuditCheckpoint   Action = "audit.checkpoint"
	AuditExport       Action = "audit.export"
	AuditSubject      Action = "audit.subject"
	AuditView         Action = "audit.view"
	AuditIncidents    Action = "audit.incidents"
	AuditReport       Action = "audit.report"
	AuditPrune        Action = "audit.prune"
	AuditPruneRequest Action = "audit.prune_request"
	AuditWrite        Action = "audit.write"
	BackupCreate      Action = "backup.create"
	// BackupCopy: the server's --backup-copy command ran on a scheduled
	// backup (its file name is the target); an error outcome carries a
	// fixed sentence of the server's, never the command's output.
	BackupCopy         Action = "backup.copy"
	BackupRestore      Action = "backup.restore"
	ExportKDBX         Action = "export.kdbx"
	ReportAccessReview Action = "report.access_review"
	// ReportPasswordHealth: the password health report was read; the
	// entry carries only the age asked for and how many of each finding
	// there were, never which credentials (the log is readable without
	// the keys) and never a password or a hash of one.
	ReportPasswordHealth Action = "report.password_health"
)

// Actions lists every action the vault records.
var Actions = []Action{AuthLogin, AuthLogout, AuthReauth, AuthTokenRefused, AuthDeviceRequest, AuthDeviceApprove, AuthDeviceRefuse, UserCreate, UserList, UserDisable, UserPassword, UserResetMFA, UserMFAExempt, UserRecoveryCodes, UserOffboard, UserComplete, UserEmail, UserPasskeyAdd, UserPasskeyRemove, AuthPasskeyCloned, AuthPasskeyBackup, CredCreate, CredUpdate, CredRead, CredDelete, CredUndelete, CredRotate, CredRestore, CredHistory, CredCompromised, CredReview, CredImport, CredExport, CredHandover, CredHandoverConfirm, GrantRevoke, RequestCreate, RequestApprove, RequestDeny, SysInit, SysUnseal, SysSeal, SysUnsealReset, SysPassphrase, SysMailSetting, EscrowShare, EscrowCheck, EscrowRecover, EscrowRekey, BreakglassOpen, BreakglassRead, AuditVerify, ReviewConfirm, ReviewSignoff, AuditCheckpoint, AuditExport, AuditSubject, AuditView, AuditIncidents, AuditReport, AuditPrune, AuditPruneRequest, AuditWrite, BackupCreate, BackupCopy, BackupRestore, ExportKDBX, ReportAccessReview, ReportPasswordHealth}
