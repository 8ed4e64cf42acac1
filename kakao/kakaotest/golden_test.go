package kakaotest_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// Documented samples of kakao-api.md (placeholders kept as strings), used for field names and
// JSON types. "equal": the emulator answers exactly these fields; "subset": every field the
// emulator answers is documented here with the same type.
var docSamples = map[string]struct {
	sample string
	mode   string
}{
	"token": {`{"token_type":"bearer","access_token":"${ACCESS_TOKEN}","id_token":"${ID_TOKEN}","expires_in":7199,
		"refresh_token":"${REFRESH_TOKEN}","refresh_token_expires_in":86399,"scope":"profile_image openid profile_nickname"}`, "equal"},
	"refresh": {`{"access_token":"${ACCESS_TOKEN}","token_type":"bearer","refresh_token":"${REFRESH_TOKEN}",
		"refresh_token_expires_in":5184000,"expires_in":43199,"id_token":"${ID_TOKEN}"}`, "subset"},
	"discovery": {`{"issuer":"https://kauth.kakao.com","authorization_endpoint":"https://kauth.kakao.com/oauth/authorize",
		"token_endpoint":"https://kauth.kakao.com/oauth/token","userinfo_endpoint":"https://kapi.kakao.com/v1/oidc/userinfo",
		"jwks_uri":"https://kauth.kakao.com/.well-known/jwks.json","token_endpoint_auth_methods_supported":["client_secret_post"],
		"subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"],
		"request_uri_parameter_supported":false,"response_types_supported":["code"],"response_modes_supported":["query"],
		"grant_types_supported":["authorization_code","refresh_token"],"code_challenge_methods_supported":["S256"],
		"claims_supported":["iss","aud","sub","auth_time","exp","iat","nonce","nickname","picture","email"]}`, "equal"},
	"jwks": {`{"keys":[{"kid":"3f96980381e451efad0d2ddd30e3d3","kty":"RSA","alg":"RS256","use":"sig","n":"q8zZ0b_MNaLd6Ny8","e":"AQAB"}]}`, "equal"},
	"me_full": {`{"id":123456789,"connected_at":"2022-04-11T01:45:28Z","kakao_account":{
		"profile_nickname_needs_agreement":false,"profile_image_needs_agreement":false,
		"profile":{"nickname":"홍길동","thumbnail_image_url":"http://yyy.kakao.com/.../img_110x110.jpg",
		"profile_image_url":"http://yyy.kakao.com/dn/.../img_640x640.jpg","is_default_image":false,"is_default_nickname":false},
		"name_needs_agreement":false,"name":"홍길동","email_needs_agreement":false,"is_email_valid":true,"is_email_verified":true,
		"email":"sample@sample.com","age_range_needs_agreement":false,"age_range":"20~29","birthyear_needs_agreement":false,
		"birthyear":"2002","birthday_needs_agreement":false,"birthday":"1130","birthday_type":"SOLAR","is_leap_month":false,
		"gender_needs_agreement":false,"gender":"female","phone_number_needs_agreement":false,"phone_number":"+82 010-1234-5678",
		"ci_needs_agreement":false,"ci":"${CI}","ci_authenticated_at":"2019-03-11T11:25:22Z"},
		"properties":{"${CUSTOM_PROPERTY_KEY}":"${CUSTOM_PROPERTY_VALUE}"},"for_partner":{"uuid":"${UUID}"}}`, "subset"},
	"me_minimal": {`{"id":123456789,"connected_at":"2022-04-11T01:45:28Z","kakao_account":{
		"profile_nickname_needs_agreement":false,"profile":{"nickname":"홍길동"}}}`, "minimal"},
	"access_token_info": {`{"id":123456789,"expires_in":7199,"app_id":1234}`, "equal"},
	"error_kauth":       {`{"error":"invalid_grant","error_description":"authorization code not found for code=xxxx","error_code":"KOE320"}`, "equal"},
	"error_kapi":        {`{"msg":"this access token does not exist","code":-401}`, "equal"},
	"id_token_payload": {`{"aud":"${APP_KEY}","sub":"${USER_ID}","auth_time":1661967952,"iss":"https://kauth.kakao.com",
		"exp":1661967972,"iat":1661967952,"nonce":"${NONCE}","nickname":"JordyTest","picture":"http://yyy.kakao.com/.../img_110x110.jpg",
		"email":"jordy@kakao.com"}`, "equal"},
	"userinfo": {`{"sub":"123456789","name":"홍길동","nickname":"홍길동","picture":"${IMAGE_PATH}","email":"sample@sample.com",
		"email_verified":true,"gender":"MALE","birthdate":"2002-11-30","phone_number":"+82 00-0000-0000","phone_number_verified":true}`, "subset"},
	"scopes": {`{"id":123456789,"scopes":[{"id":"profile","display_name":"Profile Info(nickname/profile image)","type":"PRIVACY",
		"using":true,"agreed":true,"revocable":false}]}`, "equal"},
}

