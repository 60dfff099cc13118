// Package notify tells people and systems what the vault recorded: e-mail
// to the council's officers, signed webhooks, syslog for a SIEM. It owns
// delivery, not the facts: every message is made from audit entries read
// after they committed, through a named subscriber of the log's outbox
// (vault.Subscriber), so
//
//   - nothing here runs inside a transaction, and a slow or failing
//     destination never delays or blocks a read or a write: the vault
//     only appends to its log, and a Runner reads it in its own time;
//   - every entry is delivered at least once, in order: a Runner reads a
//     batch with Next, delivers it, and only then saves its position with
//     Ack; a failure leaves the position where it was and the batch is
//     tried again after a back-off (1s doubling to 5 minutes), and a
//     restart resumes from the saved position (so a batch whose delivery
//     finished just before a crash may be delivered twice);
//   - a destination that refuses one message for good (an SMTP 5xx for
//     one recipient) does not hold back the others: the refusal is counted
//     and logged, and delivery goes on;
//   - failures are counted per destination (Runner.Status) and shown by
//     `strongroom status`, on the web's home page for the provider, and in
//     /metrics.
//
// The provider's daily reminders (Reminders) are the one kind not made
// from entries: they say what state needs attention (credentials flagged
// compromised and not rotated, reviews due, accounts ending), read after
// the fact from the vault on its own behalf, once a day at a fixed UK
// time (ReminderDue), with the day sent saved beside the positions.
//
// Each kind of message (Kinds) is on unless the council (a setting
// stored in the vault) or the server (--mail-off) switches it off.
//
// Messages carry what happened, who, when, the entry's seq and a link to
// the vault, never a secret: audit entries hold none (package audit), and
// nothing else goes into a message. Errors kept for status are fixed
// sentences; the full error goes only to the server's log.
package notify
