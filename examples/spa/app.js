// The SPA example: a frontend on another origin than kakaoauth that signs people in with Kakao.
// It builds Kakao's authorize URL itself (PKCE S256, state, nonce), posts the code it gets back
// to kakaoauth's POST /auth/kakao/token, and then uses both kinds of credentials kakaoauth
// hands out: the cookies with the X-CSRF-Token header (refresh, logout) and the Bearer access
// token (GET /auth/me). No framework and no build step.
"use strict";

(() => {
  const cfg = document.body.dataset; // serverUrl, kakaoAuthUrl, clientId, redirectUri, scope
  const flowKey = "kakaoauth-spa-flow"; // sessionStorage: {state, nonce, verifier} of a login
  const el = (id) => document.getElementById(id);

  // The signed-in state lives in memory only: the access token from the last login or refresh,
  // and the CSRF token from the X-CSRF-Token response header (a page on another origin cannot
  // read kakaoauth's csrfToken cookie).
  let session = null;
  let busy = false;
  let pending = 0; // the timer of an announcement not yet shown

  // base64url encodes bytes without padding (RFC 4648 §5), as PKCE and JWTs use it.
  function base64url(bytes) {
    let s = "";
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // randomValue is n random bytes, base64url: 32 bytes make a 43-character PKCE verifier.
  function randomValue(n) {
    return base64url(crypto.getRandomValues(new Uint8Array(n)));
  }

  // codeChallenge is the S256 challenge of a PKCE verifier (RFC 7636 §4.2).
  async function codeChallenge(verifier) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
    return base64url(new Uint8Array(digest));
  }

  // setBilingual fills node with Korean text followed by its English in a span lang="en".
  function setBilingual(node, ko, en) {
    node.textContent = ko + " ";
    const span = document.createElement("span");
    span.lang = "en";
    span.textContent = en;
    node.append(span);
  }

  // announce puts a result in the status region or an error in the alert region, emptying the
  // other one; the region is emptied first so the same words are announced again.
  function announce(kind, ko, en) {
    const target = kind === "error" ? el("alert") : el("status");
    window.clearTimeout(pending);
    el("status").textContent = "";
    el("alert").textContent = "";
    pending = window.setTimeout(() => setBilingual(target, ko, en), 50);
  }

  // show switches the page between signed in and signed out, sets the h1 and the title to
  // what happened and, when focus is true, moves the focus to the h1 so a screen reader
  // starts there.
  function show(signedIn, ko, en, focus) {
    el("signed-in").hidden = !signedIn;
    el("signed-out").hidden = signedIn;
    const h1 = el("page-heading");
    setBilingual(h1, ko, en);
    document.title = ko + " · " + en + " | kakaoauth SPA";
    if (focus) h1.focus();
  }

  // claimsOf reads the payload of a JWT for display; kakaoauth and the APIs it protects
  // verify the signature, the page only shows what the token says.
  function claimsOf(jwt) {
    try {
      const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(part));
    } catch {
      return {};
    }
  }

  function showUser(user) {
    el("user-nickname").textContent = user.nickname || "";
    if (user.email) {
      el("user-email").textContent = user.email;
    } else {
      setBilingual(el("user-email"), "없음", "none");
    }
    el("user-id").textContent = user.id;
  }

  function showToken(access) {
    const claims = claimsOf(access);
    el("token-jti").textContent = claims.jti || "";
    el("token-exp").textContent = claims.exp ? new Date(claims.exp * 1000).toLocaleString("ko-KR") : "";
  }

  // APIError is a refusal from kakaoauth: its status and its {"error", "error_description"}.
  class APIError extends Error {
    constructor(status, body) {
      super((body && body.error) || "http_" + status);
      this.status = status;
      this.code = (body && body.error) || "";
      this.description = (body && body.error_description) || "";
    }
  }

  // call sends a request to kakaoauth. With bearer it sends the token and no cookies; without,
  // it sends kakaoauth's cookies (credentials: "include") and, with csrf, the X-CSRF-Token
  // header. It returns the response and its JSON body, or throws an APIError.
  async function call(method, path, { json, bearer, csrf } = {}) {
    const headers = { Accept: "application/json" };
    const init = { method, headers, credentials: bearer ? "omit" : "include", cache: "no-store" };
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(json);
    }
    if (bearer) headers.Authorization = "Bearer " + bearer;
    if (csrf) headers["X-CSRF-Token"] = csrf;
    let res;
    try {
      res = await fetch(cfg.serverUrl + path, init);
    } catch {
      throw new APIError(0, {
        error: "network",
        error_description: "kakaoauth(" + cfg.serverUrl + ")에 연결할 수 없습니다. Cannot reach kakaoauth.",
      });
    }
    let body = null;
    if (res.status !== 204) body = await res.json().catch(() => null);
    if (!res.ok) throw new APIError(res.status, body);
    return { res, body };
  }

  // announceError shows a failure in the alert region, with kakaoauth's own description.
  function announceError(what, err) {
    if (!(err instanceof APIError)) {
      announce("error", "오류: " + what.ko + ": " + err, "Error: " + what.en);
      return;
    }
    const detail = (err.description ? err.description + " " : "") + "(" + err.code + (err.status ? ", HTTP " + err.status : "") + ")";
    announce("error", "오류: " + what.ko + ". " + detail, "Error: " + what.en + ".");
  }

  // withBusy runs one request at a time, so a double press sends one request.
  async function withBusy(f) {
    if (busy) return;
    busy = true;
    try {
      await f();
    } finally {
      busy = false;
    }
  }

  // login starts the flow: it keeps a fresh state, nonce and PKCE verifier in sessionStorage
  // (this tab only) and sends the browser to Kakao's authorize endpoint.
  async function login() {
    const flow = { state: randomValue(32), nonce: randomValue(32), verifier: randomValue(32) };
    sessionStorage.setItem(flowKey, JSON.stringify(flow));
    const u = new URL(cfg.kakaoAuthUrl + "/oauth/authorize");
    const q = new URLSearchParams({
      response_type: "code",
      client_id: cfg.clientId,
      redirect_uri: cfg.redirectUri,
      state: flow.state,
      nonce: flow.nonce,
      code_challenge: await codeChallenge(flow.verifier),
      code_challenge_method: "S256",
    });
    if (cfg.scope) q.set("scope", cfg.scope);
    u.search = q.toString();
    window.location.assign(u.toString());
  }

  // finishLogin handles the return from Kakao (?code=…&state=… or ?error=…&state=…): it
  // checks the state against the one this tab stored, removes code and state from the address
  // bar, and trades the code at kakaoauth. A state that does not match is refused and the code
  // is never sent.
  async function finishLogin(params) {
    let flow = null;
    try {
      flow = JSON.parse(sessionStorage.getItem(flowKey) || "null");
    } catch {
      flow = null;
    }
    sessionStorage.removeItem(flowKey);
    window.history.replaceState(null, "", window.location.pathname);

    const state = params.get("state") || "";
    if (!flow || !flow.state || state !== flow.state) {
      show(false, "오류: 로그인 요청을 확인할 수 없습니다", "Error: the login request could not be verified", true);
      announce("error",
        "오류: 돌아온 state 값이 이 탭에서 시작한 로그인과 다릅니다. 로그인을 거부했습니다. 다시 로그인해 주세요.",
        "Error: the state that came back does not match the login started in this tab, so the login was refused. Please log in again.");
      return;
    }
    if (params.has("error")) {
      show(false, "오류: 카카오 로그인을 마치지 못했습니다", "Error: the Kakao login did not finish", true);
      announce("error",
        "오류: 카카오가 로그인을 끝내지 않았습니다 (" + params.get("error") + "). 다시 로그인해 주세요.",
        "Error: Kakao did not complete the login. Please log in again.");
      return;
    }
    try {
      const { res, body } = await call("POST", "/auth/kakao/token", {
        json: { code: params.get("code") || "", redirect_uri: cfg.redirectUri, code_verifier: flow.verifier, nonce: flow.nonce },
      });
      session = { access: body.token.access, csrf: res.headers.get("X-CSRF-Token") || "" };
      showUser(body.user);
      showToken(session.access);
      show(true, "로그인되었습니다", "Signed in", true);
      announce("status",
        (body.created ? "가입하고 로그인했습니다: " : "로그인했습니다: ") + body.user.nickname,
        body.created ? "Registered and signed in." : "Signed in.");
    } catch (err) {
      show(false, "오류: 로그인하지 못했습니다", "Error: the login failed", true);
      announceError({ ko: "kakaoauth가 로그인을 거부했습니다", en: "kakaoauth refused the login" }, err);
    }
  }

  // refresh rotates the tokens with the refresh cookie (no body) and the CSRF header.
  async function refresh() {
    try {
      const { res, body } = await call("POST", "/auth/token/refresh", { csrf: session.csrf });
      session.access = body.token.access;
      session.csrf = res.headers.get("X-CSRF-Token") || session.csrf;
      showToken(session.access);
      announce("status", "새 토큰을 받았습니다. 토큰 ID: " + (claimsOf(session.access).jti || ""), "New tokens issued.");
    } catch (err) {
      announceError({ ko: "토큰을 새로 받지 못했습니다", en: "the refresh failed" }, err);
    }
  }

  // me asks kakaoauth who the access token belongs to, with the Bearer header and no cookies.
  async function me() {
    try {
      const { body } = await call("GET", "/auth/me", { bearer: session.access });
      showUser(body.user);
      announce("status", "Bearer 토큰 확인 성공 (GET /auth/me): " + body.user.nickname, "The Bearer token works.");
    } catch (err) {
      announceError({ ko: "Bearer 토큰으로 내 정보를 가져오지 못했습니다", en: "GET /auth/me with the Bearer token failed" }, err);
    }
  }

  // logout ends the session at kakaoauth (cookies and the CSRF header); kakaoauth clears its
  // cookies, and the page forgets its tokens.
  async function logout() {
    try {
      await call("POST", "/auth/logout", { csrf: session.csrf });
      session = null;
      el("token-jti").textContent = "";
      el("token-exp").textContent = "";
      show(false, "로그아웃되었습니다", "Signed out", true);
      announce("status", "이 기기에서 로그아웃했습니다.", "You have logged out on this device.");
    } catch (err) {
      announceError({ ko: "로그아웃하지 못했습니다", en: "the logout failed" }, err);
    }
  }

  el("login").addEventListener("click", () => withBusy(login));
  el("refresh").addEventListener("click", () => withBusy(refresh));
  el("me").addEventListener("click", () => withBusy(me));
  el("logout").addEventListener("click", () => withBusy(logout));

  const params = new URLSearchParams(window.location.search);
  if (params.has("code") || params.has("error") || params.has("state")) {
    withBusy(() => finishLogin(params));
  }
})();
