// Package notify delivers the notifications of the durable outbox: e-mail
// over SMTP (go-smtp, go-sasl) and SMS through a gateway (Kannel's HTTP
// sendsms, or a Swedish provider's HTTP API). The Dispatcher's Serve runs
// where the residents' inboxes live: in the desktop in standalone mode, in
// the central server later; the same code in both.
//
// Texts are app's fixed texts (app.SMSText, app.EmailSubject,
// app.EmailBody): nothing about the case, no name, no link (R4). Errors and
// logs carry notification ids and codes, never an address.
package notify
