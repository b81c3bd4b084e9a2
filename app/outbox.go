package app

import (
	"context"
	"fmt"
	"time"
)

// NotificationState is where a notification is on its way out.
type NotificationState string

// The states of a notification. A queued one is waiting for its next
// attempt; sent and failed are final.
const (
	NotificationQueued NotificationState = "koad"
	NotificationSent   NotificationState = "skickad"
	NotificationFailed NotificationState = "misslyckad" // permanent, or gave up after the retry period
)

// Label is the Swedish text staff see.
func (s NotificationState) Label() string {
	switch s {
	case NotificationQueued:
		return "Väntar på att skickas"
	case NotificationSent:
		return "Skickad"
	case NotificationFailed:
		return "Kunde inte skickas"
	}
	return string(s)
}

// Valid reports whether s is one of the three states.
func (s NotificationState) Valid() bool {
	return s == NotificationQueued || s == NotificationSent || s == NotificationFailed
}

// Notification is one avisering in the durable outbox: one channel to one
// recipient for one message that entered a resident's inbox. It is written
// in the message's transaction (Thread.Outbox) and then only changed by
// the dispatcher. Address and the fixed text are for the dispatcher; staff
// see a NotificationStatus, never the address.
type Notification struct {
	// ID is derived from the message, the recipient and the channel (see
	// NotificationID), so writing the same message again cannot make a
	// second notification.
	ID          ID
	CaseID      ID
	MessageID   ID
	ClinicID    ID
	ResidentID  ID // whose inbox the message is in
	RecipientID ID // the resident, or a guardian of a child under 13
	Guardian    bool
	Channel     Channel
	Address     string
	State       NotificationState
	// Attempts counts the delivery attempts made so far.
	Attempts    int
	CreatedAt   time.Time
	NextAttempt time.Time // when a queued notification is due
	LastAttempt time.Time
	DoneAt      time.Time // when it was sent or failed
	// LastError is a stable code ("smtp-451", "connection-lost", …), never
	// a server's text: that may quote the address.
	LastError string `json:",omitempty"`
}

// NotificationID is the id of the notification of message msg to recipient
// on channel ch. Ids carry no personal data.
func NotificationID(msg, recipient ID, ch Channel) ID {
	return ID(string(msg) + "." + string(recipient) + "." + string(ch))
}

// Outbox is the port of the durable outbox. Rows are created with their
// message (Thread.Outbox, in the message's transaction); the dispatcher
// reads the due ones and records each attempt.
type Outbox interface {
	// DueNotifications returns up to limit queued notifications on channel
	// ch whose next attempt is at or before now, the longest waiting first,
	// through an index: no scan of sent rows.
	DueNotifications(ctx context.Context, ch Channel, now time.Time, limit int) ([]Notification, error)
	// UpdateNotifications loads each notification of ids, lets fn change
	// it, and writes them all back with their index entries in one
	// transaction. An error from fn aborts without writing anything.
	UpdateNotifications(ctx context.Context, ids []ID, fn func(n *Notification) error) error
	// NotificationsOfCase lists the notifications of one case, oldest first.
	NotificationsOfCase(ctx context.Context, caseID ID) ([]Notification, error)
}

// UpdateNotification is UpdateNotifications for one notification.
func UpdateNotification(ctx context.Context, o Outbox, id ID, fn func(n *Notification) error) error {
	return o.UpdateNotifications(ctx, []ID{id}, fn)
}

// RecipientKind says who a notification went to, for staff.
type RecipientKind string

// Recipient kinds.
const (
	RecipientResident RecipientKind = "invanare"
	RecipientGuardian RecipientKind = "vardnadshavare"
)

// Label is the Swedish text.
func (k RecipientKind) Label() string {
	if k == RecipientGuardian {
		return "Vårdnadshavare"
	}
	return "Invånaren"
}

// NotificationStatus is what staff see of a notification: the state, the
// channel and whether it went to the resident or a guardian. Never the
// address or the text (R14: staff see contact details only when shared, and
// the text is the same fixed one for everyone anyway).
type NotificationStatus struct {
	ID          ID
	MessageID   ID
	Channel     Channel
	Recipient   RecipientKind
	State       NotificationState
	Attempts    int
	CreatedAt   time.Time
	LastAttempt time.Time
	NextAttempt time.Time // zero unless queued
	DoneAt      time.Time
}

