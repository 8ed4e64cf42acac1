package kakaotest

import (
	"bytes"
	"html/template"
	"net/http"
	"slices"
	"strconv"
)

// consentCSSPath is where the consent and error pages' stylesheet is served. The pages have no
// inline style or script, so they work under a CSP of default-src 'self' without JavaScript.
const consentCSSPath = "/_emulator/static/consent.css"

// itemNames are the Korean and English names of the consent items the emulator knows.
var itemNames = map[string][2]string{
	ScopeProfileNickname: {"닉네임", "Nickname"},
	ScopeProfileImage:    {"프로필 사진", "Profile image"},
	ScopeProfile:         {"프로필 정보(닉네임/프로필 사진)", "Profile Info(nickname/profile image)"},
	ScopeAccountEmail:    {"카카오계정(이메일)", "Email"},
	"name":               {"이름", "Name"},
	"gender":             {"성별", "Gender"},
	"age_range":          {"연령대", "Age range"},
	"birthday":           {"생일", "Birthday"},
	"birthyear":          {"출생 연도", "Birth year"},
	"phone_number":       {"카카오계정(전화번호)", "Phone number"},
	"friends":            {"카카오 서비스 내 친구목록", "Friends list in Kakao services"},
	"talk_message":       {"카카오톡 메시지 전송", "Send KakaoTalk messages"},
	ScopeCI:              {"CI(연계정보)", "CI (connecting information)"},
}

func itemName(id string) [2]string {
	if n, ok := itemNames[id]; ok {
		return n
	}
	return [2]string{id, id}
}

// pageShell is the shared page layout: skip link, header, main with one h1, footer.
const pageShell = `{{define "shell"}}<!doctype html>
<html lang="ko">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if .Errors}}오류: {{end}}{{.Title}} | kakaoauth</title>
<link rel="stylesheet" href="` + consentCSSPath + `">
</head>
<body>
<a class="skip-link" href="#page-heading">본문 바로가기 <span lang="en">(Skip to main content)</span></a>
<header class="site-header">
<p class="site-name">카카오 에뮬레이터 <span lang="en">(Kakao emulator)</span> · kakaoauth</p>
</header>
<main id="main">
<h1 id="page-heading" tabindex="-1">{{.Heading}}</h1>
<p class="notice">이 화면은 실제 카카오가 아닌 개발용 에뮬레이터입니다. <span lang="en">This is a development emulator, not Kakao.</span></p>
{{template "content" .}}
</main>
<footer class="site-footer">
<p>개발·테스트 전용입니다. 실제 개인정보를 입력하지 마세요. <span lang="en">For development and tests only; do not enter real personal data.</span></p>
</footer>
</body>
</html>{{end}}`

