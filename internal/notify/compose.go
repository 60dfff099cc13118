package notify

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"
	_ "time/tzdata" // Europe/London on machines without a zoneinfo database

	"strongroom/audit"
	"strongroom/vault"
)

// Kind is one kind of message. Each is on unless switched off: by the
// council (`strongroom notify set KIND off`, stored in the vault) or by
// the server (`server --mail-off`); a kind either switches off is not
// sent (Composer.IsOff).
type Kind string

// The kinds of message.
const (
	// KindIncidents: every incident (audit.IsIncident) to the clerks and
	// the providers, grouped: one message per batch.
	KindIncidents Kind = "incidents"
	// KindRequests: each new access request to those who may decide it.
	KindRequests Kind = "requests"
	// KindDecisions: a request's decision to the person who asked.
	KindDecisions Kind = "decisions"
	// KindSeal: an emergency recovery, a re-key, an envelope check to the
	// chairman and the providers.
	KindSeal Kind = "seal"
	// KindBackup: a scheduled backup that failed, to the providers.
	KindBackup Kind = "backup"
	// KindHandovers: each login handed over to the council (cred
	// handover), to the active clerks, who confirm receiving it.
	KindHandovers Kind = "handovers"
)

// kindAlarm is what no switch silences: the incidents that say the vault
// itself or its log may be under attack (isAlarm), sent on their own
// when incident mail is switched off, and every change to the switches
// themselves, so nobody can quietly stop the clerk hearing of incidents.
// It is not in Kinds: nobody can switch it off.
const kindAlarm Kind = "alarm"

// isAlarm says whether an incident is one no switch silences: the
// database changed outside the vault, the log failing verification or
// a write, an emergency recovery, break-glass.
func isAlarm(e *audit.Entry) bool {
	switch audit.KindOf(e) {
	case audit.IncidentTampered, audit.IncidentVerifyFailure, audit.IncidentWriteFailure, audit.IncidentRecovery, audit.IncidentBreakGlass:
		return true
	}
	return false
}

// Kinds lists every kind of message that can be switched off.
var Kinds = []Kind{KindIncidents, KindRequests, KindDecisions, KindSeal, KindDigest, KindBackup,
	KindCompromised, KindReviews, KindContractors, KindHandovers}

// KindList is Kinds as people read it: "incidents, requests, … and contractors".
func KindList() string {
	var b strings.Builder
	for i, k := range Kinds {
		switch {
		case i == len(Kinds)-1:
			b.WriteString(" and ")
		case i > 0:
			b.WriteString(", ")
		}
		b.WriteString(string(k))
	}
	return b.String()
}

// ParseKind reads one kind's name.
func ParseKind(s string) (Kind, error) {
	if !slices.Contains(Kinds, Kind(s)) {
		return "", errors.New("notify: the kinds of message are " + KindList())
	}
	return Kind(s), nil
}

// ParseKinds reads a comma-separated list of kinds ("" is none).
func ParseKinds(s string) ([]Kind, error) {
	var out []Kind
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		k, err := ParseKind(f)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

// London is the time zone of every time in a message.
var London = mustLondon()

func mustLondon() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic("notify: no Europe/London in the embedded tzdata: " + err.Error())
	}
	return loc
}

// UKTime is how a message shows a time: "Tuesday 3 March 2026 at 14:05:09
// (UK time)", in Europe/London.
func UKTime(t time.Time) string {
	return t.In(London).Format("Monday 2 January 2006 at 15:04:05") + " (UK time)"
}

// Message is one e-mail to one person.
type Message struct {
	// Key names the message within its batch (kind, seqs, recipient), so
	// that a retry of the batch does not send it again.
	Key     string
	To      vault.Contact
	Subject string
	Text    string
	HTML    string
	// Attachments are files sent with the message (the digest's
	// checkpoint).
	Attachments []Attachment
}

// Attachment is a file sent with a message.
type Attachment struct {
	Name string
	Data []byte
}

// Composer turns a batch of entries into messages.
type Composer struct {
	Council string // "": "your council"
	BaseURL string // the vault's address as people reach it, no trailing /
	Off     []Kind // kinds the server switched off (--mail-off)
	// CouncilOff is the kinds the council switched off (stored in the
	// vault), as last read while unsealed.
	CouncilOff []Kind
}

// IsOff says whether messages of kind k are not sent: the council or the
// server switched it off.
func (c *Composer) IsOff(k Kind) bool {
	return slices.Contains(c.Off, k) || slices.Contains(c.CouncilOff, k)
}

// Facts are what a batch's messages need to know of the vault beyond
// the entries: for each new request's entry (by seq) the account ids of
// those who may decide it (vault.Deciders), and for each decision's the
// requester's account id and the approver's reason (vault.Requester).
type Facts struct {
	Deciders  map[uint64][]string
	Requester map[uint64]string
	Reason    map[uint64]string
}

// item is one entry as a message shows it.
type item struct {
	Seq                          uint64
	What, Who, Target, When, Why string
}

