package client

import (
	"errors"
	"net/url"
	"strings"
)

// Why a server address is refused (CheckServerURL). The staff password,
// the tokens and every case travel on this connection: plain HTTP would
// send them in clear, and a user name or password inside the address
// would end up in the database, logs and shell history.
var (
	ErrURLNotHTTPS  = errors.New("client: server URL: scheme is not https")
	ErrURLNoHost    = errors.New("client: server URL: no host")
	ErrURLUserInfo  = errors.New("client: server URL: user name or password in the URL")
	ErrURLMalformed = errors.New("client: server URL: not a plain https://host:port address")
)

// CheckServerURL checks the central server's address a desktop connects
// to (its --server flag, or the address stored at an earlier connect)
// and returns it normalised: https only, a host, no user info, query or
// fragment; surrounding spaces and trailing slashes dropped, the host in
// lower case, so that the same server always reads the same. A path is
// kept (a server behind a reverse proxy). Errors are the ErrURL values,
// never the address itself (it may hold a password); ServerURLMessage
// gives the Swedish text.
func CheckServerURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case err != nil:
		return "", ErrURLMalformed
	case u.Scheme != "https":
		return "", ErrURLNotHTTPS
	case u.User != nil:
		return "", ErrURLUserInfo
	case u.Opaque != "" || u.Hostname() == "":
		return "", ErrURLNoHost
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", ErrURLMalformed
	}
	u.Host = strings.ToLower(u.Host)
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}

// ServerURLMessage is the Swedish text for an error of CheckServerURL
// ("" for nil).
func ServerURLMessage(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrURLNotHTTPS):
		return "Serverns adress måste börja med https:// (till exempel https://server.example.se:8443). " +
			"Utan https skulle lösenord och ärenden skickas okrypterade, så Mottagning ansluter inte."
	case errors.Is(err, ErrURLNoHost):
		return "Serverns adress saknar värdnamn. Ange den som https://värd:port."
	case errors.Is(err, ErrURLUserInfo):
		return "Serverns adress får inte innehålla användarnamn eller lösenord. " +
			"Ange bara https://värd:port; du loggar in i Mottagning."
	}
	return "Serverns adress är inte giltig. Ange den som https://värd:port."
}
