// Listing credentials: pages in name order through the name index.

package credentials

import (
	"context"
	"strings"
	"strongroom/vault/access"
	"strongroom/vault/barrier"
	"time"
)

// ListOptions pages and filters a list of credentials.
type ListOptions struct {
	// After: only names that sort after this one (case-insensitive), for
	// the next page; "" from the start.
	After string
	// Limit caps the page; 0 lists everything.
	Limit int
	// Query keeps credentials whose name, user name, URL or a tag contains
	// it (case-insensitive).
	Query string
	// Name keeps only the credential of this name.
	Name string
}

// ListCredentials lists what the caller may see, without secrets, in name
// order; more says a further page exists (ask again with After set to the
// last name).
//
// It walks the sorted name index, not the store, and reads each head
// through the view cache, so a page costs the same at 1,000 and at
// 100,000 credentials when the caller may see most of them; a caller who
// may see few (a member) costs a pass over the index.
func (c *Credentials) ListCredentials(ctx context.Context, p *access.Principal, opt ListOptions) (out []CredentialInfo, more bool, err error) {
	q := strings.ToLower(strings.TrimSpace(opt.Query))
	err = c.barrier.Hold(func(h *barrier.Held) error {
		return h.View(ctx, func(tx barrier.Tx) error {
			if err := ensureNames(tx); err != nil {
				return err
			}
			// Grantees and the chairman in break-glass see what they may
			// read for now, marked so.
			now, granted := c.now(), map[string]time.Time{}
			if err := eachGrant(tx, func(g *Grant) error {
				if g.UserID == p.UserID && g.active(now) && g.Until.After(granted[g.CredID]) {
					granted[g.CredID] = g.Until
				}
				return nil
			}); err != nil {
				return err
			}
			bg, err := c.recovery.BreakGlass(tx, p)
			if err != nil {
				return err
			}
			// Candidates come from the sorted index in chunks, so a page
			// does not copy the whole index.
			chunk := max(256, 2*opt.Limit)
			if opt.Limit == 0 {
				chunk = 0
			}
			cursor, done := opt.After, false
			next := func() []nameID {
				if done {
					return nil
				}
				if opt.Name != "" {
					done = true
					if id, _ := namesOf(tx).lookup(opt.Name); id != "" {
						return []nameID{{access.NameKey(opt.Name), id}}
					}
					return nil
				}
				ids := namesOf(tx).after(cursor, chunk)
				if len(ids) == 0 || chunk == 0 || len(ids) < chunk {
					done = true
				}
				if len(ids) > 0 {
					cursor = ids[len(ids)-1].lower
				}
				return ids
			}
		scan:
			for candidates := next(); len(candidates) > 0; candidates = next() {
				for _, cand := range candidates {
					h, ok, err := getHead(tx, cand.id)
					if err != nil {
						return err
					}
					if !ok || h.Deleted || access.NameKey(h.Name) != cand.lower {
						continue // a stale hint: the write that made it failed
					}
					via := ""
					if until, ok := granted[h.ID]; ok && !h.assigned(p.UserID) {
						via = "grant until " + until.Format(time.RFC3339)
					} else if bg != nil && h.Kind == access.KindAdmin && now.Before(bg.Expires) && !h.assigned(p.UserID) {
						via = "break-glass until " + bg.Expires.Format(time.RFC3339)
					}
					if !maySee(p, h) && via == "" {
						continue
					}
					if q != "" && !strings.Contains(strings.ToLower(strings.Join(append([]string{h.Name, h.Username, h.URL}, h.Tags...), "\x00")), q) {
						continue
					}
					if opt.Limit > 0 && len(out) == opt.Limit {
						more = true
						break scan
					}
					names, err := c.assigneeNames(tx, h)
					if err != nil {
						return err
					}
					info := c.info(h, names)
					info.Access = via
					out = append(out, info)
				}
			}
			return nil
		})
	})
	return out, more, err
}
