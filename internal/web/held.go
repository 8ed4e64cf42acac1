package web

import "net/url"

// HeldInfo is what kakaoauth holds about a person (the signed-in page's "what we hold"
// section): the profile fields it keeps, the consent items agreed to at Kakao, whether Kakao's
// tokens are kept for the service, and the items the service asks for that the person has not
// agreed to, each with a link to Kakao's additional consent.
type HeldInfo struct {
	Nickname, Email, ProfileImageURL string
	KakaoID                          string
	Agreed                           []string // consent item IDs
	NeedsConsent                     []string // consent item IDs
	TokensKept                       bool
	// ConsentURL is the additional-consent start (GET /auth/kakao/consent); "" shows no links.
	ConsentURL string
	// ReturnTo is where the consent round trip comes back to; default the signed-in page.
	ReturnTo string
}

type heldView struct {
	Fields     []heldField
	Agreed     []string // display names
	Needs      []heldLink
	TokensKept bool
}

type heldField struct{ Name, Value string }

type heldLink struct{ Text, URL string }

// ScopeName is the display name of a Kakao consent item in lang; the ID itself when unknown.
func ScopeName(lang, id string) string {
	key := "scope." + id
	if m := Message(lang, key); m != key && m != "" {
		return m
	}
	return id
}

func (r *Renderer) addHeld(v *view, lang string, p AccountPage) {
	switch p.ConsentOutcome {
	case "granted", "partial", "declined":
		v.Status = Message(lang, "consent."+p.ConsentOutcome)
	}
	h := p.Held
	if h == nil {
		return
	}
	none := Message(lang, "held.none")
	val := func(s string) string {
		if s == "" {
			return none
		}
		return s
	}
	hv := &heldView{TokensKept: h.TokensKept}
	hv.Fields = []heldField{
		{Message(lang, "held.kakao_id"), val(h.KakaoID)},
		{Message(lang, "account.nickname"), val(h.Nickname)},
		{Message(lang, "account.email"), val(h.Email)},
		{Message(lang, "held.profile_image"), val(map[bool]string{true: Message(lang, "held.kept")}[h.ProfileImageURL != ""])},
	}
	for _, a := range h.Agreed {
		hv.Agreed = append(hv.Agreed, ScopeName(lang, a))
	}
	if h.ConsentURL != "" {
		ret := h.ReturnTo
		if ret == "" {
			ret = r.base + "/"
		}
		for _, n := range h.NeedsConsent {
			q := url.Values{"scope": {n}, "return_to": {ret}}
			hv.Needs = append(hv.Needs, heldLink{
				Text: messagef(lang, "held.ask", "item", ScopeName(lang, n)),
				URL:  h.ConsentURL + "?" + q.Encode(),
			})
		}
	}
	v.Account.Held = hv
}
