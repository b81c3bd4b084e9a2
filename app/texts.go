package app

// The notification texts (R4). They never contain anything about the case,
// no name and never a link; they are the same for every resident, guardian
// and clinic, so nothing personal can leak through them.
const (
	// SMSText is exactly the text of R4 and fits one GSM-7 segment.
	SMSText = "Du har ett meddelande i e-tjänsterna på 1177. Meddelandet finns i inkorgen när du loggat in på 1177. Obs! Du kan inte svara på detta sms."
	// EmailSubject is the fixed subject of the notification e-mail.
	EmailSubject = "Du har ett meddelande i e-tjänsterna på 1177"
	// EmailBody is the fixed body: the same in substance as the SMS.
	EmailBody = "Hej!\r\n\r\nDu har ett nytt meddelande i e-tjänsterna på 1177. Meddelandet finns i inkorgen när du har loggat in på 1177.\r\n\r\nDet här e-postmeddelandet skickas automatiskt och går inte att svara på.\r\n"
)
