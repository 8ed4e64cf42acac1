package oidcop_test

import (
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/oidcop"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// TestOIDCUnderBasePath: mounted under /login (KAKAOAUTH_PUBLIC_URL with a path), the issuer,
// every endpoint and the person's side carry the path, and a standard client completes the flow.
func TestOIDCUnderBasePath(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.PublicURL.Path = "/login" }))
	if !strings.HasSuffix(s.BaseURL, "/login") {
		t.Fatalf("base URL %s", s.BaseURL)
	}
	r := newRP(t, s, oidcop.ClientSpec{FirstParty: true})
	if !strings.HasPrefix(r.provider.Endpoint().TokenURL, s.BaseURL+"/oauth2/") {
		t.Errorf("token endpoint %s", r.provider.Endpoint().TokenURL)
	}
	v := oauth2.GenerateVerifier()
	loc, _ := r.authorize(oauth2.S256ChallengeOption(v))
	tok, err := r.conf.Exchange(t.Context(), r.code(loc), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	idt, err := r.provider.Verifier(&oidc.Config{ClientID: r.id}).Verify(t.Context(), tok.Extra("id_token").(string))
	if err != nil || idt.Issuer != s.BaseURL {
		t.Fatalf("ID token under the base path: %v, iss %v", err, idt)
	}
	if ui, err := r.provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tok)); err != nil || ui.Subject != idt.Subject {
		t.Errorf("userinfo: %v %v", ui, err)
	}
}
