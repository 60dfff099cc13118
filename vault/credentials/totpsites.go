// Which sites offer a TOTP second factor, for the password health report:
// a short list built in, matched on the registrable domain of the web
// address in the register. Nothing is fetched: the vault never reaches
// out to the sites it keeps logins for.

package credentials

import (
	"net"
	"net/url"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// totpSites are well-known services that let an account turn on a TOTP
// authenticator app (RFC 6238), by registrable domain, with the name the
// report gives the service. The list is not exhaustive: a site not on it
// is counted as not judged, never reported as lacking one. Services that
// offer only their own app, an SMS or an e-mail code (Apple, for one) are
// left out, since the vault could not keep their second factor anyway.
var totpSites = map[string]string{
	"facebook.com": "Facebook", "fb.com": "Facebook", "instagram.com": "Instagram", "meta.com": "Meta",
	"x.com": "X (Twitter)", "twitter.com": "X (Twitter)", "linkedin.com": "LinkedIn", "tiktok.com": "TikTok",
	"pinterest.com": "Pinterest", "reddit.com": "Reddit", "discord.com": "Discord",
	"google.com": "Google", "google.co.uk": "Google", "gmail.com": "Google", "youtube.com": "YouTube (Google)",
	"microsoft.com": "Microsoft", "microsoftonline.com": "Microsoft", "microsoft365.com": "Microsoft",
	"office.com": "Microsoft", "office365.com": "Microsoft", "outlook.com": "Microsoft", "live.com": "Microsoft",
	"hotmail.com": "Microsoft", "azure.com": "Microsoft",
	"yahoo.com": "Yahoo", "zoho.com": "Zoho", "zoho.eu": "Zoho", "proton.me": "Proton",
	"github.com": "GitHub", "gitlab.com": "GitLab",
	"amazon.com": "Amazon", "amazon.co.uk": "Amazon", "paypal.com": "PayPal", "stripe.com": "Stripe",
	"dropbox.com": "Dropbox", "slack.com": "Slack", "zoom.us": "Zoom", "canva.com": "Canva",
	"mailchimp.com": "Mailchimp", "hootsuite.com": "Hootsuite", "xero.com": "Xero",
	"wordpress.com": "WordPress.com", "squarespace.com": "Squarespace", "wix.com": "Wix",
	"godaddy.com": "GoDaddy", "123-reg.co.uk": "123 Reg", "ionos.co.uk": "IONOS", "ionos.com": "IONOS",
	"namecheap.com": "Namecheap", "cloudflare.com": "Cloudflare",
}

// siteJudgement is what the report can say of a credential's web address
// and TOTP.
type siteJudgement int

const (
	siteNoURL      siteJudgement = iota // no web address to judge by
	siteUnknown                         // an address the vault cannot read as a site on the internet
	siteNotListed                       // a site not on the built-in list: not judged
	siteOffersTOTP                      // a listed site: it offers TOTP
)

// judgeSite reads a register URL ("https://www.facebook.com/page",
// "facebook.com", "login.microsoftonline.com") as its registrable domain
// (the public suffix list, built into golang.org/x/net) and says whether
// the site is known to offer TOTP, and its name if so.
func judgeSite(raw string) (siteJudgement, string) {
	if strings.TrimSpace(raw) == "" {
		return siteNoURL, ""
	}
	domain := registrableDomain(raw)
	if domain == "" {
		return siteUnknown, ""
	}
	if name, ok := totpSites[domain]; ok {
		return siteOffersTOTP, name
	}
	return siteNotListed, ""
}

// registrableDomain is the registrable domain of a register URL, with or
// without its scheme; "" for an address that names no site on the
// internet (an IP address, a single-label host, a bare public suffix).
func registrableDomain(raw string) string {
	raw = strings.TrimSpace(raw)
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "" || net.ParseIP(host) != nil || !strings.Contains(host, ".") {
		return ""
	}
	domain, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return ""
	}
	return domain
}

// siteWord is the site's own name in a URL ("facebook" in
// https://www.facebook.com/page), a word a password should not lean on.
func siteWord(raw string) string {
	word, _, _ := strings.Cut(registrableDomain(raw), ".")
	return word
}