func itemOf(e *audit.Entry) item {
	who := e.Actor.Name
	if who == "" {
		who = "someone not signed in"
	}
	if e.Actor.Role != "" {
		who += " (" + e.Actor.Role + ")"
	}
	what := string(e.Action)
	if audit.IsIncident(e) {
		what = string(audit.KindOf(e))
	}
	target := e.Target.Kind
	if e.Target.Name != "" {
		target += " “" + e.Target.Name + "”"
	}
	return item{Seq: e.Seq, What: what, Who: who, Target: target, When: UKTime(e.Time), Why: e.Reason}
}

// letter is what the templates fill in: audit entries (Items), or
// lines of a list (Lines: the reminders).
type letter struct {
	Council, Intro, Link, LinkText, Footer string
	Items                                  []item
	Lines                                  []string
}

const noSecret = "This message carries no password or other secret. Sign in to the vault to see more."

// Compose returns the messages a batch makes for people, given everyone's
// contact details and the batch's facts. People without an address, or
// whose account has ended, get none.
func (c *Composer) Compose(batch []*audit.Entry, people []vault.Contact, facts Facts) ([]Message, error) {
	var out []Message
	add := func(k Kind, to []vault.Contact, entries []*audit.Entry, subject, intro, path, linkText string) error {
		if len(entries) == 0 || c.IsOff(k) {
			return nil
		}
		l := letter{Council: c.council(), Intro: intro, Link: c.BaseURL + path, LinkText: linkText, Footer: noSecret}
		for _, e := range entries {
			l.Items = append(l.Items, itemOf(e))
		}
		text, html, err := render(l)
		if err != nil {
			return err
		}
		for _, p := range to {
			key := fmt.Sprintf("%s/%d-%d/%s", k, entries[0].Seq, entries[len(entries)-1].Seq, p.ID)
			out = append(out, Message{Key: key, To: p, Subject: subject, Text: text, HTML: html})
		}
		return nil
	}
	var incidents, seal, backups, copies, settings []*audit.Entry
	for _, e := range batch {
		if audit.IsIncident(e) {
			incidents = append(incidents, e)
		}
		switch {
		case e.Action == audit.SysMailSetting && e.Outcome == audit.OutcomeOK:
			settings = append(settings, e)
		case e.Action == audit.BackupCreate && e.Outcome == audit.OutcomeError:
			backups = append(backups, e)
		case e.Action == audit.BackupCopy && e.Outcome == audit.OutcomeError:
			copies = append(copies, e)
		case e.Outcome != audit.OutcomeOK:
		case e.Action == audit.EscrowRecover || e.Action == audit.EscrowRekey || e.Action == audit.EscrowCheck:
			seal = append(seal, e)
		case e.Action == audit.RequestCreate:
			deciders := facts.Deciders[e.Seq]
			to := filter(people, func(p vault.Contact) bool { return slices.Contains(deciders, p.ID) })
			if err := add(KindRequests, to, []*audit.Entry{e}, "Strongroom: "+e.Actor.Name+" asks for access to "+e.Target.Name,
				e.Actor.Name+" has asked for time-limited access. Please decide the request in the vault.", "/ui/requests", "Decide the request"); err != nil {
				return nil, err
			}
		case e.Action == audit.CredHandover:
			clerks := filter(people, func(p vault.Contact) bool { return p.Role == vault.RoleClerk })
			if err := add(KindHandovers, clerks, []*audit.Entry{e}, "Strongroom: "+e.Actor.Name+" has given the council the login for "+e.Target.Name,
				e.Actor.Name+" has handed over the login for "+e.Target.Name+". It is stored in the vault for you (and for them while they remain); nobody else saw the password. Please check it and confirm that you received it.",
				"/ui/home", "Confirm you received it"); err != nil {
				return nil, err
			}
		case e.Action == audit.RequestApprove || e.Action == audit.RequestDeny:
			requester := facts.Requester[e.Seq]
			to := filter(people, func(p vault.Contact) bool { return requester != "" && p.ID == requester })
			verb := map[bool]string{true: "approved", false: "refused"}[e.Action == audit.RequestApprove]
			intro := e.Actor.Name + " has " + verb + " your request for access to " + e.Target.Name + "."
			if why := facts.Reason[e.Seq]; why != "" {
				intro += " Their reason: “" + why + "”."
			}
			if err := add(KindDecisions, to, []*audit.Entry{e}, "Strongroom: your request for "+e.Target.Name+" was "+verb,
				intro, "/ui/requests", "See your requests"); err != nil {
				return nil, err
			}
		}
	}
	incidentKind := KindIncidents
	if c.IsOff(KindIncidents) { // the alarms go all the same
		incidents, incidentKind = slices.DeleteFunc(incidents, func(e *audit.Entry) bool { return !isAlarm(e) }), kindAlarm
	}
	subject := "Strongroom: " + string(audit.KindOf(first(incidents))) + " at " + c.council()
	if len(incidents) > 1 {
		subject = fmt.Sprintf("Strongroom: %d security incidents at %s", len(incidents), c.council())
	}
	officers := filter(people, func(p vault.Contact) bool { return p.Role == vault.RoleClerk || p.Role == vault.RoleProvider })
	if err := add(incidentKind, officers, incidents, subject,
		"The vault has recorded what council policy treats as a security incident. A suspected incident must be reported immediately to the Clerk.",
		"/ui/incidents", "See the incidents"); err != nil {
		return nil, err
	}
	if err := c.addSeal(add, people, seal); err != nil {
		return nil, err
	}
	told := filter(people, func(p vault.Contact) bool {
		return p.Role == vault.RoleClerk || p.Role == vault.RoleChairman || p.Role == vault.RoleProvider
	})
	if err := add(kindAlarm, told, settings, "Strongroom: the vault's e-mail settings were changed at "+c.council(),
		"Someone changed which e-mails the vault sends. If incident e-mail is switched off, the clerk is no longer told of denied reads or failed sign-ins by e-mail (the vault still records them, and still e-mails if it finds its database changed or its log damaged). Check that this change was agreed.",
		"/ui/audit", "See the audit log"); err != nil {
		return nil, err
	}
	if err := c.addBackups(add, people, backups, copies); err != nil {
		return nil, err
	}
	return out, nil
}

