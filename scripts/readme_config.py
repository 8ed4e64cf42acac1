#!/usr/bin/env python3
"""Regenerates the README's configuration table from the settings table in cmd/kakaoauth/config.go.

Each row of `settings` is a keyed literal starting with `Name: "KAKAOAUTH_..."`; the string
fields Default, DevDefault, Required, Derived, DevDerived and Meaning make the README row. A
value is shown as code, a derived one (worked out at start-up) as its description, "required"
when `serve` needs it, and "—" when there is none. TestReadmeListsEverySetting checks the result.
"""
import pathlib
import re

root = pathlib.Path(__file__).resolve().parent.parent
src = (root / "cmd/kakaoauth/config.go").read_text()
block = src[src.index("var settings = []setting{"):]
block = block[: block.index("\n}\n")]
chunks = re.split(r'\bName:\s*"', block)[1:]

GO_STRING = r'"((?:[^"\\]|\\.)*)"'


def field(chunk, key):
    m = re.search(r"\b" + key + r":\s*" + GO_STRING, chunk)
    return m.group(1).replace('\\"', '"').replace("\\\\", "\\") if m else ""


def cell(value, *descriptions):
    if value:
        return "`" + value + "`"
    return next((d for d in descriptions if d), "—")


table = "| Variable | `serve` default | `dev` default | Meaning |\n|---|---|---|---|\n"
for chunk in chunks:
    name = chunk[: chunk.index('"')]
    serve = cell(field(chunk, "Default"), "required" if re.search(r"\bRequired:", chunk) else "", field(chunk, "Derived"))
    dev = cell(field(chunk, "DevDefault"), field(chunk, "DevDerived"))
    table += f"| `{name}` | {serve} | {dev} | {field(chunk, 'Meaning')} |\n"
p = root / "README.md"
s = p.read_text()
start = s.index("| Variable | `serve` default")
end = s.index("\n\n", start)
p.write_text(s[:start] + table.strip() + s[end:])
print(len(chunks), "settings")
