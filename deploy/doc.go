// Package deploy holds kakaoauth's deployment recipe: the Dockerfile at the repository's root,
// compose.yaml (kakaoauth with PostgreSQL), kakaoauth.service (a hardened systemd unit) and
// kakaoauth.env.example (the settings of `kakaoauth serve`). It has no code; its tests check the
// recipe: the static build the Dockerfile runs, the unit with systemd-analyze, and that the files
// agree with each other and with the README's Configuration table.
package deploy
