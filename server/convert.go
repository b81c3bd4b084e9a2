package server

import (
	"mottagning/app"
	"mottagning/client"
)

// Conversions from the domain types to the wire types of package client.

func wireCase(c *app.Case) client.Case {
	return client.Case{
		ID: string(c.ID), ClinicID: string(c.ClinicID), ResidentID: string(c.ResidentID), Kind: string(c.Kind),
		EServiceID: string(c.EServiceID), TemplateID: string(c.TemplateID), Subject: c.Subject, Status: string(c.Status),
		AssigneeID: string(c.AssigneeID), StartedBy: string(c.StartedBy), StartedByGuardian: string(c.StartedByGuardian),
		CreatedAt: c.CreatedAt, LastActivity: c.LastActivity, UnreadByStaff: c.UnreadByStaff, ClosedAt: c.ClosedAt,
	}
}

func wireRow(r *app.CaseRow) client.CaseRow {
	out := client.CaseRow{Case: wireCase(&r.Case), ResidentName: r.ResidentName, ReserveNumber: r.ReserveNumber}
	if !r.PNR.IsZero() {
		out.Personnummer = r.PNR.String()
	}
	return out
}

func wireThread(t *app.Thread) client.Thread {
	out := client.Thread{Case: wireCase(&t.Case), Messages: []client.Message{}, Notes: []client.Note{}}
	for _, m := range t.Messages {
		wm := client.Message{ID: string(m.ID), Author: string(m.Author), AuthorID: string(m.AuthorID), At: m.At, Text: m.Text, ReadByResident: m.ReadByResident}
		for _, a := range m.Attachments {
			wm.Attachments = append(wm.Attachments, wireAttachment(a))
		}
		out.Messages = append(out.Messages, wm)
	}
	for _, n := range t.Notes {
		out.Notes = append(out.Notes, client.Note{ID: string(n.ID), StaffID: string(n.StaffID), At: n.At, Text: n.Text})
	}
	return out
}

func wireResidentCase(c *app.Case) client.ResidentCase {
	return client.ResidentCase{
		ID: string(c.ID), ClinicID: string(c.ClinicID), Kind: string(c.Kind), EServiceID: string(c.EServiceID),
		Subject: c.Subject, Status: string(c.Status), StartedBy: string(c.StartedBy), CreatedAt: c.CreatedAt,
		LastActivity: c.LastActivity, Answerable: c.Answerable(),
	}
}

// wireResidentThread leaves out notes (the service already does) and staff
// ids: a resident sees that the clinic wrote, not which account.
func wireResidentThread(t *app.Thread) client.ResidentThread {
	out := client.ResidentThread{Case: wireResidentCase(&t.Case), Messages: []client.ResidentMessage{}}
	for _, m := range t.Messages {
		out.Messages = append(out.Messages, client.ResidentMessage{ID: string(m.ID), Author: string(m.Author), At: m.At, Text: m.Text})
	}
	return out
}

func wireView(v *app.ResidentView) client.ResidentView {
	out := client.ResidentView{
		ID: string(v.ID), ReserveNumber: v.ReserveNumber, Name: v.Name, ProtectedIdentity: v.ProtectedIdentity,
		Deceased: v.Deceased, Age: v.Age, Child: v.Child, Choice: string(v.Choice), Mobile: v.Mobile, Email: v.Email,
		LoginLocked: v.LoginLocked, JournalSealed: v.JournalSealed, Activated: v.Activated,
		Reach: client.Reachability{OK: v.Reach.OK(), Choice: string(v.Reach.Choice), NotifyCount: len(v.Reach.Notify)},
	}
	if !v.PNR.IsZero() {
		out.Personnummer = v.PNR.String()
	}
	if v.Address != nil && !v.ProtectedIdentity {
		out.Address = &client.Address{Street: v.Address.Street, PostalCode: v.Address.PostalCode, City: v.Address.City}
	}
	for _, g := range v.Guardians {
		out.Guardians = append(out.Guardians, client.GuardianView{ID: string(g.ID), Name: g.Name, MayAct: g.MayAct, Blocked: g.Blocked, Notified: g.Notified})
	}
	for _, b := range v.Reach.Blocking {
		out.Reach.Blocking = append(out.Reach.Blocking, client.Reason{Code: string(b), Message: b.Message()})
	}
	for _, f := range v.Reach.Facts {
		out.Reach.Facts = append(out.Reach.Facts, string(f))
	}
	for _, g := range v.Reach.NotifiedGuardians {
		out.Reach.NotifiedGuardians = append(out.Reach.NotifiedGuardians, string(g))
	}
	return out
}

func wireTemplate(t *app.MessageTemplate) client.Template {
	return client.Template{ID: string(t.ID), Name: t.Name, Kind: string(t.Kind), Subject: t.Subject, Body: t.Body, UpdatedAt: t.UpdatedAt}
}

func wireSettings(s app.Settings) client.Settings {
	return client.Settings{Mobile: s.Mobile, Email: s.Email, NotifySMS: s.NotifySMS, NotifyEmail: s.NotifyEmail, ShareWithCare: s.ShareWithCare, SavedAt: s.SavedAt}
}

func wireNotification(n *app.NotificationStatus) client.NotificationStatus {
	return client.NotificationStatus{
		ID: string(n.ID), MessageID: string(n.MessageID), Channel: string(n.Channel), Recipient: string(n.Recipient),
		State: string(n.State), Attempts: n.Attempts, CreatedAt: n.CreatedAt, LastAttempt: n.LastAttempt,
		NextAttempt: n.NextAttempt, DoneAt: n.DoneAt,
	}
}

func wireAttachment(a app.Attachment) client.Attachment {
	return client.Attachment{ID: string(a.ID), Name: app.CleanAttachmentName(a.Name, a.MIME), Type: a.MIME, Size: a.Size}
}
