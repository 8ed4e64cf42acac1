#!/usr/bin/env python3
"""Regenerates the README's configuration table from the settings list in cmd/kakaoauth/config.go."""
import re, pathlib
root = pathlib.Path(__file__).resolve().parent.parent
src = (root / "cmd/kakaoauth/config.go").read_text()
rows = re.findall(r'\{"(KAKAOAUTH_[A-Z_]+)", "([^"]*)", "([^"]*)", "((?:[^"\\]|\\.)*)"\}', src)
def cell(v):
    if not v:
        return "—"
    return v.strip("()") if v.startswith("(") else "`" + v + "`"
table = "| Variable | `serve` default | `dev` default | Meaning |\n|---|---|---|---|\n"
for n, d, dd, m in rows:
    table += f"| `{n}` | {cell(d)} | {cell(dd)} | {m} |\n"
p = root / "README.md"
s = p.read_text()
start = s.index("| Variable | `serve` default")
end = s.index("\n\n", start)
p.write_text(s[:start] + table.strip() + s[end:])
print(len(rows), "settings")
