"""Fill missing zh_CN translations from a Python dict file: `translate.py DICT.py` (a developer tool)."""

import runpy
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "src" / "tongban" / "locale" / "zh_CN" / "LC_MESSAGES" / "messages.po"

table = runpy.run_path(sys.argv[1])["ZH"]
with PO.open("rb") as fh:
    catalog = read_po(fh)
filled = 0
for message in catalog:
    if message.id and not message.string and message.id in table:
        message.string = table[message.id]
        filled += 1
with PO.open("wb") as fh:
    write_po(fh, catalog, sort_output=True, omit_header=False, include_previous=False, width=100)
missing = [m.id for m in catalog if m.id and not m.string]
print(f"filled {filled}; still missing {len(missing)}")
for m in missing:
    print("  ", repr(m))
