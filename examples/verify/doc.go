// Package verify holds the tests of the token-verification snippets beside it: node/verify.mjs
// (jose), python/verify.py (PyJWT) and java/Verify.java (Nimbus JOSE+JWT, not run here), which
// show a backend in another language how to check a kakaoauth access token. The tests run the
// Node and Python snippets against a real kakaoauth with the Kakao emulator.
//
// The folder also holds the checks that the module's public packages are fit for other modules:
// each has a package overview and doc comments, none shows an internal/ type, and a module of
// its own can import and build them all.
package verify