const consentContent = `{{define "content"}}
{{if .Errors}}<div class="error-summary" id="error-summary" tabindex="-1">
<h2>문제가 있습니다 <span lang="en">(There is a problem)</span></h2>
<ul>{{range .Errors}}<li><a href="#{{.Field}}">{{.Ko}} <span lang="en">{{.En}}</span></a></li>{{end}}</ul>
</div>{{end}}
<p><strong>{{.AppName}}</strong> 앱이 카카오 로그인을 요청합니다. <span lang="en">The app <strong>{{.AppName}}</strong> asks you to log in with Kakao.</span></p>
<form method="post" action="/oauth/authorize">
<input type="hidden" name="request" value="{{.RequestID}}">
<fieldset>
<legend>테스트 사용자 <span lang="en">(Test user)</span></legend>
{{range $i, $u := .Users}}<div class="choice">
<input type="radio" name="user" id="{{if eq $i 0}}user-first{{else}}user-{{$u.ID}}{{end}}" value="{{$u.ID}}"{{if $u.Checked}} checked{{end}}>
<label for="{{if eq $i 0}}user-first{{else}}user-{{$u.ID}}{{end}}">{{$u.Nickname}} <span class="meta">· {{$u.ID}}{{with $u.Email}} · {{.}}{{end}}{{with $u.EmailNote}} · {{.}}{{end}}{{if $u.Linked}} · 연결됨 <span lang="en">(linked)</span>{{end}}</span></label>
</div>
{{end}}<div class="choice">
<input type="radio" name="user" id="{{if .Users}}user-new{{else}}user-first{{end}}" value="new"{{if .NewChecked}} checked{{end}}>
<label for="{{if .Users}}user-new{{else}}user-first{{end}}">새 사용자 만들기 <span lang="en">(Create a new user)</span></label>
</div>
<div class="field">
<label for="nickname">새 사용자 닉네임 <span lang="en">(New user's nickname)</span></label>
<input type="text" id="nickname" name="nickname" value="{{.Nickname}}" autocomplete="off" maxlength="40">
</div>
<div class="field">
<label for="email">새 사용자 이메일, 선택 <span lang="en">(New user's email, optional)</span></label>
<input type="email" id="email" name="email" value="{{.Email}}" autocomplete="off" maxlength="254">
</div>
</fieldset>
<fieldset>
<legend>제공할 정보 <span lang="en">(Information to share)</span></legend>
{{range .Items}}{{if .Required}}<p class="required-item">{{.Ko}} <span lang="en">({{.En}})</span> <strong>(필수 <span lang="en">required</span>)</strong><input type="hidden" name="scope" value="{{.ID}}"></p>
{{else}}<div class="choice">
<input type="checkbox" name="scope" id="scope-{{.ID}}" value="{{.ID}}"{{if .Checked}} checked{{end}}>
<label for="scope-{{.ID}}">{{.Ko}} <span lang="en">({{.En}})</span> (선택 <span lang="en">optional</span>)</label>
</div>
{{end}}{{end}}</fieldset>
{{if .Terms}}<fieldset>
<legend>서비스 약관 <span lang="en">(Service terms)</span></legend>
{{range .Terms}}{{if .Required}}<p class="required-item">{{.Tag}} <strong>(필수 <span lang="en">required</span>)</strong><input type="hidden" name="term" value="{{.Tag}}"></p>
{{else}}<div class="choice">
<input type="checkbox" name="term" id="term-{{.Tag}}" value="{{.Tag}}" checked>
<label for="term-{{.Tag}}">{{.Tag}} (선택 <span lang="en">optional</span>)</label>
</div>
{{end}}{{end}}</fieldset>{{end}}
<div class="actions" id="action">
<button type="submit" name="action" value="agree" class="button button--primary">동의하고 계속하기 <span lang="en">(Agree and continue)</span></button>
<button type="submit" name="action" value="cancel" class="button">취소 <span lang="en">(Cancel)</span></button>
</div>
</form>
{{end}}`

const errorContent = `{{define "content"}}
<p>{{.DetailKo}} <span lang="en">{{.DetailEn}}</span></p>
<p class="support">오류 코드 <span lang="en">(Error code)</span>: <strong>{{.Code}}</strong></p>
{{end}}`

// Templates are parsed once and never changed: immutable shared data.
var (
	consentTmpl = template.Must(template.Must(template.New("consent").Parse(pageShell)).Parse(consentContent))
	errorTmpl   = template.Must(template.Must(template.New("error").Parse(pageShell)).Parse(errorContent))
)

type formError struct{ Field, Ko, En string }

type pageUser struct {
	ID                         int64
	Nickname, Email, EmailNote string
	Linked, Checked            bool
}

type pageItem struct {
	ID, Ko, En        string
	Required, Checked bool
}

type consentPage struct {
	Title, Heading  string
	Errors          []formError
	AppName         string
	RequestID       string
	Users           []pageUser
	NewChecked      bool
	Nickname, Email string
	Items           []pageItem
	Terms           []ServiceTerm
}

func (e *Emulator) renderConsentLocked(w http.ResponseWriter, status int, id string, p *pendingAuth, errs []formError, f consentForm) {
	page := consentPage{
		Title: "동의 화면 (개발용 카카오 에뮬레이터)", Heading: "동의 화면 (개발용 카카오 에뮬레이터)",
		Errors: errs, AppName: e.app.Name, RequestID: id, NewChecked: f.user == "new",
		Nickname: f.nickname, Email: f.email,
	}
	for _, uid := range e.userOrder {
		u := e.users[uid]
		pu := pageUser{ID: u.ID, Nickname: u.Nickname, Email: u.Email, Linked: len(u.Agreed) > 0,
			Checked: f.user == strconv.FormatInt(u.ID, 10)}
		switch {
		case u.Email == "":
			pu.EmailNote = "이메일 없음 (no email)"
		case !u.EmailValid:
			pu.EmailNote = "유효하지 않은 이메일 (invalid email)"
		case !u.EmailVerified:
			pu.EmailNote = "인증되지 않은 이메일 (unverified email)"
		}
		page.Users = append(page.Users, pu)
	}
	for _, it := range p.items {
		ci := appItem(e.app, it)
		n := itemName(it)
		page.Items = append(page.Items, pageItem{ID: it, Ko: n[0], En: n[1],
			Required: ci != nil && ci.Required, Checked: f.fresh || slices.Contains(f.scopes, it)})
	}
	for _, tag := range p.terms {
		for _, t := range e.app.ServiceTerms {
			if t.Tag == tag {
				page.Terms = append(page.Terms, t)
			}
		}
	}
	renderPage(w, status, consentTmpl, page)
}

