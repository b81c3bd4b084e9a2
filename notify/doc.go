// Package notify will deliver notifications (SMTP with go-smtp and
// go-sasl, an SMS gateway) behind app's notifier port, with a durable
// outbox dispatcher. It is empty until the notification issue; it exists
// now so the dependency rule of shared/STYLE.md is enforced on it.
package notify
