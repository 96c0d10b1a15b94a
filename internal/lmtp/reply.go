package lmtp

import (
	"herald/internal/status"

	"github.com/emersion/go-smtp"
)

// reply turns a classified error into the SMTP error the client sees. The
// client gets generic text; the detail goes to the log.
func reply(err error) *smtp.SMTPError {
	if err == nil {
		return nil
	}
	switch status.KindOf(err) {
	case status.KindUnknownRecipient:
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such list address"}
	case status.KindTooBig:
		return &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4}, Message: "Message too big for this list"}
	case status.KindMalformed:
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Message cannot be accepted: " + err.Error()}
	case status.KindNoSpace:
		return &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 3, 1}, Message: "Insufficient system storage, try again later"}
	}
	return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure, try again later"}
}