type errorPageData struct {
	Title, Heading     string
	Errors             []formError // always nil; the title prefix comes from IsError
	Code               string
	DetailKo, DetailEn string
}

// errorPage shows a Kakao-style error page (Kakao shows authorize-step KOE errors on its own
// page rather than redirecting).
func errorPage(w http.ResponseWriter, status int, code, headKo, headEn, detailKo, detailEn string) {
	d := errorPageData{
		Title:   "오류: " + headKo + " (" + code + ")",
		Heading: headKo + " (" + code + ")",
		Code:    code, DetailKo: detailKo, DetailEn: headEn + ": " + detailEn,
	}
	renderPage(w, status, errorTmpl, d)
}

func renderPage(w http.ResponseWriter, status int, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "shell", data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action *; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// consentCSS styles the emulator's pages: contrast at least 4.5:1, a 3px focus ring, 24px
// controls, reflow at 320px, dark mode and forced colours.
const consentCSS = `:root { --bg:#FFFFFF; --text:#0B0C0C; --muted:#595959; --link:#0B57D0; --focus:#0B0C0C;
  --border:#595959; --error:#B3261E; --panel:#F3F2F1; }
@media (prefers-color-scheme: dark) {
  :root { --bg:#121212; --text:#E8EAED; --muted:#BDC1C6; --link:#8AB4F8; --focus:#FFFFFF;
    --border:#BDC1C6; --error:#F28B82; --panel:#1F1F1F; } }
* { box-sizing:border-box; }
body { margin:0; background:var(--bg); color:var(--text); font-family:system-ui, -apple-system,
  "Apple SD Gothic Neo", "Malgun Gothic", "Noto Sans KR", sans-serif; font-size:1rem; line-height:1.5; }
a { color:var(--link); }
:focus-visible { outline:3px solid var(--focus); outline-offset:3px; }
h1[tabindex="-1"]:focus, #error-summary:focus { outline:none; }
.skip-link { position:absolute; left:-10000px; }
.skip-link:focus { left:1rem; top:1rem; padding:.75rem 1rem; background:var(--bg); color:var(--link); }
.site-header, .site-footer, main { max-width:40rem; margin:0 auto; padding:1rem; }
.site-name { font-weight:700; margin:0; }
.site-footer { color:var(--muted); border-top:1px solid var(--border); }
h1 { font-size:1.75rem; line-height:1.3; margin:.5rem 0 1rem; }
.notice { padding:.75rem 1rem; background:var(--panel); border-left:4px solid var(--border); }
fieldset { border:1px solid var(--border); border-radius:8px; margin:0 0 1.5rem; padding:1rem; min-width:0; }
legend { font-weight:700; padding:0 .25rem; }
.choice { display:flex; align-items:flex-start; gap:.75rem; margin:.5rem 0; }
.choice input { width:1.5rem; height:1.5rem; margin:0; flex:none; accent-color:var(--text); }
.choice label { min-height:1.5rem; }
.meta { color:var(--muted); overflow-wrap:anywhere; }
.field { margin:.75rem 0 0 2.25rem; }
.field label { display:block; }
.field input { width:100%; max-width:22rem; min-height:2.75rem; padding:.5rem; font-size:1rem;
  color:var(--text); background:var(--bg); border:2px solid var(--border); border-radius:4px; }
.required-item { margin:.5rem 0; }
.actions { display:flex; flex-wrap:wrap; gap:1rem; }
.button { min-height:2.75rem; min-width:6rem; padding:.5rem 1.25rem; font-size:1rem; font-weight:600;
  border:2px solid var(--border); border-radius:12px; background:var(--bg); color:var(--text); cursor:pointer; }
.button--primary { background:#FEE500; color:#000000; border-color:transparent; }
.error-summary { border:4px solid var(--error); padding:1rem; margin-bottom:1.5rem; }
.error-summary h2 { margin-top:0; font-size:1.25rem; }
.error-summary a { color:var(--error); font-weight:600; }
.support { color:var(--muted); }
@media (forced-colors: active) { .button--primary { border-color:ButtonText; } }
`

func serveConsentCSS(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/css; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write([]byte(consentCSS))
}