// jsonTypes maps each field path to its JSON type ("integer" and "float" told apart).
func jsonTypes(t *testing.T, raw []byte) map[string]string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	out := map[string]string{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if path != "" {
				out[path] = "object"
			}
			for k, e := range x {
				if strings.HasPrefix(k, "${") { // placeholder keys (custom properties)
					k = "*"
				}
				walk(strings.TrimPrefix(path+"."+k, "."), e)
			}
		case []any:
			out[path] = "array"
			for _, e := range x {
				walk(path+"[]", e)
			}
		case string:
			out[path] = "string"
		case bool:
			out[path] = "boolean"
		case json.Number:
			if strings.ContainsAny(x.String(), ".eE") {
				out[path] = "float"
			} else {
				out[path] = "integer"
			}
		case nil:
			out[path] = "null"
		}
	}
	walk("", v)
	return out
}

var tokenLike = regexp.MustCompile(`^(access_token|refresh_token|id_token|kid|n|code)$`)

// normalize replaces random values and the server URL so the golden files are stable.
func normalize(t *testing.T, raw []byte, base string) []byte {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(bytes.ReplaceAll(raw, []byte(base), []byte("http://emulator.test"))))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && tokenLike.MatchString(k) && s != "" {
					x[k] = "<" + k + ">"
				} else {
					x[k] = walk(e)
				}
			}
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
		}
		return v
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(walk(v)); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestGolden_ShapesMatchKakaoDocs(t *testing.T) {
	s, c := newEmu(t)
	got := map[string][]byte{}

	tok := do(t, s, http.MethodPost, "/oauth/token", "", tokenForm(codeViaPage(t, s, userVerified,
		[]string{"profile_nickname", "profile_image", "account_email"})))
	got["token"] = tok.Body
	m := tok.JSON(t)
	at, rt := str(m, "access_token"), str(m, "refresh_token")
	// The page flow sends no nonce; take the ID-token payload from a code with a nonce.
	code, _ := s.IssueCode(userVerified, redirectURI, "nonce-golden", "")
	m2 := do(t, s, http.MethodPost, "/oauth/token", "", tokenForm(code)).JSON(t)
	got["id_token_payload"] = mustJWTPayload(t, str(m2, "id_token"))
	got["discovery"] = do(t, s, http.MethodGet, "/.well-known/openid-configuration", "", nil).Body
	got["jwks"] = do(t, s, http.MethodGet, "/.well-known/jwks.json", "", nil).Body
	got["me_full"] = do(t, s, http.MethodGet, "/v2/user/me", "Bearer "+at, nil).Body
	got["access_token_info"] = do(t, s, http.MethodGet, "/v1/user/access_token_info", "Bearer "+at, nil).Body
	got["userinfo"] = do(t, s, http.MethodGet, "/v1/oidc/userinfo", "Bearer "+at, nil).Body
	got["scopes"] = do(t, s, http.MethodGet, "/v2/user/scopes", "Bearer "+at, nil).Body
	got["error_kauth"] = do(t, s, http.MethodPost, "/oauth/token", "", tokenForm("xxxx")).Body
	got["error_kapi"] = do(t, s, http.MethodGet, "/v2/user/me", "Bearer nope", nil).Body
	got["refresh"] = do(t, s, http.MethodPost, "/oauth/token", "", refreshForm(rt)).Body

	minApp := testApp()
	minApp.ConsentItems = []kakaotest.ConsentItem{{ID: "profile_nickname", Required: true}}
	ms := kakaotest.NewServer(t, minApp, kakaotest.DefaultUsers())
	ms.SetNow(c.Now)
	mat := str(exchange(t, ms, userVerified), "access_token")
	got["me_minimal"] = do(t, ms, http.MethodGet, "/v2/user/me", "Bearer "+mat, nil).Body

	names := make([]string, 0, len(docSamples))
	for name := range docSamples {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			body, ok := got[name]
			if !ok {
				t.Fatal("no response captured")
			}
			doc := docSamples[name]
			gotTypes, docTypes := jsonTypes(t, body), jsonTypes(t, []byte(doc.sample))
			for path, typ := range gotTypes {
				if dt, ok := docTypes[path]; !ok {
					t.Errorf("field %q is not in Kakao's sample", path)
				} else if dt != typ {
					t.Errorf("field %q is %s, Kakao's sample has %s", path, typ, dt)
				}
			}
			if doc.mode == "equal" || doc.mode == "minimal" {
				for path := range docTypes {
					if _, ok := gotTypes[path]; !ok {
						t.Errorf("documented field %q missing", path)
					}
				}
			}
			file := filepath.Join("testdata", name+".golden.json")
			norm := normalize(t, body, s.URL)
			if ms.URL != s.URL {
				norm = bytes.ReplaceAll(norm, []byte(ms.URL), []byte("http://emulator.test"))
			}
			if *update {
				if err := os.WriteFile(file, norm, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if diff := cmp.Diff(string(want), string(norm)); diff != "" {
				t.Errorf("%s mismatch (-want +got):\n%s", file, diff)
			}
		})
	}
}

func mustJWTPayload(t *testing.T, raw string) []byte {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", raw)
	}
	b, err := base64URL(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return b
}
