package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"strongroom/api/wire"
	"strongroom/vault"
)

// pathName reads a name from the path. Echo routes on the raw (escaped)
// path when one exists, so the parameter is unescaped here.
func pathName(c echo.Context) (string, error) {
	n := c.Param("name")
	if c.Request().URL.RawPath == "" {
		return n, nil
	}
	u, err := url.PathUnescape(n)
	if err != nil {
		return "", errBadRequest("malformed name in path")
	}
	return u, nil
}

func (s *server) listUsers(c echo.Context) error {
	users, err := s.v.ListUsers(c.Request().Context(), request(c), principal(c))
	if err != nil {
		return err
	}
	if users == nil {
		users = []vault.User{}
	}
	return c.JSON(http.StatusOK, each(users, userOut))
}

func (s *server) createUser(c echo.Context) error {
	var in wire.UserRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	role, err := vault.ParseRole(in.Role)
	if err != nil {
		return err
	}
	np := vault.NewPerson{Name: in.Name, Role: role, Expires: in.Expires, Email: in.Email}
	switch {
	case in.Contractor:
		np.Contract = &vault.Contract{Agreement: in.Agreement, Scope: in.Scope}
	case in.Agreement != "":
		return &bodyError{Field: "agreement", Msg: "an agreement is for a contractor's account (\"contractor\": true)"}
	case in.Scope != nil:
		return &bodyError{Field: "scope", Msg: "a scope is for a contractor's account (\"contractor\": true)"}
	}
	otl, err := s.v.CreatePerson(c.Request().Context(), request(c), principal(c), np)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, wire.OneTimeLogin{Name: otl.Name, Role: string(role), Password: otl.Password, TOTPURI: otl.TOTPURI})
}

func (s *server) setEmail(c echo.Context) error {
	name, err := pathName(c)
	if err != nil {
		return err
	}
	var in wire.EmailRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := s.v.SetEmail(c.Request().Context(), request(c), principal(c), name, in.Email); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *server) disableUser(c echo.Context) error {
	name, err := pathName(c)
	if err != nil {
		return err
	}
	if err := s.v.DisableUser(c.Request().Context(), request(c), principal(c), name); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *server) offboardUser(c echo.Context) error {
	name, err := pathName(c)
	if err != nil {
		return err
	}
	days, err := queryInt(c, "days")
	if err != nil {
		return err
	}
	rep, err := s.v.Offboard(c.Request().Context(), request(c), principal(c), name, days)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, offboardOut(*rep))
}

// completeUser answers POST /v1/users/{name}/complete: a contractor's
// work completed.
func (s *server) completeUser(c echo.Context) error {
	name, err := pathName(c)
	if err != nil {
		return err
	}
	rep, err := s.v.CompleteContractor(c.Request().Context(), request(c), principal(c), name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, offboardOut(*rep))
}

// A list answers at most listPage credentials unless ?limit= says
// otherwise (up to maxListPage); a Link header names the next page.
const (
	listPage    = 1000
	maxListPage = 5000
)

// listCreds answers GET /v1/creds[?after=NAME&limit=N&q=TEXT].
func (s *server) listCreds(c echo.Context) error {
	limit, err := queryInt(c, "limit")
	if err != nil {
		return err
	}
	if limit == 0 {
		limit = listPage
	}
	if limit < 1 || limit > maxListPage {
		return errBadRequest(fmt.Sprintf("limit must be 1 to %d", maxListPage))
	}
	after := c.QueryParam("after")
	q := c.QueryParam("q")
	for _, v := range []string{after, q} {
		if len(v) > 200 || !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return errBadRequest("after and q must be valid UTF-8 of at most 200 bytes")
		}
	}
	list, more, err := s.v.ListCredentials(c.Request().Context(), principal(c), vault.ListOptions{After: after, Limit: limit, Query: q})
	if err != nil {
		return err
	}
	if list == nil {
		list = []vault.CredentialInfo{}
	}
	if more { // RFC 8288: the next page
		next := url.Values{"after": {list[len(list)-1].Name}, "limit": {strconv.Itoa(limit)}}
		if q != "" {
			next.Set("q", q)
		}
		c.Response().Header().Set("Link", "</v1/creds?"+next.Encode()+`>; rel="next"`)
	}
	return c.JSON(http.StatusOK, each(list, credInfoOut))
}

func (s *server) putCred(c echo.Context) error {
	var in wire.CredentialRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	defer in.TOTP.Wipe()
	info, created, err := s.v.PutCredential(c.Request().Context(), request(c), principal(c), vault.CredentialInput{
		Name: in.Name, Kind: in.Kind, URL: in.URL, Username: in.Username, Password: in.Password,
		TOTP: string(in.TOTP), Notes: in.Notes, Tags: in.Tags, Assignees: in.Assignees, CreateOnly: in.CreateOnly})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, credInfoOut(info))
}

// readCred returns a secret. It is a GET (no body) but it writes an audit
// entry, committed before the secret is sent.
func (s *server) readCred(c echo.Context) error {
	name, err := pathName(c)
	if err != nil {
		return err
	}
	ver, err := queryInt(c, "version")
	if err != nil {
		return err
	}
	sec, err := s.v.ReadCredential(c.Request().Context(), request(c), principal(c), name, ver)
	if err != nil {
		return err
	}
	defer sec.Destroy()
	body, err := wire.Credential{CredentialInfo: credInfoOut(sec.CredentialInfo),
		Password: sec.Password(), TOTPURI: sec.TOTPURI(), Notes: sec.Notes()}.AppendJSON(nil)
	if err != nil {
		return err
	}
	defer wipeBytes(body)
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
}

func (s *server) deleteCred(c echo.Context) error {
	name, err := pathName(c)
	if err != nil {
		return err
	}
	if err := s.v.DeleteCredential(c.Request().Context(), request(c), principal(c), name); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *server) credTOTP(c echo.Context) error {
	name, err := pathName(c)
	if err != nil {
		return err
	}
	code, err := s.v.CredentialTOTP(c.Request().Context(), request(c), principal(c), name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.TOTPCode(code))
}
