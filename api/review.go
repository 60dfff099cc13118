package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"strongroom/api/wire"
	"strongroom/vault"
)

// The annual access review's routes (vault.AnnualReview).

// annualReview is GET /v1/report/access-review/year.
func (s *server) annualReview(c echo.Context) error {
	r, err := s.v.AnnualReview(c.Request().Context(), request(c), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, annualReviewOut(r))
}

// reviewConfirm is POST /v1/report/access-review/confirm.
func (s *server) reviewConfirm(c echo.Context) error {
	var in wire.ReviewConfirmBody
	if err := bind(c, &in); err != nil {
		return err
	}
	if in.Credential == "" {
		return &bodyError{Field: "credential", Msg: "credential is required: the name of the admin or shared login confirmed"}
	}
	if in.Mark == "" || len(in.Mark) > 64 {
		// Required: a confirmation is of the holders the person was shown.
		return &bodyError{Field: "mark", Msg: "mark is required: the short code the review showed for this login (GET the review first)"}
	}
	if err := s.v.ConfirmReview(c.Request().Context(), request(c), principal(c), in.Credential, in.Mark); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// reviewSignoff is POST /v1/report/access-review/signoff.
func (s *server) reviewSignoff(c echo.Context) error {
	so, err := s.v.SignOffReview(c.Request().Context(), request(c), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, signoffOut(so))
}

func signoffOut(s *vault.Signoff) *wire.Signoff {
	if s == nil {
		return nil
	}
	return &wire.Signoff{At: s.At, By: s.By, Confirmed: s.Confirmed, NextDue: s.NextDue}
}

func reviewDueOut(d vault.ReviewDue) wire.ReviewDue {
	return wire.ReviewDue{Status: string(d.Status), DueBy: d.DueBy, Last: signoffOut(d.Last)}
}

func annualReviewOut(r *vault.AnnualReview) wire.AnnualReview {
	return wire.AnnualReview{From: r.From, To: r.To, Due: reviewDueOut(r.Due), Unconfirmed: r.Unconfirmed, MayConfirm: r.MayConfirm,
		Items: each(r.Items, func(it vault.ReviewItem) wire.ReviewItem {
			return wire.ReviewItem{Credential: it.Credential, Kind: string(it.Kind),
				Holders:  each(it.Holders, func(h vault.Holder) wire.Holder { return wire.Holder(h) }),
				LastUsed: it.LastUsed, Compromised: it.Compromised, Mark: it.Mark, Reads: it.Reads, Denials: it.Denials,
				Rotated: it.Rotated, RotatedIsCreation: it.RotatedIsCreation, State: it.State, ConfirmedAt: it.ConfirmedAt,
				ConfirmedBy: it.ConfirmedBy, MayChange: it.MayChange}
		}),
		Overdue: each(r.Overdue, func(o vault.OverdueAccount) wire.OverdueAccount {
			return wire.OverdueAccount{Name: o.Name, Role: string(o.Role), Expires: o.Expires, Holds: o.Holds, Agreement: o.Agreement, Disabled: o.Disabled}
		})}
}
