package bounce

import (
	"regexp"
	"strings"
)

// Microsoft Exchange and Office 365 non-delivery reports, in the languages
// their templates come in. Exchange normally sends them as RFC 3464 DSNs;
// this reads the human part when the report part is missing or unusable
// (gateways, forwarding, old versions). The section from the headline to
// the "Original message headers" holds the recipients and the diagnostic
// ("#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##",
// "Remote Server returned '550 5.1.1 ...'").

// exchangeFailed are headlines of failure reports (Exchange 2003 to
// Office 365; English, German, French, Spanish, Italian, Dutch, Portuguese).
var exchangeFailed = []string{
	"delivery has failed to these recipients or groups",
	"your message did not reach some or all of the intended recipients",
	"the following recipient(s) cannot be reached",
	"the following recipient(s) could not be reached",
	"couldn't be delivered",
	"could not be delivered to",
	"die übermittlung an folgende empfänger oder gruppen ist fehlgeschlagen",
	"die nachricht konnte nicht zugestellt werden",
	"konnte nicht zugestellt werden",
	"ihre nachricht hat einige oder alle empfänger nicht erreicht",
	"folgende empfänger konnten nicht erreicht werden",
	"la remise à ces destinataires ou groupes a échoué",
	"votre message n'a pas pu être remis",
	"votre message n'est pas parvenu à certains ou à l'ensemble des destinataires",
	"impossible de joindre le ou les destinataires suivants",
	"no se pudo entregar a estos destinatarios o grupos",
	"no se pudo entregar el mensaje",
	"su mensaje no llegó a algunos o a ninguno de los destinatarios",
	"no se puede obtener acceso a los siguientes destinatarios",
	"recapito non riuscito per i seguenti destinatari o gruppi",
	"impossibile recapitare il messaggio",
	"bezorging is mislukt voor deze ontvangers of groepen",
	"falha na entrega para estes destinatários ou grupos",
}

// exchangeDelayed are headlines of delay reports.
var exchangeDelayed = []string{
	"delivery is delayed to these recipients or groups",
	"delivery to these recipients or groups is delayed",
	"die zustellung an diese empfänger oder gruppen wurde verzögert",
	"die zustellung an diese empfänger oder gruppen verzögert sich",
	"la remise à ces destinataires ou groupes a été retardée",
	"la remise à ces destinataires ou groupes est retardée",
	"la entrega a estos destinatarios o grupos se ha retrasado",
	"la entrega a estos destinatarios o grupos se retrasó",
	"il recapito ai seguenti destinatari o gruppi è stato ritardato",
	"de bezorging aan deze ontvangers of groepen is vertraagd",
}

// exchangeSkip are lines about the sender and the original message, not
// about a recipient.
var exchangeSkip = []string{
	"from:", "sent:", "subject:", "date:", "cc:", "sender address:", "sender:", "von:", "gesendet:",
	"betreff:", "absender", "de :", "de:", "envoyé", "objet", "expéditeur", "enviado", "asunto",
	"remitente", "mittente", "oggetto", "afzender", "onderwerp", "remetente", "assunto",
	"created date:", "message id:", "generating server:", "receiving server:",
}

// detectExchange recognizes Exchange and Office 365 text reports.
func detectExchange(n *notice) ([]finding, bool) {
	if !n.mailer {
		return nil, false
	}
	final := true
	i := n.phraseLine(0, exchangeFailed...)
	if d := n.phraseLine(0, exchangeDelayed...); d >= 0 && (i < 0 || d < i) {
		i, final = d, false
	}
	if i < 0 {
		return nil, false
	}
	// The headline may itself name the recipient ("Your message to
	// bob@example.net couldn't be delivered."), so it is part of the section.
	start := max(i-1, 0)
	es := addrEntries(n.lines[start:], func(l string) bool {
		t := lower(strings.TrimSpace(l))
		for _, p := range exchangeSkip {
			if strings.HasPrefix(t, p) {
				return true
			}
		}
		return false
	}, exchangeRecipientLine())
	fs := findings(es, n.lines[start:], final)
	return fs, len(fs) > 0
}

// exchangeHeadlineRE matches a headline that names the recipient.
var exchangeHeadlineRE = regexp.MustCompile(`(?i)(your message to|ihre nachricht an|votre message à|su mensaje para|il messaggio per|uw bericht aan)\s+\S+@\S+`)

// exchangeRecipientLine returns a check of whether line l presents addr
// as a recipient: on a line of its own ("addr", "'addr' on DATE"), after a
// display name ("Name (addr)"), in the headline, or in a diagnostic line
// with a status code. An address in running text ("please contact
// helpdesk@...") is not one. The line-wide tests are done once per line.
func exchangeRecipientLine() func(l, addr string) bool {
	var last string
	var lineOK bool
	return func(l, addr string) bool {
		t := strings.Trim(lower(strings.TrimSpace(l)), "'\"<>")
		if strings.HasPrefix(t, addr) || strings.HasSuffix(t, "("+addr+")") || strings.HasSuffix(t, "<"+addr) {
			return true
		}
		if l != last {
			c := scanCodes(l)
			last, lineOK = l, c.perm || c.temp || exchangeHeadlineRE.MatchString(l)
		}
		return lineOK
	}
}