// StatusOf is the staff view of n.
func StatusOf(n *Notification) NotificationStatus {
	st := NotificationStatus{
		ID: n.ID, MessageID: n.MessageID, Channel: n.Channel, Recipient: RecipientResident,
		State: n.State, Attempts: n.Attempts, CreatedAt: n.CreatedAt, LastAttempt: n.LastAttempt, DoneAt: n.DoneAt,
	}
	if n.Guardian {
		st.Recipient = RecipientGuardian
	}
	if n.State == NotificationQueued {
		st.NextAttempt = n.NextAttempt
	}
	return st
}

// notificationsFor builds the outbox rows for message m in t's resident's
// inbox, from the targets NotifyTargets chose. They are due at once.
func notificationsFor(t *Thread, m *Message, targets []NotifyTarget, now time.Time) []Notification {
	if len(targets) == 0 {
		return nil
	}
	out := make([]Notification, 0, len(targets))
	seen := make(map[ID]bool, len(targets))
	for _, tg := range targets {
		id := NotificationID(m.ID, tg.RecipientID, tg.Channel)
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, Notification{
			ID: id, CaseID: t.Case.ID, MessageID: m.ID, ClinicID: t.Case.ClinicID, ResidentID: tg.ForResident,
			RecipientID: tg.RecipientID, Guardian: tg.Guardian, Channel: tg.Channel, Address: tg.Address,
			State: NotificationQueued, CreatedAt: now, NextAttempt: now,
		})
	}
	return out
}

// Notifications lists the notifications of a case for staff who may handle
// it: state, channel and recipient kind per notification, never the address
// or the text. It is shown inside an opened case, whose opening OpenCase has
// logged, so it records nothing itself. A store without an outbox (the
// connected desktop: the server sends) gives an empty list.
func (s *CaseService) Notifications(ctx context.Context, sess Session, caseID ID) ([]NotificationStatus, error) {
	c, err := s.store.Case(ctx, caseID)
	if err != nil {
		return nil, fmt.Errorf("notifications of case %s: %w", caseID, err)
	}
	if !mayHandle(sess, c) {
		return nil, forbid("notifications of case", caseID)
	}
	ob, ok := s.store.(Outbox)
	if !ok {
		return nil, nil
	}
	ns, err := ob.NotificationsOfCase(ctx, caseID)
	if err != nil {
		return nil, fmt.Errorf("notifications of case %s: %w", caseID, err)
	}
	out := make([]NotificationStatus, len(ns))
	for i := range ns {
		out[i] = StatusOf(&ns[i])
	}
	return out, nil
}

// TestSender sends the fixed notification text once, outside the outbox:
// "Skicka testavisering". notify implements it over the configured SMTP
// server and SMS gateway.
type TestSender interface {
	SendTest(ctx context.Context, ch Channel, address string) error
}

// NotificationAdmin is the lokal administratör's side of notifications.
type NotificationAdmin struct {
	sender TestSender
}

// NewNotificationAdmin returns the service; sender may be nil when no
// server is configured (TestNotification then says so).
func NewNotificationAdmin(sender TestSender) *NotificationAdmin {
	return &NotificationAdmin{sender: sender}
}

// ErrNotConfigured: no SMTP server or SMS gateway is configured for the channel.
var ErrNotConfigured = fmt.Errorf("notification channel not configured: %w", ErrInvalid)

// TestNotification is "Skicka testavisering": a lokal administratör sends
// the fixed text (app.SMSText, or the fixed e-mail) to an address or number
// they type, to check the configuration. The address is validated first;
// it is neither stored nor logged.
func (a *NotificationAdmin) TestNotification(ctx context.Context, sess Session, ch Channel, address string) error {
	if !sess.Staff.Has(sess.ClinicID, RoleLocalAdmin) {
		return forbid("test notification in clinic", sess.ClinicID)
	}
	addr, err := CheckNotifyAddress(ch, address)
	if err != nil {
		return fmt.Errorf("test notification: %w", err)
	}
	if a.sender == nil {
		return fmt.Errorf("test notification on %s: %w", ch, ErrNotConfigured)
	}
	if err := a.sender.SendTest(ctx, ch, addr); err != nil {
		return fmt.Errorf("test notification on %s: %w", ch, err)
	}
	return nil
}

// CheckNotifyAddress validates an address typed for a test notification
// and returns it in the form to send to, with the same checks as a
// resident's settings (NormalizeEmail, NormalizePhone: E.164).
func CheckNotifyAddress(ch Channel, address string) (string, error) {
	switch ch {
	case ChannelEmail:
		return NormalizeEmail(address)
	case ChannelSMS:
		return NormalizePhone(address)
	}
	return "", fmt.Errorf("channel %q: %w", ch, ErrInvalid)
}