// addBackups tells the providers of failed scheduled backups and of
// failed off-site copies.
func (c *Composer) addBackups(add addFunc, people []vault.Contact, backups, copies []*audit.Entry) error {
	providers := filter(people, func(p vault.Contact) bool { return p.Role == vault.RoleProvider })
	if err := add(KindBackup, providers, backups, "Strongroom: a scheduled backup failed at "+c.council(),
		"The vault could not write its scheduled backup. Check the backup directory (its disk space and permissions) and the server's log, then take a backup by hand with strongroom backup.",
		"/ui/audit", "See the audit log"); err != nil {
		return err
	}
	return add(KindBackup, providers, copies, "Strongroom: the off-site copy of a backup failed at "+c.council(),
		"The vault wrote its scheduled backup, but the command that copies it off site (server --backup-copy) failed, so the only copy is on the vault's own disk. Check the server's log for the command's output, then copy the newest backup by hand.",
		"/ui/audit", "See the audit log")
}

type addFunc func(k Kind, to []vault.Contact, entries []*audit.Entry, subject, intro, path, linkText string) error

// addSeal tells the chairman and the providers of the batch's changes to
// the envelopes and keys. A provider already told of an entry by the
// incidents message (an emergency recovery is an incident) is not told
// again: they get only the changes that message did not carry.
func (c *Composer) addSeal(add addFunc, people []vault.Contact, seal []*audit.Entry) error {
	intro := "Something happened to the vault's envelopes or its keys that the chairman and the IT provider should know about."
	send := func(to []vault.Contact, es []*audit.Entry) error {
		if len(es) == 0 {
			return nil
		}
		return add(KindSeal, to, es, "Strongroom: "+describeSeal(es)+" at "+c.council(), intro, "/ui/audit", "See the audit log")
	}
	chair := filter(people, func(p vault.Contact) bool { return p.Role == vault.RoleChairman })
	providers := filter(people, func(p vault.Contact) bool { return p.Role == vault.RoleProvider })
	if err := send(chair, seal); err != nil {
		return err
	}
	forProviders := seal
	if !c.IsOff(KindIncidents) {
		forProviders = slices.DeleteFunc(slices.Clone(seal), audit.IsIncident)
	}
	return send(providers, forProviders)
}

func first(es []*audit.Entry) *audit.Entry {
	if len(es) == 0 {
		return &audit.Entry{}
	}
	return es[0]
}

func describeSeal(es []*audit.Entry) string {
	if len(es) > 1 {
		return fmt.Sprintf("%d changes to the envelopes and keys", len(es))
	}
	switch es[0].Action {
	case audit.EscrowRecover:
		return "an emergency recovery"
	case audit.EscrowRekey:
		return "a re-key of the envelopes"
	}
	return "an envelope check"
}

func (c *Composer) council() string {
	if c.Council == "" {
		return "your council"
	}
	return c.Council
}

func filter(people []vault.Contact, keep func(vault.Contact) bool) []vault.Contact {
	var out []vault.Contact
	for _, p := range people {
		if p.Active && p.Email != "" && keep(p) {
			out = append(out, p)
		}
	}
	return out
}

//go:embed message.txt.tmpl
var textSource string

//go:embed message.html.tmpl
var htmlSource string

var (
	textTmpl = texttemplate.Must(texttemplate.New("text").Parse(textSource))
	htmlTmpl = htmltemplate.Must(htmltemplate.New("html").Parse(htmlSource))
)

func render(l letter) (string, string, error) {
	var t, h bytes.Buffer
	if err := textTmpl.Execute(&t, l); err != nil {
		return "", "", err
	}
	if err := htmlTmpl.Execute(&h, l); err != nil {
		return "", "", err
	}
	return t.String(), h.String(), nil
}
